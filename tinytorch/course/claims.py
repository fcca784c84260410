"""Numbers the prose quotes, recorded where a cell computes them, so a test can compare the two.

A code cell prints a figure through `claim`, which returns the figure formatted and remembers it
under a key:

    print(f"the uncorrected step peaks at {claim('bias.peak', peak, '.2f')} x lr")

The Markdown that quotes the figure marks it with the same key, in an HTML comment right after
the number (Jupyter and Quarto render nothing for the comment):

    Without the correction the step peaks at 6.57<!--claim:bias.peak-->× the learning rate.

`tests/test_prose_claims.py` runs every notebook that has such markers with
`TINYTORCH_CLAIMS_FILE` set; `claim` then appends one JSON line per figure to that file, and the
test checks that every marked number was claimed by a code cell above it and is that figure
rounded to the digits the prose shows (a text claim, such as an optimizer's name, must be equal).
Without the variable (a learner's kernel, grading) `claim` only formats.
"""
import hashlib
import json
import math
import numbers
import os
import re
from dataclasses import dataclass

ENV_FILE = "TINYTORCH_CLAIMS_FILE"

# A number as prose writes it (1,234.5  -0.1  4.9e-5  31.6), possibly wrapped in ** or $, then the marker.
MARKER = re.compile(r"(?P<number>[-−]?\d[\d,]*(?:\.\d+)?(?:[eE][-+−]?\d+)?)(?P<wrap>[*_$`]*)"
                    r"<!--\s*claim:\s*(?P<key>[\w.\-]+)\s*-->")
# A marker whose key follows a word, not a number: `<!--claim:best.optimizer-->` after "Adam".
TEXT_MARKER = re.compile(r"(?P<text>[\w\-]+)(?P<wrap>[*_$`]*)<!--\s*claim:\s*(?P<key>[\w.\-]+)\s*-->")
ANY_MARKER = re.compile(r"<!--\s*claim:\s*(?P<key>[\w.\-]+)\s*-->")
KEY = re.compile(r"^[\w.\-]+$")


def claim(key: str, value, fmt: str | None = None) -> str:
    """`value` formatted with `fmt` (default: 3 significant digits for floats), recorded under `key`.

    `value` is a number or a short text; `key` is letters, digits, `_`, `.` and `-`.
    """
    if not isinstance(key, str) or not KEY.match(key):
        raise ValueError(f"claim key {key!r}: use letters, digits, '_', '.' and '-' only")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"claim {key!r}: value {value!r} is neither a number nor a text")
    if isinstance(value, numbers.Real):
        value = int(value) if isinstance(value, numbers.Integral) else float(value)
    text = format(value, fmt if fmt is not None else (".3g" if isinstance(value, float) else ""))
    path = os.environ.get(ENV_FILE)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"key": key, "value": value, "text": text, "cell": _running_cell()}) + "\n")
    return text


def cell_fingerprint(source: str) -> str:
    "A short hash of a code cell's source: how a claim names the cell that made it."
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def _running_cell():
    "The fingerprint of the cell being run (its raw source, as IPython recorded it), None outside IPython."
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    return cell_fingerprint(history[-1]) if history else None


@dataclass(frozen=True)
class Quote:
    "A figure the prose quotes: the key, the text as written, and the number it means (None for a word)."
    key: str
    text: str
    number: float | None


def _to_number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def quotes_in(markdown: str) -> list[Quote]:
    "Every marked figure of a Markdown text; a marker after neither a number nor a word is an error."
    found, spans = [], []
    for m in MARKER.finditer(markdown):
        found.append((m.start("key"), Quote(m["key"], m["number"], _to_number(m["number"]))))
        spans.append(m.span())
    for m in TEXT_MARKER.finditer(markdown):
        if not any(start <= m.start("key") < end for start, end in spans) and not m["text"][-1].isdigit():
            found.append((m.start("key"), Quote(m["key"], m["text"], None)))
            spans.append(m.span())
    for m in ANY_MARKER.finditer(markdown):
        if not any(start <= m.start("key") < end for start, end in spans):
            raise ValueError(f"claim marker {m.group(0)!r} does not follow a number or a word: "
                             f"write the figure right before it, e.g. 6.57<!--claim:{m['key']}-->")
    return [quote for _, quote in sorted(found, key=lambda pair: pair[0])]


def decimals_shown(text: str) -> tuple[int, int]:
    "(digits after the point, power of ten) of a number as written: '4.9e-5' -> (1, -5), '112' -> (0, 0)."
    text = text.replace(",", "").replace("−", "-")
    mantissa, _, exponent = text.lower().partition("e")
    return (len(mantissa.partition(".")[2]), int(exponent) if exponent else 0)


def quote_matches(quote: Quote, value) -> bool:
    "Whether the prose's figure is `value` rounded to the digits it shows (equal, for a text)."
    if quote.number is None or isinstance(value, str):
        return isinstance(value, str) and quote.number is None and quote.text == value
    if not math.isfinite(value):
        return False
    digits, power = decimals_shown(quote.text)
    half_unit = 0.5 * 10.0 ** (power - digits)
    return abs(value - quote.number) <= half_unit * (1 + 1e-9)


def read_claims(path) -> dict[str, list[dict]]:
    "{key: [record, ...]} from a claims file, in the order the cells claimed them."
    claims: dict[str, list[dict]] = {}
    if not os.path.exists(path):
        return claims
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            claims.setdefault(record["key"], []).append(record)
    return claims
