"""Fill in the stored expected values of module 03's trajectory tests.

The test cells of `modules/03_optimizers/optimizers.ipynb` hold pairs of literals,
`_NAME_CASES = {...}` (what to run) and `_NAME_EXPECTED = {...}` (two checksums per case),
and a call `check_cases(OptimizerClass, _NAME_CASES, _NAME_EXPECTED)`. This script runs
every case with the reference package (the notebook's own locked `test_problem` cell on
`tinytorch.core.optimizers`) and rewrites the `_NAME_EXPECTED` literals in place.

    python tools/make_optimizer_expectations.py            # rewrite the notebook
    python tools/make_optimizer_expectations.py --check    # exit 1 if a stored value is stale

tests/test_optimizers_expectations.py checks the stored values against the reference and
against torch.optim, so they cannot drift.
"""
import ast
import functools
import sys
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "modules" / "03_optimizers" / "optimizers.ipynb"
HARNESS_CELL = "test_problem"


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def harness(nb, namespace=None):
    "The notebook's locked test-problem cell, executed: {'run_test_problem': ..., 'check_cases': ..., ...}."
    import numpy as np

    from tinytorch.core.tensor import Tensor
    namespace = dict(namespace or {})
    namespace.setdefault("np", np)
    namespace.setdefault("Tensor", Tensor)
    cell = next(c for c in nb.cells if _grade_id(c) == HARNESS_CELL)
    exec(compile(cell.source, f"<{HARNESS_CELL} cell>", "exec"), namespace)
    return namespace


def case_tables(nb):
    """Every `check_cases(Class, _X_CASES, _X_EXPECTED)` of the notebook, as a list of
    dicts: grade_id, class name, cases, expected, and where the expected literal sits."""
    tables = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "check_cases(" not in cell.source or _grade_id(cell) == HARNESS_CELL:
            continue
        tree = ast.parse(cell.source)
        literals = {node.targets[0].id: node for node in tree.body
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.endswith(("_CASES", "_EXPECTED"))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_cases":
                class_name, cases_name, expected_name = (arg.id for arg in node.args[:3])
                tables.append({"cell": index, "grade_id": _grade_id(cell), "class": class_name,
                               "cases": ast.literal_eval(literals[cases_name].value),
                               "expected": ast.literal_eval(literals[expected_name].value),
                               "expected_name": expected_name, "expected_node": literals[expected_name]})
    return tables


def run_cases(run_test_problem, make_class, cases):
    "{case name: (path checksum, end checksum)} for `make_class(params, **options)` on every case."
    results = {}
    for name, case in cases.items():
        case = dict(case)
        options = case.pop("options")
        results[name] = run_test_problem(functools.partial(make_class, **options), **case)
    return results


def _format(expected_name, values):
    lines = [f"{expected_name} = {{"]
    lines += [f"    {name!r}: ({path!r}, {end!r})," for name, (path, end) in values.items()]
    return "\n".join(lines + ["}"])


def main(check=False):
    from tinytorch.core import optimizers
    nb = nbformat.read(NOTEBOOK, as_version=4)
    run = harness(nb)["run_test_problem"]
    stale = []
    # Rewrite from the bottom of each cell up, so earlier line numbers stay valid.
    for table in sorted(case_tables(nb), key=lambda t: (t["cell"], -t["expected_node"].lineno)):
        values = run_cases(run, getattr(optimizers, table["class"]), table["cases"])
        if values != table["expected"]:
            stale.append(f"{table['grade_id']}: {table['expected_name']}")
        cell = nb.cells[table["cell"]]
        lines = cell.source.split("\n")
        node = table["expected_node"]
        lines[node.lineno - 1:node.end_lineno] = _format(table["expected_name"], values).split("\n")
        cell.source = "\n".join(lines)
    if check:
        print("stale:", ", ".join(stale) if stale else "none")
        return 1 if stale else 0
    nbformat.write(nb, NOTEBOOK)
    print(f"updated {len(stale)} table(s) of expected values in {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv[1:]))
