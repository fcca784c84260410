"""The classic optimizer mistakes of module 03, each a small patch of `optimizers.ipynb`'s solution cells.

The one source of diagnoses (docs/checks.md, "Mistake catalogue"). Each mistake is:

* `description`: what the learner did, in their terms;
* `section`: where the notebook explains it;
* `edits`: `(grade_id, search, replace)` patches of solution cells; `search` occurs exactly once in
  its cell, so a change to the reference that makes a patch stale fails loudly instead of
  silently grading the reference. Most patch the learner's own code; a few patch given code that
  sits in an unlocked exercise cell (the class bookkeeping, `add_param_group`, `load_state_dict`),
  which a learner can edit too: the hidden checks must still notice;
* `catches`: the graded cells that must lose points (tests/test_optimizers_grading.py);
* `visible`: whether a visible check must fail for it (tests/test_learner_loop.py).

Instructor only: never copied into the student tree.
"""
from tinytorch.course.mistakes import Mistake


def _mistake(description, section, edits, catches, visible=True):
    "A Mistake, written in the order this file reads best in: what, where it is explained, the patch, what catches it."
    return Mistake(description=description, edits=edits, catches=catches, section=section, visible=visible)


BASE = "section 2, exercise 1"
PLAIN, MOMENTUM, NESTEROV, DECAY = ("section 3, exercise 2", "section 3, exercise 3", "section 3, exercise 4",
                                    "section 3, exercise 5")
MOMENTS, BIAS, AMSGRAD, ADAMW = "section 4, exercise 6", "section 4, exercise 7", "section 4, exercise 8", "section 5, exercise 9"
CHECKPOINTS = "section 11"

TRAJECTORIES = ("test_sgd_trajectories", "test_adam_trajectories", "test_adamw")

