"""Quiz answers a learner can check without the answer being in the student tree.

The learner store keeps, for each quiz answer, a salted slow hash of the reference answer and of
each typical wrong answer (a *slip*, with the message that explains it), never the values.

Numbers are hashed by bucket: `round(log|x| / w)` with buckets of width `w = rtol / 4` in log
space (and the sign). A learner's answer is accepted when one of its buckets within 3 of its own
has the reference's hash, which means within about `rtol` of the reference (at most `rtol`:
the visible check never accepts what the hidden check, with the same `rtol`, refuses). Zero, and
anything within `atol` of it, is its own bucket. Text and choices are hashed lower-cased and
stripped; booleans as `true`/`false`.

Limits, stated in the README: a learner who hashes many candidates offline (the salt is in the
store) can find an answer. PBKDF2 with ITERATIONS rounds makes each candidate cost milliseconds,
so a sweep over every bucket of a wide range of numbers takes on the order of an hour per answer;
a choice among four options costs nothing to try. The hidden check, judged by the grader, decides
the grade either way.
"""
import hashlib
import math
import secrets
from dataclasses import dataclass

ITERATIONS = 100_000
WINDOW = 3            # buckets either side of the learner's own
BUCKETS_PER_RTOL = 4


@dataclass(frozen=True)
class Slip:
    "A typical wrong answer to a quiz and what it tells the learner (kept in modules/NN/slips.py)."
    value: object
    message: str


def new_salt() -> str:
    return secrets.token_hex(8)


def _digest(salt: str, name: str, key: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", f"{name}|{key}".encode(), bytes.fromhex(salt), ITERATIONS).hex()[:32]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def keys(value, rtol: float, atol: float, spread: int = 0) -> list[str]:
    "The bucket keys of `value`: its own, then `spread` either side (numbers only)."
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return ["s:" + value.strip().lower()]
    if not _is_number(value) or not math.isfinite(value):
        return []
    if abs(value) <= atol or value == 0:
        return ["0"]
    width = max(rtol, 1e-12) / BUCKETS_PER_RTOL
    bucket = round(math.log(abs(value)) / width)
    sign = "+" if value > 0 else "-"
    return [f"{sign}{bucket + d}" for d in sorted(range(-spread, spread + 1), key=abs)]


def answer_entry(name: str, answer, slips, rtol: float, atol: float, salt: str | None = None) -> dict:
    "What the learner store keeps for one quiz answer."
    salt = salt or new_salt()
    own = keys(answer, rtol, atol)
    if not own:
        raise ValueError(f"quiz answer {name!r} = {answer!r} is not a finite number, a bool or a text")
    return {"salt": salt, "rtol": rtol, "atol": atol, "kind": type(answer).__name__,
            "answer": _digest(salt, name, own[0]),
            "slips": [{"hash": _digest(salt, name, keys(s.value, rtol, atol)[0]), "message": s.message}
                      for s in slips if keys(s.value, rtol, atol)]}


def verdict(name: str, value, entry: dict) -> tuple[bool, str]:
    "(right?, message) for a learner's answer, from the learner store's entry."
    expected_kind = entry["kind"]
    if expected_kind in ("int", "float") and not _is_number(value):
        return False, f"answer with a number, not {value!r}"
    if expected_kind == "bool" and not isinstance(value, bool):
        return False, f"answer True or False, not {value!r}"
    if expected_kind == "str" and not isinstance(value, str):
        return False, f"answer with one of the options as a string, not {value!r}"
    if _is_number(value) and not math.isfinite(value):
        return False, f"{value!r} is not a finite number"
    hashes = []
    # Nearest bucket first, and stop at the answer's: each hash costs milliseconds on purpose, and a right
    # answer is usually in its own bucket (a wrong one needs them all, to name its slip).
    for key in keys(value, entry["rtol"], entry["atol"], spread=WINDOW if _is_number(value) else 0):
        hashes.append(_digest(entry["salt"], name, key))
        if hashes[-1] == entry["answer"]:
            return True, "right"
    for slip in entry["slips"]:
        if slip["hash"] in hashes:
            return False, f"not right: {slip['message']}"
    return False, "not right (no typical slip matches: recompute it step by step)"
