"""The typical slips of module 03's quizzes 1 and 6 (modules/03_optimizers/slips.py) are wrong answers,
each far from the right one."""
import importlib.util

import nbformat
from helpers import ROOT

from tinytorch.course.notebooks import cells_by_grade_id

MODULE = ROOT / "modules" / "03_optimizers"
QUIZ_CELLS = {"quiz_bias_correction": 1e-3, "quiz_resume": 1e-2}   # the tolerances their hidden tests state


def _slips():
    spec = importlib.util.spec_from_file_location("slips_03", MODULE / "slips.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SLIPS


def _answers():
    "{answer name: (reference value, relative tolerance)} from the instructor notebook's quiz cells."
    cells = cells_by_grade_id(nbformat.read(MODULE / "optimizers.ipynb", as_version=4))
    answers = {}
    for grade_id, rtol in QUIZ_CELLS.items():
        namespace = {}
        exec(cells[grade_id].source, namespace)
        answers.update({k: (v, rtol) for k, v in namespace.items() if not k.startswith("__")})
    return answers


def test_every_slip_belongs_to_a_quiz_answer_and_is_wrong_at_its_tolerance():
    answers, slips = _answers(), _slips()
    assert set(answers) <= set(slips), sorted(set(answers) - set(slips))   # the file also holds other quizzes' slips
    for name, (right, rtol) in answers.items():
        wrong_answers = slips[name]
        assert wrong_answers, name
        for slip in wrong_answers:
            assert slip.message and str(right) not in slip.message, (name, slip)
            if isinstance(right, bool):
                assert slip.value is not right, (name, slip)
            else:
                assert abs(slip.value - right) > rtol * abs(right), f"{name}: the slip {slip.value!r} would be accepted"
        values = [s.value for s in wrong_answers]
        assert len(set(map(repr, values))) == len(values), f"{name}: two slips with the same value"
