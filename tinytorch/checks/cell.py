"""`Checks`: the checks of one graded test cell, one line each.

    check = Checks("test_sgd_plain", "SGD: the plain step")
    check.close("SGD(lr=0.1), one step", lambda: one_step(lr=0.1), expected=[0.9, -2.1], atol=1e-12)
    check.trajectory("SGD(lr=0.1), 150 steps", lambda: path(lr=0.1), rtol=1e-9)   # expected: recorded
    check.done()

In `learn` mode (a learner's kernel) a visible check judges at once and the first failure raises
CheckFailed with the case, expected and got at the first difference and, when the learner's value
is what a catalogued mistake produces, that mistake. In `grade` and `record` mode nothing is judged
here: each check reports its value (protocol.py) and the worker judges.
"""
import os

from . import quiz as quizzes
from .judge import judge, known_mistake
from .plain import NotPlain, short, to_plain
from .protocol import Report, emit
from .stores import instructor_store, learner_store

MODES = ("learn", "grade", "record")
_notebook = {"name": None}


class CheckFailed(AssertionError):
    "A visible check failed; the message says what is wrong."


def mode() -> str:
    value = os.environ.get("TINYTORCH_CHECKS", "learn")
    if value not in MODES:
        raise ValueError(f"TINYTORCH_CHECKS={value!r}: expected one of {MODES}")
    return value


def use_notebook(name: str) -> None:
    "Name the notebook whose recorded values the checks of this kernel use (its first cell calls it)."
    _notebook["name"] = name


def _describe_error(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Checks:
    def __init__(self, cell: str, exercise: str | None = None, notebook: str | None = None):
        self.cell, self.exercise = cell, exercise
        self.notebook = notebook or _notebook["name"]
        self.mode = mode()
        self.passed = 0
        self.names = set()

    # ---------------------------------------------------------------- the kinds of check
    def close(self, name, got, expected=None, *, rtol=1e-7, atol=0.0, points=1, hidden=False):
        "Numbers or arrays within `rtol`/`atol` of `expected` (recorded when omitted)."
        self._check("close", name, got, expected, {"rtol": rtol, "atol": atol}, points, hidden)

    def trajectory(self, name, got, expected=None, *, rtol=1e-9, atol=0.0, columns=None, first_step=1,
                   points=1, hidden=False):
        "An array (steps, values): the message gives the first step and element that differ."
        options = {"rtol": rtol, "atol": atol, "first_step": first_step}
        if columns is not None:
            options["columns"] = list(columns)
        self._check("trajectory", name, got, expected, options, points, hidden)

    def equal(self, name, got, expected=None, *, points=1, hidden=False):
        "Exactly equal plain values (ints, strings, shapes as tuples, booleans)."
        self._check("equal", name, got, expected, {}, points, hidden)

    def true(self, name, predicate, *, hint, points=1, hidden=False):
        "`predicate()` holds; `hint` says what to look at when it does not."
        self._check("true", name, lambda: bool(_call(predicate)) is True, True, {"hint": hint}, points, hidden)

    def raises(self, name, action, exception=ValueError, *, mentions=(), points=1, hidden=False):
        "`action()` raises `exception` whose message mentions each of `mentions` (the bad value, say)."
        def outcome():
            try:
                action()
            except Exception as e:  # noqa: BLE001 - which exception is exactly what is checked
                return {"raised": True, "matches": isinstance(e, exception), "type": type(e).__name__,
                        "message": str(e)[:500]}
            return {"raised": False}
        options = {"exception": exception.__name__, "mentions": [str(m) for m in mentions]}
        self._check("raises", name, outcome, {"raised": True, "matches": True}, options, points, hidden)

    def quiz(self, name, answer, *, rtol=1e-3, atol=0.0, points=1):
        """A quiz answer: right, or wrong with the typical slip it matches (the answer itself is never shown).
        Numbers count as right within `rtol` (or `atol` of zero); text is compared lower-cased and stripped."""
        self._check("quiz", name, answer, None, {"rtol": rtol, "atol": atol}, points, False)

    def done(self):
        "After the cell's last check: a summary for the learner, an end marker for the grader."
        if self.mode == "learn":
            print(f"✓ {self.passed} check{'s' * (self.passed != 1)} passed ({self.cell})")
        else:
            emit(Report(self.cell, "", "", 0, False, done=True))

    # ---------------------------------------------------------------- the machinery
    def _check(self, kind, name, got, expected, options, points, hidden):
        if name in self.names:
            raise ValueError(f"two checks of {self.cell} are named {name!r}: names must be unique in a cell")
        self.names.add(name)
        if expected is not None:
            expected = to_plain(expected)   # an inline NumPy array or Tensor compares as the plain value it is
        value, error, cause = None, None, None
        try:
            value = to_plain(_call(got))
        except NotPlain as e:
            error, cause = f"a value that can't be checked ({e})", e
        except Exception as e:  # noqa: BLE001 - the learner's code may raise anything; the check reports it
            error, cause = _describe_error(e), e
        if self.mode != "learn":
            emit(Report(self.cell, name, kind, points, hidden, value, error, options))
            return
        self._judge_here(kind, name, value, error, expected, options, hidden, cause)

    def _judge_here(self, kind, name, value, error, expected, options, hidden, cause):
        if kind == "quiz":
            entry = self._learner_entry("quizzes", name)
            if error:
                self._fail(name, f"your answer raised {error}", cause)
            right, message = quizzes.verdict(name, value, entry)
            if not right:
                self._fail(name, message)
            self.passed += 1
            return
        fingerprints = ()
        if expected is None or hidden:
            recorded = self._recorded(name, hidden)
            expected, fingerprints = recorded.expected, recorded.fingerprints
        else:
            recorded = self._recorded(name, hidden, required=False)
            fingerprints = recorded.fingerprints if recorded else ()
        verdict = judge(kind, value, expected, options, error)
        if verdict.passed:
            self.passed += 1
            return
        diagnosis = ""
        if error is None:
            for fingerprint in fingerprints:
                if judge(kind, value, fingerprint.value, options).passed:
                    diagnosis = "\n  " + known_mistake(fingerprint)
                    break
        self._fail(name, verdict.message + diagnosis, cause)

    def _recorded(self, name, hidden, required=True):
        store = instructor_store(self.notebook) if hidden else learner_store(self.notebook or "")
        recorded = store.check(self.cell, name) if store else None
        if recorded is None and required:
            where = "the instructor store" if hidden else "the learner store"
            raise CheckFailed(f"{self.cell}: check {name!r} has no recorded value in {where} of notebook "
                              f"{self.notebook!r}. (Course authors: run tools/record_checks.py on the notebook.)")
        return recorded

    def _learner_entry(self, section, name):
        store = learner_store(self.notebook or "")
        entry = getattr(store, section, {}).get(name) if store else None
        if entry is None:
            raise CheckFailed(f"quiz answer {name!r} of notebook {self.notebook!r} is not recorded. "
                              "(Course authors: run tools/record_checks.py on the notebook.)")
        return entry

    def _fail(self, name, message, cause=None):
        title = f"{self.exercise} · " if self.exercise else ""
        error = CheckFailed(f"✗ {title}{name}\n  {message}\n  ({self.passed} earlier check"
                            f"{'s' * (self.passed != 1)} of {self.cell} passed)")
        raise error from cause


def _call(value):
    return value() if callable(value) else value


__all__ = ["Checks", "CheckFailed", "use_notebook", "mode", "short"]
