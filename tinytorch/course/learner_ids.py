"""Learner ids: which are safe to use as a folder name, and which two can't be told apart.

A learner id becomes a folder, `COURSE/submitted/ID/`, and a row of the gradebook. It arrives
from places a learner controls (`handin.json`, the name of a zip, a folder or a notebook) or
from an instructor's `--id-pattern`, so every id goes through `check_learner_id` before it is
used: it must be text of letters (any script), digits, `.`, `_` or `-`, start with a letter or
digit, and be at most 64 characters. That leaves out path separators, `..`, absolute paths,
control and invisible characters and empty ids, each refused with a message naming the value.

Ids are stored in Unicode's composed form (NFC), the form of the folder names. Two spellings
are one learner only when they are identical: ids that differ only in case or in how an accent
is written ("Ada" and "ada"; "José" typed on a Mac as "Jose" plus a combining accent, and on
Windows as one "é") would share a folder on macOS and Windows, and may be two people or one
person typing their name twice. `same_key` finds such pairs so that the caller reports them
instead of guessing. "José" and "Jose" are different learners.
"""
import unicodedata

MAX_LENGTH = 64
ALLOWED_PUNCTUATION = "._-"


class UnsafeLearnerId(ValueError):
    "A learner id that can't be used; the message names the value and what is wrong with it."


def _describe(value) -> str:
    return f"learner id {value!r}"


def _first_bad_character(text: str) -> str | None:
    "Why `text` can't be an id because of one of its characters, or None."
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "/\\":
            return f"contains the path separator {ch!r}"
        if category.startswith("C"):  # Cc control, Cf invisible format (bidi overrides, zero-width), Co, Cs, Cn
            return f"contains the control or invisible character U+{ord(ch):04X}"
        if ch.isspace():
            return "contains a space"
        if not (category[0] in "LMN" or ch in ALLOWED_PUNCTUATION):
            return f"contains {ch!r}; use letters, digits, '.', '_' or '-'"
    return None


def learner_id_problem(value) -> str | None:
    "What makes `value` unusable as a learner id (a phrase), or None when it is fine."
    if value is None:
        return "is missing"
    if not isinstance(value, str):
        return f"is {type(value).__name__}, not text"
    if not value:
        return "is empty"
    text = unicodedata.normalize("NFC", value)
    if text.startswith(("/", "\\")) or (len(text) > 1 and text[1] == ":"):
        return "is an absolute path"
    if text in (".", "..") or ".." in text:
        return "contains '..' (the parent folder)"
    bad = _first_bad_character(text)
    if bad:
        return bad
    if not text[0].isalnum():
        return "does not start with a letter or digit"
    if len(text) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    return None


def check_learner_id(value) -> str:
    "`value` as a usable learner id (NFC-normalised); UnsafeLearnerId when it is not one."
    problem = learner_id_problem(value)
    if problem:
        raise UnsafeLearnerId(f"{_describe(value)} {problem}")
    return unicodedata.normalize("NFC", value)


def same_key(learner_id: str) -> str:
    "Equal for two ids that would be taken for one learner (case, composed or decomposed accents)."
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", learner_id).casefold())
