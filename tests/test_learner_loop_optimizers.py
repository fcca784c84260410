"""The learner's loop: each catalogued mistake, applied to the release, fails a visible check that names it.

For every mistake of a module's catalogue (modules/NN/mistakes.py), and for the untouched release,
the released notebook (stubs, no hidden tests) is filled with the patched solutions and run
top to bottom, visible tests only, as a learner on Binder would. The table records whether a
visible check failed and whether its message names the mistake. Targets (issue 11, item 5): every
mistake marked `visible` fails a visible check, and at least 90 % of them are named.

"Named" means the first failing visible message contains the mistake's `description`, as in the
course-wide tests/test_learner_loop.py; this one runs module 03 from its *release* (stubs, the
released test cells) rather than from the reference, and prints module 03's table.
"""
import nbformat
import pytest
from learner_loop import run_cells
from test_optimizers_grading import MISTAKES, MODULE, NOTEBOOK

from tinytorch.course.mistakes import apply_mistake
from tinytorch.course.nbgrader_runner import release_notebooks
from tinytorch.course.notebooks import fill_solutions

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    "{submission: {grade_id: CellOutcome}} for the reference, the untouched release and every mistake."
    source_nb = nbformat.read(MODULE.notebook, as_version=4)
    release_nb = nbformat.read(release_notebooks(MODULE.dir, MODULE.id, tmp_path_factory.mktemp("release")) / NOTEBOOK,
                               as_version=4)
    runs = {"reference": run_cells(fill_solutions(release_nb, source_nb)), "untouched": run_cells(release_nb)}
    for name, mistake in MISTAKES.items():
        runs[name] = run_cells(fill_solutions(release_nb, apply_mistake(source_nb, mistake, name)))
    return runs


def first_failure(outcomes):
    return next((o for o in outcomes.values() if not o.passed), None)


def test_the_released_optimizers_pass_when_solved_and_an_untouched_stub_names_its_exercise(loop):
    assert all(o.passed for o in loop["reference"].values()), first_failure(loop["reference"])
    untouched = loop["untouched"]
    assert not any(o.passed for o in untouched.values()), [g for g, o in untouched.items() if o.passed]
    # the first exercise's stub says what to write, instead of a bare NotImplementedError(): the first
    # failing check reports the stub's exception with its EXERCISE text
    message = first_failure(untouched).message
    assert "NotImplementedError: " in message, message
    assert "must" in message.split("NotImplementedError: ", 1)[1], message


def test_every_visible_optimizer_mistake_fails_a_visible_check_and_most_are_named(loop):
    rows, unseen, unnamed = [], [], []
    for name, mistake in MISTAKES.items():
        failure = first_failure(loop[name])
        named = failure is not None and mistake.description in failure.message
        rows.append(f"| {name} | {'yes' if mistake.visible else 'no'} | {failure.grade_id if failure else '-'} | "
                    f"{'yes' if named else 'no'} |")
        if mistake.visible and failure is None:
            unseen.append(name)
        if mistake.visible and not named:
            unnamed.append(name)
    visible = [n for n, m in MISTAKES.items() if m.visible]
    share = 1 - len(unnamed) / len(visible)
    header = "| mistake | visible symptom | first failing visible check | named |\n| --- | --- | --- | --- |\n"
    print("\n" + header + "\n".join(rows))
    print(f"{len(visible) - len(unseen)}/{len(visible)} visible mistakes fail a visible check; {share:.0%} are named")
    assert not unseen, f"visible mistakes that pass every visible check: {unseen}"
    assert share >= 0.9, f"only {share:.0%} named; not named: {unnamed}"
