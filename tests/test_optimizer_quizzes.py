"""Module 03's quizzes as a learner meets them: the visible check accepts the reference answer,
names every catalogued slip, and rejects other wrong answers without naming one.

Everything here reads the recorded stores (`tools/record_checks.py`) and `modules/03_optimizers/slips.py`,
so a slip that is mistyped, too close to the answer to be told apart, or missing from the learner
store fails here rather than in front of a learner.
"""
import importlib.util
import math

import pytest
from helpers import ROOT

from tinytorch.checks import quiz as quizzes
from tinytorch.checks.stores import DATA_DIR, read_store

MODULE = ROOT / "modules" / "03_optimizers"
NOTEBOOK = "optimizers"


def _slips() -> dict:
    spec = importlib.util.spec_from_file_location("_m03_slips", MODULE / "slips.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SLIPS


SLIPS = _slips()
LEARNER = read_store(DATA_DIR / f"{NOTEBOOK}.json", NOTEBOOK)
INSTRUCTOR = read_store(MODULE / f"{NOTEBOOK}.checks.json", NOTEBOOK)
ANSWERS = {name: check.expected for checks in INSTRUCTOR.cells.values()
           for name, check in checks.items() if check.kind == "quiz"}
CASES = [(name, slip) for name, slips in SLIPS.items() for slip in slips]
# Every slip of every quiz is a corpus (each verdict costs several PBKDF2 hashes, by design); the fast
# lane checks each quiz's first slip.
SLIP_PARAMS = [pytest.param(name, slip, id=f"{name}={slip.value!r}", marks=() if i == 0 else pytest.mark.corpus)
               for name, slips in SLIPS.items() for i, slip in enumerate(slips)]


def test_every_slip_belongs_to_a_recorded_quiz_answer():
    assert not set(SLIPS) - set(ANSWERS), f"slips for answers no quiz asks: {sorted(set(SLIPS) - set(ANSWERS))}"
    assert not set(ANSWERS) - set(LEARNER.quizzes), "quiz answers without a learner entry: re-record the notebook"


@pytest.mark.parametrize("name, slip", CASES, ids=[f"{n}={s.value!r}" for n, s in CASES])
def test_a_slip_is_told_apart_from_the_answer(name, slip):
    answer, entry = ANSWERS[name], LEARNER.quizzes[name]
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        assert abs(slip.value - answer) > 2 * entry["rtol"] * abs(answer), \
            f"slip {slip.value!r} of {name} is within twice the tolerance of the answer: it can't be told apart"
    else:
        assert slip.value != answer


@pytest.mark.slow
@pytest.mark.parametrize("name, slip", SLIP_PARAMS)
def test_the_visible_check_names_each_slip(name, slip):
    right, message = quizzes.verdict(name, slip.value, LEARNER.quizzes[name])
    assert not right
    assert slip.message in message, f"{name}={slip.value!r} was told {message!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_the_visible_check_accepts_the_answer_and_rejects_another(name):
    answer, entry = ANSWERS[name], LEARNER.quizzes[name]
    assert quizzes.verdict(name, answer, entry) == (True, "right")
    if isinstance(answer, bool):
        other = not answer
    elif isinstance(answer, str):
        other = answer + "?"
    else:
        other = answer * 1.5 if answer else 1.0
    right, message = quizzes.verdict(name, other, entry)
    assert not right and (message.startswith("not right") or "answer" in message), message
    if isinstance(answer, float) and math.isfinite(answer) and entry["rtol"] >= 1e-3:
        # a learner who rounds within the stated tolerance is right
        assert quizzes.verdict(name, answer * (1 + entry["rtol"] / 2), entry)[0]
