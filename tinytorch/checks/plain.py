"""Plain values: what a check judges, and what crosses from a grading kernel to its worker.

A learner's result may be a Tensor, a NumPy array or scalar, a tuple of those... Before anything
is compared it becomes a plain JSON value (None, bool, int, float, str, lists and str-keyed dicts
of those), so the judge never calls a method of an object the learner wrote (an `__eq__` that
always says yes has nothing to say here).
"""
import json
import math

import numpy as np

MAX_DEPTH = 20          # nesting of lists/dicts a value may have
MAX_ELEMENTS = 200_000  # numbers in one value: a trajectory of 1000 steps x 200 is plenty
MAX_REPORT_CHARS = 4_000_000


class NotPlain(TypeError):
    "A value that can't be judged: an object of unknown type, an object array, too deep or too big."


def to_plain(value, _depth=0):
    "`value` as a plain JSON value. Tensors count through their `.data` array."
    if _depth > MAX_DEPTH:
        raise NotPlain(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, np.ndarray):
        if value.dtype == object or value.dtype.kind not in "biuf":
            raise NotPlain(f"an array of dtype {value.dtype} can't be judged: expected numbers")
        if value.size > MAX_ELEMENTS:
            raise NotPlain(f"an array of {value.size} elements is too big to judge (at most {MAX_ELEMENTS})")
        return value.tolist()
    if type(value).__name__ == "Tensor" and isinstance(getattr(value, "data", None), np.ndarray):
        return to_plain(value.data, _depth + 1)
    if type(value) in (list, tuple):
        return [to_plain(v, _depth + 1) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: to_plain(v, _depth + 1) for k, v in value.items()}
    raise NotPlain(f"a value of type {type(value).__name__} can't be judged; return numbers, arrays or Tensors")


def dumps(value) -> str:
    "JSON text; NaN and infinities are kept (Python's JSON dialect), since a wrong result may hold them."
    return json.dumps(value, allow_nan=True, separators=(",", ":"))


def loads(text: str):
    "Parse JSON sent by a kernel, refusing anything too big or too deep before it can hurt."
    if not isinstance(text, str) or len(text) > MAX_REPORT_CHARS:
        raise NotPlain("a report is not text, or is too long")
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:  # a linear scan: json.loads would recurse (RecursionError) on deep nesting
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_DEPTH + 4:
        raise NotPlain(f"a report is nested {deepest} levels deep")
    return json.loads(text)


def as_float_array(value):
    "A float64 array of a plain value, or None if it is not a rectangular array of numbers."
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array


def short(value, limit=80) -> str:
    "A value for a message, cut to `limit` characters."
    if isinstance(value, float):
        text = repr(value) if math.isfinite(value) else str(value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
