"""The learner's loop: each catalogued mistake, applied to the release, fails a visible check that names it.

For every mistake of a module's catalogue (modules/NN/mistakes.py), and for the untouched release,
the released notebook (stubs, no hidden tests) is filled with the patched solutions and run
top to bottom, visible tests only, as a learner on Binder would. The table records whether a
visible check failed and whether its message names the mistake. Targets (issue 11, item 5): every
mistake marked `visible` fails a visible check, and at least 90 % of them are named.

"Named" means the first failing visible message contains the phrase below for that mistake: the
words of its diagnosis ("That is exactly what <the mistake> gives") or of the check written for it.
"""
import nbformat
import pytest

from learner_loop import run_cells
from test_optimizers_grading import MISTAKES, MODULE, NOTEBOOK, apply_mistake
from tinytorch.course.nbgrader_runner import release_notebooks
from tinytorch.course.notebooks import fill_solutions

pytestmark = pytest.mark.slow

# What the first failing visible message of module 03 must say for each mistake a visible check shows.
NAMED_BY = {
    "zero_grad_keeps_stale_values": "leaving the old gradient in place",
    "zero_grad_first_group_only": "clearing the first group only",
    "none_gradient_treated_as_zero": "whose .grad is None is skipped",
    "gradient_shape_not_checked": "_check_grad",
    "state_dict_not_copied": "returning the live state arrays instead of copies",
    "sgd_update_not_in_place": "not updating param in place",
    "momentum_buffer_starts_at_zero": "a buffer that starts at zero",
    "momentum_buffer_aliases_gradient": "the gradient array itself",
    "nesterov_uses_old_buffer": "the buffer from before this step's update",
    "sgd_state_shared_by_shape": "never by its shape",
    "weight_decay_before_maximize": "adding the weight decay before negating",
    "maximize_negates_gradient_in_place": "changed its inputs in place",
    "l2_modifies_gradient_in_place": "changed its inputs in place",
    "moments_not_in_place": "instead of updating the state in place",
    "no_bias_correction": "Adam without bias correction",
    "bias_correction_first_moment_only": "bias-correcting the first moment only",
    "bias_correction_off_by_one": "t + 1 instead of t",
    "eps_inside_sqrt": "eps inside the square root",
    "swapped_betas": "beta1 and beta2 swapped",
    "step_not_advanced": "the step counter must advance",
    "one_step_counter_per_group": "each parameter counts its own steps",
    "step_advanced_per_parameter": "each parameter counts its own steps",
    "l2_after_the_moments": "applying Adam's L2 term after the moments",
    "adam_state_shared_by_shape": "never by its shape",
    "amsgrad_max_not_stored": "never stored",
    "amsgrad_uses_current_v": "returned the current v",
    "adamw_decay_coupled": "adding AdamW's decay to the gradient",
    "adamw_decay_without_lr": "(1 - weight_decay) instead of (1 - lr * weight_decay)",
    "adamw_decay_after_step": "after the Adam step instead of before",
    "adamw_decay_not_in_place": "not decaying the weights at all",
}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    "{submission: {grade_id: CellOutcome}} for the reference, the untouched release and every mistake."
    source_nb = nbformat.read(MODULE.notebook, as_version=4)
    release_nb = nbformat.read(release_notebooks(MODULE.dir, MODULE.id, tmp_path_factory.mktemp("release")) / NOTEBOOK,
                               as_version=4)
    runs = {"reference": run_cells(fill_solutions(release_nb, source_nb)), "untouched": run_cells(release_nb)}
    for name, mistake in MISTAKES.items():
        runs[name] = run_cells(fill_solutions(release_nb, apply_mistake(source_nb, mistake)))
    return runs


def first_failure(outcomes):
    return next((o for o in outcomes.values() if not o.passed), None)


def test_the_reference_passes_every_visible_check_and_an_untouched_stub_names_its_exercise(loop):
    assert all(o.passed for o in loop["reference"].values()), first_failure(loop["reference"])
    untouched = loop["untouched"]
    assert not any(o.passed for o in untouched.values()), [g for g, o in untouched.items() if o.passed]
    # the first exercise's stub says what to write, instead of a bare NotImplementedError()
    assert first_failure(untouched).message.startswith("NotImplementedError: "), first_failure(untouched).message
    assert "must" in first_failure(untouched).message


def test_every_visible_mistake_fails_a_visible_check_and_most_are_named(loop):
    rows, unseen, unnamed = [], [], []
    for name, mistake in MISTAKES.items():
        failure = first_failure(loop[name])
        named = failure is not None and NAMED_BY.get(name, "\0") in failure.message
        rows.append(f"| {name} | {'yes' if mistake.visible else 'no'} | {failure.grade_id if failure else '-'} | "
                    f"{'yes' if named else 'no'} |")
        if mistake.visible and failure is None:
            unseen.append(name)
        if mistake.visible and not named:
            unnamed.append(name)
    visible = [n for n, m in MISTAKES.items() if m.visible]
    share = 1 - len(unnamed) / len(visible)
    print("\n| mistake | visible symptom | first failing visible check | named |\n| --- | --- | --- | --- |\n" + "\n".join(rows))
    print(f"{len(visible) - len(unseen)}/{len(visible)} visible mistakes fail a visible check; {share:.0%} are named")
    assert not unseen, f"visible mistakes that pass every visible check: {unseen}"
    assert share >= 0.9, f"only {share:.0%} named; not named: {unnamed}"
    assert set(NAMED_BY) <= set(MISTAKES), sorted(set(NAMED_BY) - set(MISTAKES))
