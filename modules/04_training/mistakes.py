"""Classic mistakes of module 04 (training.ipynb), each a patch of the reference solution.

Instructor tree only: the patches quote solution lines. Format: docs/checks.md, "Mistake catalogue".
"""
from tinytorch.course.mistakes import Mistake

MISTAKES = {
    # --- 3. clipping ---------------------------------------------------------------------------
    "clip_each_gradient_separately": Mistake(
        "clip_grad_norm_ clips each gradient by its own norm, which changes the direction of the update",
        (("clip_grad_norm", "    for g in grads:\n        g *= coef   # in place: the optimizer reads p.grad",
          "    for g in grads:\n        g *= min(dtype.type(max_norm) / (np.sqrt(np.sum(g * g)) + dtype.type(1e-6)), dtype.type(1.0))"),),
        ("test_clip_grad_norm",), section="3"),
    "clip_not_in_place": Mistake(
        "clip_grad_norm_ makes new gradient arrays instead of scaling p.grad in place",
        (("clip_grad_norm", "    for g in grads:\n        g *= coef   # in place: the optimizer reads p.grad",
          "    for p in [p for p in parameters if p.grad is not None]:\n        p.grad = Tensor(p.grad.data * coef)"),
         ("clip_grad_norm", "    if isinstance(parameters, Tensor):\n        parameters = [parameters]\n",
          "    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)\n")),
        ("test_clip_grad_norm",), section="3"),
    "clip_without_epsilon": Mistake(
        "clip_grad_norm_ divides by the norm without PyTorch's 1e-6",
        (("clip_grad_norm", "(total + dtype.type(1e-6))", "total"),),
        ("test_clip_grad_norm",), section="3"),
    "clip_returns_norm_after_clipping": Mistake(
        "clip_grad_norm_ returns the norm after clipping (max_norm) instead of the one measured before",
        (("clip_grad_norm", "    return Tensor(total)", "    return Tensor(min(total, dtype.type(max_norm)))"),),
        ("test_clip_grad_norm",), section="3"),
    # --- 4. the training step -----------------------------------------------------------------
    "train_step_forgets_zero_grad": Mistake(
        "train_step does not clear the gradients first, so stale gradients add into this step",
        (("train_step", "    optimizer.zero_grad()\n    loss_sum = 0.0", "    loss_sum = 0.0"),),
        ("test_train_step",), section="4"),
    "accumulation_divides_by_the_number_of_batches": Mistake(
        "each micro-batch's loss is divided by the number of micro-batches instead of weighted by its size",
        (("train_step", "(loss * (len(targets) / n_total)).backward()", "(loss * (1 / len(batches))).backward()"),),
        ("test_train_step",), section="4"),
    "accumulation_sums_the_means": Mistake(
        "the micro-batches' mean losses are added without weights: the gradient is as many times too large as there are micro-batches",
        (("train_step", "(loss * (len(targets) / n_total)).backward()", "loss.backward()"),),
        ("test_train_step",), section="4"),
    "clip_inside_the_micro_batch_loop": Mistake(
        "clipping each micro-batch's gradient as it arrives instead of the accumulated gradient",
        (("train_step", "        loss_sum += loss.item() * len(targets)\n    if max_grad_norm is not None:\n"
                        "        clip_grad_norm_(model.parameters(), max_grad_norm)\n",
          "        loss_sum += loss.item() * len(targets)\n        if max_grad_norm is not None:\n"
          "            clip_grad_norm_(model.parameters(), max_grad_norm)\n"),),
        ("test_train_step",), section="4", visible=False),
    "train_step_returns_a_tensor": Mistake(
        "train_step returns the loss as a Tensor (keeping its graph alive) instead of a Python float",
        (("train_step", "    return loss_sum / n_total", "    return Tensor(loss_sum / n_total)"),),
        ("test_train_step",), section="4"),
    # --- 6. schedules ---------------------------------------------------------------------------
    "linear_lr_ratio_off_by_one": Mistake(
        "LinearLR's chainable ratio uses t instead of t - 1 in its denominator",
        (("linear_lr", "(self.total_iters * self.start_factor + (self.last_epoch - 1) * change)",
          "(self.total_iters * self.start_factor + self.last_epoch * change)"),),
        ("test_linear_lr",), section="6"),
    "linear_lr_first_step_unscaled": Mistake(
        "LinearLR leaves step 0 at the base rate instead of start_factor times it",
        (("linear_lr", "            return [group[\"lr\"] * self.start_factor for group in self.optimizer.param_groups]",
          "            return [group[\"lr\"] for group in self.optimizer.param_groups]"),),
        ("test_linear_lr",), section="6"),
    "linear_lr_closed_form_without_min": Mistake(
        "LinearLR's closed form keeps growing past total_iters (no min(t, T))",
        (("linear_lr", "min(self.total_iters, self.last_epoch)", "self.last_epoch"),),
        ("test_linear_lr",), section="6", visible=False),
    "wsd_warmup_from_zero": Mistake(
        "the WSD warm-up is t / W, so step 0 trains at rate 0",
        (("wsd_factor", "        return (step + 1) / warmup_steps", "        return step / warmup_steps"),),
        ("test_wsd_factor",), section="6"),
    "wsd_decay_counted_from_the_start": Mistake(
        "the WSD decay is measured from the start of the run instead of from the end of the stable phase",
        (("wsd_factor", "(decay_start + decay_steps - step) / decay_steps", "(decay_steps - step) / decay_steps"),),
        ("test_wsd_factor",), section="6"),
    "wsd_no_floor_after_the_decay": Mistake(
        "after the WSD decay the factor keeps falling (below end_factor, then negative)",
        (("wsd_factor", "    if step < decay_start + decay_steps:\n", "    if True:\n"),),
        ("test_wsd_factor",), section="6"),
    # --- 7. checkpoints ---------------------------------------------------------------------------
    "capture_shares_the_live_state": Mistake(
        "capture_state keeps the live state dicts instead of copies, so the checkpoint changes as training goes on",
        (("capture_restore", "\"model\": {name: np.array(value, copy=True) for name, value in model.state_dict().items()},\n"
                             "        \"optimizer\": copy.deepcopy(optimizer.state_dict()),",
          "\"model\": {name: p.data for name, p in model.named_parameters()},\n        \"optimizer\": optimizer.state_dict(),"),),
        ("test_capture_restore",), section="7"),
    "restore_forgets_the_random_state": Mistake(
        "restore_state does not put the generator's state back: the resumed epochs see other batches",
        (("capture_restore", "    if rng is not None:\n        rng.bit_generator.state = state[\"rng\"]\n", ""),),
        ("test_capture_restore",), section="7"),
    "restore_forgets_the_scheduler": Mistake(
        "restore_state does not restore the scheduler: the schedule starts again in the middle of the run",
        (("capture_restore", "    if scheduler is not None:\n        scheduler.load_state_dict(state[\"scheduler\"])\n", ""),),
        ("test_capture_restore",), section="7"),
}
