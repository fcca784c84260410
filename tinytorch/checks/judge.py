"""Deciding one check: the learner's plain value against the expected one.

The same function decides in the learner's kernel (visible checks, `learn` mode) and in the
grading worker (every check, against the instructor's store), so a learner reads the same
sentence whichever side judged. Messages say where the first difference is; `reveal=False`
(hidden checks under grading) keeps the expected value out of them.
"""
from dataclasses import dataclass

import numpy as np

from .plain import as_float_array, short

KINDS = ("close", "trajectory", "equal", "raises", "true", "quiz")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""   # why it failed, in the learner's terms ("" when it passed)


PASS = Verdict(True)


def known_mistake(fingerprint) -> str:
    "The sentence that names a catalogued mistake whose fingerprint a learner's value matches."
    where = f" (see section {fingerprint.section})" if fingerprint.section else ""
    return f"This matches a known mistake: {fingerprint.description}{where}."


def judge(kind: str, value, expected, options: dict, error: str | None = None, reveal: bool = True) -> Verdict:
    "Whether `value` (what the learner's code gave) is right. `error` is the exception it raised instead, if any."
    if error is not None:
        return Verdict(False, f"your code raised {error}")
    if kind in ("close", "quiz") and _is_number_like(expected):
        return _close(value, expected, options, reveal)
    if kind == "trajectory":
        return _trajectory(value, expected, options, reveal)
    if kind == "quiz" and isinstance(expected, str):
        if isinstance(value, str) and value.strip().lower() == expected.strip().lower():
            return PASS
        return Verdict(False, f"{short(value)} is not the right answer" if not reveal else
                              f"expected {short(expected)}, got {short(value)}")
    if kind in ("equal", "quiz", "close"):
        return _equal(value, expected, options, reveal)
    if kind == "raises":
        return _raises(value, expected, options)
    if kind == "true":
        if value is True:
            return PASS
        return Verdict(False, options.get("hint") or "the condition does not hold")
    raise ValueError(f"unknown kind of check {kind!r}; expected one of {KINDS}")


def _is_number_like(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, list) and as_float_array(value) is not None and as_float_array(value).dtype == np.float64


def _tolerances(options):
    return float(options.get("rtol", 1e-7)), float(options.get("atol", 0.0))


def _index(flat_index, shape) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]" if shape else ""


def _first_mismatch(got: np.ndarray, want: np.ndarray, rtol, atol):
    "Flat index of the first element out of tolerance (NaN where a number is expected counts), or None."
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    bad &= ~((got == want) | (np.isnan(got) & np.isnan(want)))  # equal infinities, NaN where NaN is expected
    where = np.flatnonzero(bad)
    return None if where.size == 0 else int(where[0])


def _shape_problem(got, want, what="the result") -> Verdict | None:
    if got is None:
        return Verdict(False, f"{what} is not an array of numbers")
    if got.shape != want.shape:
        return Verdict(False, f"{what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    return None


def _close(value, expected, options, reveal) -> Verdict:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return Verdict(False, f"expected a number{'' if np.ndim(expected) == 0 else ' array'}, got {short(value)}")
    got, want = as_float_array(value), as_float_array(expected)
    problem = _shape_problem(got, want)
    if problem:
        return problem
    rtol, atol = _tolerances(options)
    at = _first_mismatch(got.ravel(), want.ravel(), rtol, atol)
    if at is None:
        return PASS
    where = f" at {_index(at, want.shape)}" if want.ndim else ""
    g = got.ravel()[at]
    if reveal:
        return Verdict(False, f"expected {short(float(want.ravel()[at]))}, got {short(float(g))}{where}"
                              f" (tolerance rtol={rtol:g}, atol={atol:g})")
    return Verdict(False, f"got {short(float(g))}{where}, which is not the right value")


def _trajectory(value, expected, options, reveal) -> Verdict:
    got, want = as_float_array(value), as_float_array(expected)
    if want is None or want.ndim != 2:
        raise ValueError("a trajectory's expected value must be a 2-D array (steps, values)")
    problem = _shape_problem(got, want, "the trajectory")
    if problem:
        return problem
    rtol, atol = _tolerances(options)
    at = _first_mismatch(got.ravel(), want.ravel(), rtol, atol)
    if at is None:
        return PASS
    step, column = divmod(at, want.shape[1])
    labels = options.get("columns")
    element = labels[column] if isinstance(labels, list) and column < len(labels) else f"element {column}"
    first = options.get("first_step", 1)
    head = f"first difference after step {step + first}, {element}: "
    if reveal:
        return Verdict(False, head + f"expected {short(float(want[step, column]))}, got {short(float(got[step, column]))}"
                                     f"{'' if step == 0 else ' (all earlier steps agree)'}")
    return Verdict(False, head + f"got {short(float(got[step, column]))}"
                                 f"{'' if step == 0 else ' (all earlier steps agree)'}")


def _equal(value, expected, options, reveal) -> Verdict:
    if value == expected and type(value) is type(expected):
        return PASS
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and \
            isinstance(value, (int, float)) and not isinstance(value, bool) and value == expected:
        return PASS
    return Verdict(False, f"expected {short(expected)}, got {short(value)}" if reveal else f"got {short(value)}")


def _raises(value, expected, options) -> Verdict:
    wanted = options.get("exception", "an exception")
    if not isinstance(value, dict) or not value.get("raised"):
        return Verdict(False, f"expected {wanted} to be raised, but nothing was raised")
    if not value.get("matches"):
        return Verdict(False, f"expected {wanted}, got {value.get('type')}: {short(value.get('message', ''))}")
    message = str(value.get("message", ""))
    missing = [word for word in options.get("mentions", []) if word not in message]
    if missing:
        return Verdict(False, f"the {wanted} must name the bad value {', '.join(map(repr, missing))}; "
                              f"its message was {short(message)}")
    return PASS
