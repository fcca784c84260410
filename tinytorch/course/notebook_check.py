"""Is this notebook gradable? One checker, one set of messages, for `handin` and `grade`.

`tinytorch handin` runs it on the learner's machine before packing (the problems become
warnings), the grader runs it on every submitted notebook (the problems become notes in the
learner's feedback, and a fatal one means nothing of the notebook is run). The rules:

* the file is there, not empty, not larger than `MAX_NOTEBOOK_BYTES`;
* it is JSON nested at most `MAX_JSON_DEPTH` levels (a learner's file is read with a limit, so
  that deeply nested lists are a message, never a `RecursionError` that stops the grader);
* it is a Jupyter notebook (an object with a list of cells) and, ideally, valid nbformat 4;
* every graded cell the learner received is still there, once, and the test cells are unchanged;
  no cell claims to be a graded cell the course does not have.

Bytes that are not UTF-8 are read as U+FFFD with a warning rather than refused: one bad byte in
an output should not cost a learner their grade.

    expected = {"test_matmul": ExpectedCell("test_matmul", "test", points=3, test_digest=...)}
    check = check_notebook_file(path, expected)   # expected=None: the graded cells are not known
    check.gradable, [p.message for p in check.problems], check.notebook (the parsed JSON)

Grading gets `expected` from `submissions.ExpectedNotebook.expected_cells`, `tinytorch handin`
from the student tree's marker (`handin.released_cells`); both give the same ExpectedCell for a
cell, so a learner reads the same sentence before handing in and in the feedback.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 100 * 2**20   # a notebook with many figures is a few MB; this is not one
MAX_JSON_DEPTH = 64                # Jupyter writes about 8 levels; widget state a few more


@dataclass(frozen=True)
class ExpectedCell:
    "A graded cell of the released notebook, as the checker needs to know it."
    grade_id: str
    kind: str                       # "test", "exercise" (a solution cell) or "other" (locked text, tasks)
    points: float | None = None     # 0 for an ungraded cell; None: not known (an older student tree)
    test_digest: str | None = None  # source_digest() of the test as released; None: not known
    checksum: str | None = None     # nbgrader's checksum of the released cell (older student trees)


@dataclass(frozen=True)
class Problem:
    code: str                       # stable name, e.g. "not_json", "deleted_cell", "changed_test"
    message: str                    # for the learner: what is wrong and what it costs or what to do
    grade_id: str | None = None
    fatal: bool = False             # True: nothing of this notebook can be graded


@dataclass
class NotebookCheck:
    name: str                       # the file name, "tensor.ipynb"
    notebook: dict | None = None    # the parsed JSON when it is a notebook; never modified here
    problems: list = field(default_factory=list)

    @property
    def gradable(self) -> bool:
        return self.notebook is not None and not any(p.fatal for p in self.problems)

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]


def source_digest(source) -> str:
    "A fingerprint of a cell's source that ignores leading and trailing blank space."
    text = "".join(source) if isinstance(source, list) else str(source or "")
    return hashlib.sha256(text.strip().encode("utf-8", errors="surrogatepass")).hexdigest()


def json_depth_exceeds(value, limit: int) -> bool:
    "True when `value` nests lists/objects more than `limit` deep (iterative: never recurses)."
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))
    return False


def load_json(data: bytes, name: str, max_bytes: int = MAX_NOTEBOOK_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """(value, problems) of JSON bytes from a learner; value is None when they can't be read.

    Used for notebooks and for `handin.json`; each problem names the file."""
    if len(data) > max_bytes:
        return None, [Problem("too_big", f"{name} is {len(data) / 2**20:.1f} MB, more than the "
                              f"{max_bytes / 2**20:g} MB a file may have", fatal=True)]
    problems = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8-sig", errors="replace")
        problems.append(Problem("not_utf8", f"{name} has bytes that are not UTF-8 text (from byte {e.start}); "
                                "they were read as \ufffd"))
    if not text.strip():
        return None, problems + [Problem("empty", f"{name} is empty", fatal=True)]
    too_deep = False
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return None, problems + [Problem("not_json", f"{name} is not valid JSON ({e.msg} at line {e.lineno}, "
                                         f"column {e.colno})", fatal=True)]
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        return None, problems + [Problem("not_json", f"{name} is not valid JSON ({str(e)[:80]})", fatal=True)]
    except RecursionError:
        too_deep = True
    if too_deep or json_depth_exceeds(value, max_depth):
        return None, problems + [Problem("too_deep", f"{name} nests its JSON more than {max_depth} levels "
                                         "deep, far more than Jupyter ever writes", fatal=True)]
    return value, problems


def _nbformat_problem(raw: dict, name: str) -> Problem | None:
    "A warning when `raw` is not valid nbformat 4 (the grader rebuilds it from its cells anyway)."
    import warnings

    import nbformat
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about what it would repair; the message says it
            nbformat.validate(nbformat.from_dict(json.loads(json.dumps(raw))), version=4)  # on a copy
    except nbformat.ValidationError as e:
        where = "/".join(str(p) for p in list(e.absolute_path)[:4])
        return Problem("not_nbformat", f"{name} does not follow the notebook format ({e.message[:120]}"
                       f"{' at ' + where if where else ''}); only its cells' types and sources are used")
    except Exception as e:  # nbformat itself failing on odd input is the same warning
        return Problem("not_nbformat", f"{name} does not follow the notebook format ({type(e).__name__}); "
                       "only its cells' types and sources are used")
    return None


def read_notebook(data: bytes, name: str, validate_format: bool = True) -> NotebookCheck:
    """Parse a notebook file's bytes: the structure rules (see the module's docstring).
    `validate_format=False` skips the (slower) nbformat schema, which is never fatal."""
    raw, problems = load_json(data, name)
    check = NotebookCheck(name, problems=problems)
    if raw is None:
        return check
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        check.problems.append(Problem("not_notebook", f"{name} is valid JSON but not a Jupyter notebook "
                                      "(it has no list of cells)", fatal=True))
        return check
    check.notebook = raw
    invalid = _nbformat_problem(raw, name) if validate_format else None
    if invalid:
        check.problems.append(invalid)
    return check


def nbgrader_of(cell) -> dict:
    "A raw cell's nbgrader metadata, {} when it has none or it is not an object."
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def _test_changed(cell: dict, expected: ExpectedCell | None, meta: dict) -> bool:
    if expected is not None and expected.test_digest:
        return source_digest(cell.get("source", "")) != expected.test_digest
    checksum = (expected.checksum if expected else None) or meta.get("checksum")
    if not (checksum and meta.get("locked") and not meta.get("solution")):
        return False
    import nbformat
    from nbgrader.utils import compute_checksum
    node = nbformat.from_dict(json.loads(json.dumps(cell)))
    node.source = "".join(node.source) if isinstance(node.get("source"), list) else str(node.get("source", ""))
    try:
        return compute_checksum(node) != checksum
    except (KeyError, ValueError, TypeError):
        return False


def check_cells(check: NotebookCheck, expected: dict | None) -> None:
    """Add the graded-cell problems of `check.notebook` against `expected` ({grade_id: ExpectedCell};
    {} for a notebook without graded cells; None when not known: then only what the notebook says
    about itself is checked)."""
    name, seen, known_cells = check.name, {}, expected is not None
    expected = expected or {}
    for index, cell in enumerate(check.notebook["cells"]):
        if not isinstance(cell, dict):
            check.problems.append(Problem("not_a_cell", f"{name}: cell {index + 1} is not a notebook cell; "
                                          "it is left out"))
            continue
        meta = nbgrader_of(cell)
        grade_id = meta.get("grade_id")
        if not meta or grade_id is None:
            continue
        if expected and (not isinstance(grade_id, str) or grade_id not in expected):
            check.problems.append(Problem("unknown_cell", f"{name}: cell {index + 1} carries grading metadata "
                                          f"that is not part of the course (grade id {grade_id!r}); it is run "
                                          "as an ordinary cell", str(grade_id)))
            continue
        seen.setdefault(grade_id, []).append(cell)
    for grade_id, copies in seen.items():
        if len(copies) > 1:
            check.problems.append(Problem("duplicate_cell", f"{name}: cell {grade_id} appears {len(copies)} times; "
                                          "only the last copy is graded", grade_id))
        known, meta = expected.get(grade_id), nbgrader_of(copies[-1])
        kind = known.kind if known and known.kind else "test" if meta.get("grade") and not meta.get("solution") else ""
        if kind == "test" and _test_changed(copies[-1], known, meta):
            check.problems.append(Problem("changed_test", f"{name}: test cell {grade_id} was changed; the autograder "
                                          "runs the original test, so changes there have no effect", grade_id))
    for grade_id, cell in expected.items():
        if grade_id in seen:
            continue
        if cell.kind == "test" and cell.points is not None:
            message = (f"test cell {grade_id} was deleted; it scores 0 of {cell.points:g} points. "
                       "Copy it back from a fresh copy of the module")
        elif cell.kind == "exercise":
            message = (f"exercise cell {grade_id} was deleted; the tests that need it fail. "
                       "Copy it back from a fresh copy of the module")
        elif cell.kind == "other":
            continue  # a locked text cell: deleting it costs nothing
        else:
            message = f"cell {grade_id} was deleted; its points score 0. Copy it back from a fresh copy of the module"
        check.problems.append(Problem("deleted_cell", f"{name}: {message}", grade_id))
    if not seen and (expected or not known_cells):  # a notebook that never had graded cells is fine
        check.problems.append(Problem("no_graded_cells", f"{name} has no graded cells left: was the grading "
                                      "metadata removed? Nothing in it can be graded"))


def points_at_stake(expected: dict | None) -> float | None:
    "The points of the expected cells, None when not known."
    points = [c.points for c in (expected or {}).values()]
    return sum(points) if points and None not in points else None


def _cost(expected: dict) -> str:
    total = points_at_stake(expected)
    return f"its {total:g} points score 0" if total is not None else "nothing in it can be graded"


def check_notebook_bytes(data: bytes, name: str, expected: dict | None) -> NotebookCheck:
    "Every rule, on a notebook's bytes; a fatal problem says what it costs."
    check = read_notebook(data, name)
    if check.notebook is None:
        check.problems = [Problem(p.code, f"{p.message}: {_cost(expected)}" if p.fatal else p.message,
                                  p.grade_id, p.fatal) for p in check.problems]
        return check
    check_cells(check, expected)
    return check


def check_notebook_file(path, expected: dict | None) -> NotebookCheck:
    "Every rule, on the notebook at `path` (missing is a fatal problem too)."
    path = Path(path)
    if not path.is_file():
        return NotebookCheck(path.name, problems=[Problem(
            "missing", f"{path.name} is missing from the submission: {_cost(expected)}", fatal=True)])
    with open(path, "rb") as f:
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    return check_notebook_bytes(data, path.name, expected)
