"""The classic optimizer mistakes, each a small patch of module 03's reference solutions.

A mistake is a list of edits `(grade_id, search, replace)` applied to the solution cells of
`modules/03_optimizers/optimizers.ipynb`; `search` must occur exactly once in the cell, so a
change to the reference that makes a patch stale fails loudly instead of silently grading
the reference. `catches` names the test cells that must lose their points.
test_optimizers_grading.py grades all of them in one nbgrader autograde run.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    description: str
    edits: tuple          # ((grade_id, search, replace), ...)
    catches: tuple        # test cells that must score zero


MISTAKES = {
    # --- the base class -------------------------------------------------------------------
    "zero_grad_keeps_stale_values": Mistake(
        "zero_grad(set_to_none=False) leaves the old gradient in place",
        (("optimizer_base", "                    p.grad.data[...] = 0", "                    pass"),),
        ("test_optimizer_base", "test_sgd_trajectories", "test_adam_trajectories", "test_adamw")),
    "zero_grad_first_group_only": Mistake(
        "zero_grad clears only the first parameter group",
        (("optimizer_base", "        for group in self.param_groups:\n            for p in group[\"params\"]:\n                if p.grad is None:",
          "        for group in self.param_groups[:1]:\n            for p in group[\"params\"]:\n                if p.grad is None:"),),
        ("test_optimizer_base", "test_sgd_trajectories", "test_adam_trajectories", "test_adamw")),
    "none_gradient_treated_as_zero": Mistake(
        "a parameter without gradient is stepped with a zero gradient instead of skipped",
        (("optimizer_base", "            if p.grad is not None:\n                _check_grad(p, position)\n                params.append(p)",
          "            if p.grad is None:\n                p.grad = Tensor(np.zeros_like(p.data))\n"
          "            _check_grad(p, position)\n            params.append(p)"),),
        ("test_optimizer_base", "test_sgd_trajectories", "test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "duplicates_accepted": Mistake(
        "a parameter listed twice is accepted (and would be stepped twice)",
        (("optimizer_base", "        if len(set(ids)) != len(ids):", "        if False:"),),
        ("test_optimizer_base",)),
    "state_dict_not_copied": Mistake(
        "state_dict returns the live state arrays: the checkpoint changes as training goes on",
        (("optimizer_base", "{name: _copy_value(value) for name, value in p_state.items()}", "dict(p_state)"),),
        ("test_state_dict",)),
    # --- SGD --------------------------------------------------------------------------------
    "momentum_buffer_starts_at_zero": Mistake(
        "the momentum buffer starts at zero instead of the first gradient (differs with dampening)",
        (("sgd", "                buf = momentum_buffers[i] = np.array(grad, copy=True)",
          "                buf = momentum_buffers[i] = np.zeros_like(grad)\n"
          "                buf += (1 - dampening) * grad"),),
        ("test_sgd_worked_examples", "test_sgd_trajectories")),
    "momentum_buffer_aliases_gradient": Mistake(
        "the first momentum buffer is the gradient array itself, not a copy",
        (("sgd", "np.array(grad, copy=True)", "grad"),),
        ("test_sgd_worked_examples",)),
    "nesterov_uses_old_buffer": Mistake(
        "Nesterov looks ahead with the buffer from before this step's update",
        (("sgd", "            buf = momentum_buffers[i]\n",
          "            buf = momentum_buffers[i]\n            previous = None if buf is None else buf.copy()\n"),
         ("sgd", "grad = grad + momentum * buf if nesterov else buf",
          "grad = grad + momentum * (buf if previous is None else previous) if nesterov else buf")),
        ("test_sgd_worked_examples", "test_sgd_trajectories")),
    "sgd_state_shared_by_shape": Mistake(
        "momentum buffers are keyed by shape, so parameters of the same shape share one",
        (("sgd", 'buffers = [self.state[p].get("momentum_buffer") for p in params]',
          'buffers = [self.state[p.shape].get("momentum_buffer") for p in params]'),
         ("sgd", '                self.state[p]["momentum_buffer"] = buf', '                self.state[p.shape]["momentum_buffer"] = buf')),
        ("test_sgd_worked_examples",)),
    # --- Adam -------------------------------------------------------------------------------
    "no_bias_correction": Mistake(
        "no bias correction",
        (("adam", "exp_avg / (1 - beta1 ** step)", "exp_avg"),
         ("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq")),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "bias_correction_first_moment_only": Mistake(
        "only the first moment is bias-corrected",
        (("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq"),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "bias_correction_off_by_one": Mistake(
        "bias correction with t + 1 instead of t",
        (("adam", "exp_avg / (1 - beta1 ** step)", "exp_avg / (1 - beta1 ** (step + 1))"),
         ("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq / (1 - beta2 ** (step + 1))")),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "eps_inside_sqrt": Mistake(
        "eps added inside the square root",
        (("adam", "np.sqrt(exp_avg_sq_hat) + eps", "np.sqrt(exp_avg_sq_hat + eps)"),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "swapped_betas": Mistake(
        "beta1 and beta2 swapped when unpacking the group's betas",
        (("adam", '        beta1, beta2 = group["betas"]', '        beta2, beta1 = group["betas"]'),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "step_not_advanced": Mistake(
        "the step counter is never advanced",
        (("adam", '            state["step"] += 1 ', '            state["step"] += 0 '),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "one_step_counter_per_group": Mistake(
        "one step counter for the optimizer, advanced at every group's update (and for skipped parameters)",
        (("adam", '            state["step"] += 1 ', '            state["step"] = getattr(self, "_t", 0) + 1 '),
         ("adam", "        beta1, beta2 = group[\"betas\"]\n", "        self._t = getattr(self, \"_t\", 0) + 1\n        beta1, beta2 = group[\"betas\"]\n")),
        ("test_adam_basics", "test_adam_trajectories")),
    "step_advanced_per_parameter": Mistake(
        "one shared step counter advanced once per parameter",
        (("adam", '            state["step"] += 1 ', '            self._t = getattr(self, "_t", 0) + 1\n            state["step"] = self._t '),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "l2_after_the_moments": Mistake(
        "Adam's L2 term is added to the update instead of the gradient, so it skips the moments",
        (("adam", "            grad = grad + weight_decay * param           # L2: the decay enters the moments",
          "            param -= lr * weight_decay * param"),),
        ("test_adam_trajectories",)),
    "adam_state_shared_by_shape": Mistake(
        "Adam state keyed by shape, so parameters of the same shape share moments and step",
        (("adam", "            state = self.state[p]\n", "            state = self.state[p.shape]\n"),),
        ("test_adam_basics",)),
    # --- AdamW ------------------------------------------------------------------------------
    "adamw_decay_coupled": Mistake(
        "AdamW's decay is added to the gradient (that is Adam's L2)",
        (("adamw", "beta1=beta1, beta2=beta2, lr=lr, weight_decay=0,", "beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,"),
         ("adamw", "            param *= 1 - lr * weight_decay", "            pass")),
        ("test_adamw",)),
    "adamw_decay_without_lr": Mistake(
        "AdamW shrinks by (1 - weight_decay) instead of (1 - lr * weight_decay)",
        (("adamw", "            param *= 1 - lr * weight_decay", "            param *= 1 - weight_decay"),),
        ("test_adamw",)),
    "adamw_decay_after_step": Mistake(
        "AdamW shrinks the weights after the Adam step instead of before",
        (("adamw", "    if weight_decay != 0:\n        for param in params:\n            param *= 1 - lr * weight_decay\n", ""),
         ("adamw", "eps=eps, maximize=maximize)", "eps=eps, maximize=maximize)\n    for param in params:\n        param *= 1 - lr * weight_decay")),
        ("test_adamw",)),
}
