"""Every figure a notebook's prose quotes is one that a cell above it computed.

The prose marks a quoted figure with `<!--claim:KEY-->` right after it; the cell that computes
it prints it through `tinytorch.course.claims.claim(KEY, value)`. This test runs each notebook
that has markers and checks every marker against what the run claimed (see CONTRIBUTING.md,
"Numbers in the prose"). The parser and the rounding rule are tested on their own first, so
that a wrong figure is known to fail.
"""
import pytest
from helpers import ROOT, module_notebooks, read_nb

from tinytorch.course.claims import Quote, cell_fingerprint, quote_matches, quotes_in, read_claims

MARKED = [nb for _, nb in module_notebooks() if "<!--claim:" in nb.read_text()]


# ------------------------------------------------------------------ the rule, on its own
@pytest.mark.parametrize("markdown, expected", [
    ("peaks at 6.57<!--claim:bias.peak-->× lr", [("bias.peak", "6.57", 6.57)]),
    ("**31.6**<!--claim:v_only-->× and 4.9e-5<!--claim:m.valley--> then 101,770<!--claim:n-->",
     [("v_only", "31.6", 31.6), ("m.valley", "4.9e-5", 4.9e-5), ("n", "101,770", 101770.0)]),
    ("the winner is Adam<!--claim:best-->.", [("best", "Adam", None)]),
])
def test_markers_are_parsed(markdown, expected):
    assert [(q.key, q.text, q.number) for q in quotes_in(markdown)] == expected


def test_a_marker_after_neither_number_nor_word_is_refused():
    with pytest.raises(ValueError, match="claim:lost"):
        quotes_in("a figure in the wrong place: × <!--claim:lost-->")


@pytest.mark.parametrize("text, value, ok", [
    ("6.57", 6.5685, True), ("6.57", 6.575001, False), ("6.6", 6.5685, True), ("6.5", 6.5685, False),
    ("112", 112.4, True), ("112", 112.6, False), ("4.9e-5", 4.93e-5, True), ("4.9e-5", 5.0e-5, False),
    ("0.1998", 0.19984, True), ("0.2", 0.1998, True), ("0.20", 0.2051, False),
])
def test_a_quote_is_the_value_rounded_to_its_digits(text, value, ok):
    assert quote_matches(Quote("k", text, float(text)), value) is ok


def test_a_text_quote_must_be_equal():
    assert quote_matches(Quote("k", "Adam", None), "Adam")
    assert not quote_matches(Quote("k", "Adam", None), "SGD")
    assert not quote_matches(Quote("k", "Adam", None), 1.0)


# ------------------------------------------------------------------ the notebooks
def test_some_notebook_uses_the_markers():
    assert MARKED, "no notebook marks its quoted figures: this test would check nothing"


@pytest.mark.slow
@pytest.mark.parametrize("path", MARKED, ids=[str(p.relative_to(ROOT)) for p in MARKED])
def test_every_quoted_figure_is_computed_above_it(path, executed_notebook):
    run = executed_notebook(path)   # the run tests/test_notebooks_run.py checks too (conftest.py: once per test run)
    nb = run.nb
    errors = [(r.grade_id, r.error) for r in run.results if r.error]
    assert not errors, f"cells raised: {errors}"
    claims = read_claims(run.claims_file)
    cell_of = {cell_fingerprint(cell.source): i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}

    problems, checked = [], 0
    for i, cell in enumerate(read_nb(path).cells):
        if cell.cell_type != "markdown":
            continue
        for quote in quotes_in(cell.source):
            records = claims.get(quote.key)
            if not records:
                problems.append(f"cell {i}: {quote.text!r} is marked {quote.key!r}, but no cell claimed that key")
                continue
            if len({repr(r["value"]) for r in records}) > 1:
                problems.append(f"cell {i}: key {quote.key!r} was claimed with different values "
                                f"{[r['text'] for r in records]}: which one does the prose mean?")
                continue
            record = records[-1]
            where = cell_of.get(record["cell"])
            if where is None or where > i:
                problems.append(f"cell {i}: {quote.key!r} is claimed by cell {where}, which is not above the prose")
            if not quote_matches(quote, record["value"]):
                problems.append(f"cell {i}: the prose says {quote.text} for {quote.key!r}; "
                                f"the notebook computed {record['value']!r} (printed {record['text']})")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked > 0