MISTAKES = {
    # --- the base class -------------------------------------------------------------------
    "zero_grad_keeps_stale_values": _mistake(
        "zero_grad(set_to_none=False) leaves the old gradient in place", BASE,
        (("optimizer_base", "                    p.grad.data[...] = 0", "                    pass"),),
        ("test_optimizer_base",) + TRAJECTORIES),
    "zero_grad_first_group_only": _mistake(
        "zero_grad clears only the first parameter group", BASE,
        (("optimizer_base", "        for group in self.param_groups:\n            for p in group[\"params\"]:\n                if p.grad is None:",
          "        for group in self.param_groups[:1]:\n            for p in group[\"params\"]:\n                if p.grad is None:"),),
        ("test_optimizer_base",) + TRAJECTORIES),
    "none_gradient_treated_as_zero": _mistake(
        "a parameter without gradient is stepped with a zero gradient instead of skipped", BASE,
        (("optimizer_base", "            if p.grad is not None:\n                _check_grad(p, position)\n                params.append(p)",
          "            if p.grad is None:\n                p.grad = Tensor(np.zeros_like(p.data))\n"
          "            _check_grad(p, position)\n            params.append(p)"),),
        ("test_optimizer_base", "test_sgd_trajectories", "test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "gradient_shape_not_checked": _mistake(
        "_params_with_grad does not check the gradients, so one of the wrong shape is broadcast silently", BASE,
        (("optimizer_base", "                _check_grad(p, position)\n", ""),),
        ("test_optimizer_base", "test_sgd_trajectories", "test_adam_basics")),
    "duplicates_accepted": _mistake(
        "a parameter listed twice is accepted (and would be stepped twice)", BASE,
        (("optimizer_base", "        if len(set(ids)) != len(ids):", "        if False:"),),
        ("test_optimizer_base",), visible=False),
    "state_dict_not_copied": _mistake(
        "state_dict returns the live state arrays: the checkpoint changes as training goes on", BASE,
        (("optimizer_base", "{name: _copy_value(value) for name, value in p_state.items()}", "dict(p_state)"),),
        ("test_state_dict",)),
    "loaded_state_aliased": _mistake(
        "load_state_dict keeps the checkpoint's arrays instead of copies: training on changes the checkpoint", CHECKPOINTS,
        (("optimizer_base", "new_state[p][key] = np.array(p_state[key], dtype=p.data.dtype)",
          "new_state[p][key] = np.asarray(p_state[key], dtype=p.data.dtype)"),),
        ("test_state_dict", "test_checkpoint"), visible=False),
    # --- SGD --------------------------------------------------------------------------------
    "sgd_update_not_in_place": _mistake(
        "the step builds a new array (param = param - ...) instead of updating the parameter in place", PLAIN,
        (("sgd", "    param -= lr * direction", "    param = param - lr * direction"),),
        ("test_sgd_plain", "test_sgd_nesterov", "test_sgd_trajectories", "test_adam_bias_correction", "test_adam_trajectories",
         "test_adamw")),
    "sgd_step_adds": _mistake(
        "the step adds lr * direction instead of subtracting it (param += ...), so it climbs the loss", PLAIN,
        (("sgd", "    param -= lr * direction", "    param += lr * direction"),),
        ("test_sgd_plain", "test_sgd_nesterov", "test_sgd_trajectories", "test_adam_bias_correction", "test_adam_trajectories",
         "test_adamw")),
    "momentum_buffer_starts_at_zero": _mistake(
        "the momentum buffer starts at zero instead of the first gradient (differs with dampening)", MOMENTUM,
        (("sgd_momentum", "        return np.array(grad, copy=True)", "        buf = np.zeros_like(grad)"),),
        ("test_sgd_momentum", "test_sgd_trajectories")),
    "momentum_buffer_aliases_gradient": _mistake(
        "the first momentum buffer is the gradient array itself, not a copy", MOMENTUM,
        (("sgd_momentum", "np.array(grad, copy=True)", "grad"),),
        ("test_sgd_momentum", "test_sgd_trajectories")),
    "nesterov_uses_old_buffer": _mistake(
        "Nesterov looks ahead with the buffer from before this step's update", NESTEROV,
        (("sgd", "            momentum_buffers[i] = momentum_buffer_update(",
          "            previous = None if momentum_buffers[i] is None else momentum_buffers[i].copy()\n"
          "            momentum_buffers[i] = momentum_buffer_update("),
         ("sgd", "grad = momentum_direction(momentum_buffers[i], grad,",
          "grad = momentum_direction(momentum_buffers[i] if previous is None or not nesterov else previous, grad,")),
        ("test_sgd_nesterov", "test_sgd_trajectories")),
    "sgd_state_shared_by_shape": _mistake(
        "momentum buffers are keyed by shape, so parameters of the same shape share one", MOMENTUM,
        (("sgd", 'buffers = [self.state[p].get("momentum_buffer") for p in params]',
          'buffers = [self.state[p.shape].get("momentum_buffer") for p in params]'),
         ("sgd", '                self.state[p]["momentum_buffer"] = buf', '                self.state[p.shape]["momentum_buffer"] = buf')),
        ("test_sgd_trajectories",)),
    "hyperparameters_read_once": _mistake(
        "SGD reads each group's learning rate once, on the first step, so a scheduler's changes are ignored", PLAIN,
        (("sgd", 'lr=group["lr"], momentum=group["momentum"]',
          'lr=self.__dict__.setdefault(f"_lr_{id(group)}", group["lr"]), momentum=group["momentum"]'),),
        ("test_sgd_trajectories",), visible=False),
    "weight_decay_before_maximize": _mistake(
        "the weight decay is added before the gradient is negated for maximize (torch negates first)", DECAY,
        (("sgd_weight_decay", "    grad = -grad if maximize else grad\n    if weight_decay != 0:\n"
                              "        grad = grad + weight_decay * param          # L2: the decay goes through the momentum\n    return grad",
          "    if weight_decay != 0:\n        grad = grad + weight_decay * param\n    return -grad if maximize else grad"),),
        ("test_sgd_weight_decay", "test_sgd_trajectories", "test_adam_trajectories")),
    "maximize_negates_gradient_in_place": _mistake(
        "maximize negates the gradient array in place, so step() changes p.grad", DECAY,
        (("sgd_weight_decay", "    grad = -grad if maximize else grad\n", "    if maximize:\n        grad *= -1\n"),),
        ("test_sgd_weight_decay", "test_adam_basics")),
    "l2_modifies_gradient_in_place": _mistake(
        "the weight decay is added into the gradient array (grad += ...), so step() changes p.grad", DECAY,
        (("sgd_weight_decay", "        grad = grad + weight_decay * param          # L2: the decay goes through the momentum",
          "        grad += weight_decay * param"),),
        ("test_sgd_weight_decay", "test_adam_basics")),
    # --- Adam -------------------------------------------------------------------------------
    "moments_not_in_place": _mistake(
        "the moments are computed as new arrays (m = beta1 * m + ...), so the optimizer's state never changes", MOMENTS,
        (("adam_moments", "    exp_avg *= beta1\n    exp_avg += (1 - beta1) * grad\n    exp_avg_sq *= beta2\n"
                          "    exp_avg_sq += (1 - beta2) * grad * grad",
          "    exp_avg = beta1 * exp_avg + (1 - beta1) * grad\n    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad"),),
        ("test_adam_moments", "test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "moments_betas_swapped": _mistake(
        "beta1 and beta2 swapped in adam_moments_update_ (m averages with 0.999, v with 0.9)", MOMENTS,
        (("adam_moments", "    exp_avg *= beta1\n    exp_avg += (1 - beta1) * grad\n    exp_avg_sq *= beta2\n"
                          "    exp_avg_sq += (1 - beta2) * grad * grad",
          "    exp_avg *= beta2\n    exp_avg += (1 - beta2) * grad\n    exp_avg_sq *= beta1\n"
          "    exp_avg_sq += (1 - beta1) * grad * grad"),),
        ("test_adam_moments", "test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "first_moment_without_one_minus_beta1": _mistake(
        "the first moment adds the whole gradient (exp_avg += grad), without the (1 - beta1) factor", MOMENTS,
        (("adam_moments", "    exp_avg += (1 - beta1) * grad", "    exp_avg += grad"),),
        ("test_adam_moments", "test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "second_moment_of_abs_gradient": _mistake(
        "the second moment averages |g| instead of g squared", MOMENTS,
        (("adam_moments", "(1 - beta2) * grad * grad", "(1 - beta2) * np.abs(grad)"),),
        ("test_adam_moments", "test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "no_bias_correction": _mistake(
        "no bias correction (Adam's first step is 3.16 x lr)", BIAS,
        (("adam", "exp_avg / (1 - beta1 ** step)", "exp_avg"),
         ("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq")),
        ("test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "bias_correction_first_moment_only": _mistake(
        "only the first moment is bias-corrected (a first step of 31.6 x lr)", BIAS,
        (("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq"),),
        ("test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "bias_correction_off_by_one": _mistake(
        "bias correction with t + 1 instead of t (a first step of 0.744 x lr)", BIAS,
        (("adam", "exp_avg / (1 - beta1 ** step)", "exp_avg / (1 - beta1 ** (step + 1))"),
         ("adam", "exp_avg_sq / (1 - beta2 ** step)", "exp_avg_sq / (1 - beta2 ** (step + 1))")),
        ("test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "eps_inside_sqrt": _mistake(
        "eps added inside the square root", BIAS,
        (("adam", "np.sqrt(exp_avg_sq_hat) + eps", "np.sqrt(exp_avg_sq_hat + eps)"),),
        ("test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "swapped_betas": _mistake(
        "beta1 and beta2 swapped when unpacking the group's betas", MOMENTS,
        (("adam", '        beta1, beta2 = group["betas"]', '        beta2, beta1 = group["betas"]'),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "step_not_advanced": _mistake(
        "the step counter is never advanced (the bias correction divides by zero)", BIAS,
        (("adam", '            state["step"] += 1 ', '            state["step"] += 0 '),),
        ("test_adam_bias_correction", "test_adam_trajectories", "test_adamw")),
    "one_step_counter_per_group": _mistake(
        "one step counter for the optimizer, advanced at every group's update (and for skipped parameters)", BIAS,
        (("adam", '            state["step"] += 1 ', '            state["step"] = getattr(self, "_t", 0) + 1 '),
         ("adam", "        beta1, beta2 = group[\"betas\"]\n", "        self._t = getattr(self, \"_t\", 0) + 1\n        beta1, beta2 = group[\"betas\"]\n")),
        ("test_adam_basics", "test_adam_trajectories")),
    "step_advanced_per_parameter": _mistake(
        "one shared step counter advanced once per parameter", BIAS,
        (("adam", '            state["step"] += 1 ', '            self._t = getattr(self, "_t", 0) + 1\n            state["step"] = self._t '),),
        ("test_adam_basics", "test_adam_trajectories", "test_adamw")),
    "l2_after_the_moments": _mistake(
        "Adam's L2 term is applied to the update instead of the gradient, so it skips the moments (that is AdamW)", ADAMW,
        (("adam", "            grad = regularized_gradient(grad, param, weight_decay=weight_decay, maximize=maximize)",
          "            grad = regularized_gradient(grad, param, weight_decay=0, maximize=maximize)\n"
          "            param -= lr * weight_decay * param"),),
        ("test_adam_trajectories", "test_adamw")),
    "adam_state_shared_by_shape": _mistake(
        "Adam state keyed by shape, so parameters of the same shape share moments and step", BIAS,
        (("adam", "            state = self.state[p]\n", "            state = self.state[p.shape]\n"),),
        ("test_adam_basics",)),
    "amsgrad_max_not_stored": _mistake(
        "AMSGrad's running maximum is computed but never stored (max_exp_avg_sq stays zero)", AMSGRAD,
        (("adam_amsgrad", "    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)\n    return max_exp_avg_sq",
          "    return np.maximum(max_exp_avg_sq, exp_avg_sq)"),),
        ("test_adam_amsgrad",)),
    "amsgrad_uses_current_v": _mistake(
        "AMSGrad stores the maximum but divides by the current second moment", AMSGRAD,
        (("adam_amsgrad", "    return max_exp_avg_sq", "    return exp_avg_sq"),),
        ("test_adam_amsgrad", "test_adam_trajectories")),
    # --- AdamW ------------------------------------------------------------------------------
    "adamw_decay_coupled": _mistake(
        "AdamW's decay is added to the gradient (that is Adam's L2)", ADAMW,
        (("adamw", "beta1=beta1, beta2=beta2, lr=lr, weight_decay=0,", "beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,"),
         ("adamw", "            param *= 1 - lr * weight_decay", "            pass")),
        ("test_adamw",)),
    "adamw_decay_without_lr": _mistake(
        "AdamW shrinks by (1 - weight_decay) instead of (1 - lr * weight_decay)", ADAMW,
        (("adamw", "            param *= 1 - lr * weight_decay", "            param *= 1 - weight_decay"),),
        ("test_adamw",)),
    "adamw_decay_after_step": _mistake(
        "AdamW shrinks the weights after the Adam step instead of before", ADAMW,
        (("adamw", "    if weight_decay != 0:\n        for param in params:\n            param *= 1 - lr * weight_decay\n", ""),
         ("adamw", "eps=eps, maximize=maximize)", "eps=eps, maximize=maximize)\n    for param in params:\n        param *= 1 - lr * weight_decay")),
        ("test_adamw",)),
    "adamw_decay_not_in_place": _mistake(
        "AdamW's decay rebinds the loop variable (param = param * ...), so no weight is decayed", ADAMW,
        (("adamw", "            param *= 1 - lr * weight_decay", "            param = param * (1 - lr * weight_decay)"),),
        ("test_adamw",)),
    "weight_decay_read_once": _mistake(
        "Adam reads each group's weight decay once, on the first step, so a scheduler's changes are ignored", ADAMW,
        (("adam", 'weight_decay=group["weight_decay"], eps=group["eps"]',
          'weight_decay=self.__dict__.setdefault(f"_wd_{id(group)}", group["weight_decay"]), eps=group["eps"]'),),
        ("test_adam_trajectories", "test_adamw"), visible=False),
}
