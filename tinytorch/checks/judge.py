"""Deciding one check: the learner's plain value against the expected one.

The same function decides in the learner's kernel (visible checks, `learn` mode) and in the
grading worker (every check, against the instructor's store), so a learner reads the same
sentence whichever side judged. Messages say where the first difference is; `reveal=False`
(hidden checks under grading) keeps the expected value out of them.
"""
import re
from dataclasses import dataclass

import numpy as np

from .plain import as_float_array, short

KINDS = ("close", "trajectory", "equal", "raises", "true", "quiz")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""   # why it failed, in the learner's terms ("" when it passed)


PASS = Verdict(True)


def _named(fingerprint) -> str:
    return fingerprint.description + (f" (see section {fingerprint.section})" if fingerprint.section else "")


def known_mistake(fingerprints) -> str:
    "The sentence that names the catalogued mistake(s) whose fingerprint a learner's result matches."
    if not isinstance(fingerprints, (list, tuple)):
        fingerprints = [fingerprints]
    if len(fingerprints) == 1:
        return f"This matches a known mistake: {_named(fingerprints[0])}."
    return "This matches known mistakes: " + "; or ".join(_named(f) for f in fingerprints) + "."


ERROR_KEY = "__error__"   # the fingerprint of a mistake that makes the check's code raise


def error_fingerprint(error: str) -> dict:
    "What a catalogued mistake that raises is recorded as (addresses like 0x7f.. removed: they change every run)."
    return {ERROR_KEY: re.sub(r"0x[0-9a-fA-F]+", "0x…", error)}


def matching_mistakes(kind: str, value, error, fingerprints, options: dict) -> list:
    """The fingerprints a failed check's result matches: the same exception, or the same value
    (within the check's tolerance for numbers; equal for conditions, exceptions and plain values)."""
    found = []
    for fp in fingerprints:
        recorded = fp.value
        if isinstance(recorded, dict) and ERROR_KEY in recorded:
            if error is not None and error_fingerprint(error) == recorded:
                found.append(fp)
            continue
        if error is not None:
            continue
        try:
            if kind in ("close", "trajectory", "quiz"):
                same = judge(kind, value, recorded, options).passed
            elif kind == "raises":
                same = isinstance(value, dict) and isinstance(recorded, dict) and \
                    all(value.get(k) == recorded.get(k) for k in ("raised", "matches", "type"))
            else:
                same = value == recorded and type(value) is type(recorded)
        except (TypeError, ValueError, OverflowError):
            same = False
        if same:
            found.append(fp)
    return found


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


def _locate(got, want, options, what):
    "(a verdict if the shapes already differ, else None; the flat index of the first element out of tolerance or None)."
    problem = _shape_problem(got, want, what)
    if problem:
        return problem, None
    return None, _first_mismatch(got.ravel(), want.ravel(), *_tolerances(options))


def _close(value, expected, options, reveal) -> Verdict:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return Verdict(False, f"expected a number{'' if np.ndim(expected) == 0 else ' array'}, got {short(value)}")
    got, want = as_float_array(value), as_float_array(expected)
    problem, at = _locate(got, want, options, "the result")
    if problem or at is None:
        return problem or PASS
    rtol, atol = _tolerances(options)
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
    problem, at = _locate(got, want, options, "the trajectory")
    if problem or at is None:
        return problem or PASS
    step, column = divmod(at, want.shape[1])
    labels = options.get("columns")
    element = labels[column] if isinstance(labels, list) and column < len(labels) else f"element {column}"
    first = options.get("first_step", 1)
    head = f"first difference after step {step + first}, {element}: "
    if reveal:
        expected_here, got_here = short(float(want[step, column])), short(float(got[step, column]))
        return Verdict(False, head + f"expected {expected_here}, got {got_here}"
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
