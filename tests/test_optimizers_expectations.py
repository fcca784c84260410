"""The values module 03's trajectory checks expect are what torch.optim computes.

Grading never needs torch: the trajectory checks of optimizers.ipynb compare with values recorded
from the reference by tools/record_checks.py: the hidden ones (150 steps of every case, one weighted
sum per step) in the instructor store modules/03_optimizers/optimizers.checks.json, the visible ones
(the first three steps, every element) there and in the learner store. These tests read the cases out
of the notebook's hidden parts, run them through the notebook's own locked `test_problem` cell with
torch.optim doing every step in float64, and compare with the recorded values, so a wrong stored
value is caught; and they check that the recorded tolerance tells the reference from a slightly
different optimizer.
"""
import ast
import re

import numpy as np
import pytest
from helpers import ROOT, read_nb

from tinytorch.checks.judge import judge
from tinytorch.checks.stores import INSTRUCTOR_SUFFIX, read_store
from tinytorch.core import optimizers
from tinytorch.core.tensor import Tensor
from tinytorch.course.notebooks import BEGIN_HIDDEN, END_HIDDEN, cells_by_grade_id, marked_regions

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

NOTEBOOK = ROOT / "modules" / "03_optimizers" / "optimizers.ipynb"
CELLS = cells_by_grade_id(read_nb(NOTEBOOK))
STORE = read_store(NOTEBOOK.with_name(NOTEBOOK.stem + INSTRUCTOR_SUFFIX), NOTEBOOK.stem)
# (test cell, the name of its table of cases, the optimizer)
TABLES = [("test_sgd_trajectories", "_SGD_CASES", "SGD"), ("test_adam_trajectories", "_ADAM_CASES", "Adam"),
          ("test_adamw", "_ADAMW_CASES", "AdamW")]
# The visible checks of the first three steps: (test cell, check, optimizer, options).
VISIBLE = [
    ("test_sgd_trajectories", "SGD(lr=0.1), the test problem: every parameter after steps 1 to 3", "SGD", {"lr": 0.1}),
    ("test_sgd_trajectories", "SGD(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05), the test problem: "
     "every parameter after steps 1 to 3", "SGD",
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("test_adam_trajectories", "Adam(lr=0.05), the test problem: every parameter after steps 1 to 3", "Adam",
     {"lr": 0.05}),
    ("test_adam_trajectories", "Adam(lr=0.05, amsgrad=True, weight_decay=0.1), the test problem: every parameter after "
     "steps 1 to 3", "Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("test_adamw", "AdamW(lr=0.05, weight_decay=0.5), the test problem: every parameter after steps 1 to 3", "AdamW",
     {"lr": 0.05, "weight_decay": 0.5}),
]


def harness():
    "The notebook's locked test_problem cell, executed: test_problem_case, test_problem_path, describe_case, ..."
    namespace = {"np": np, "Tensor": Tensor}
    exec(compile(CELLS["test_problem"].source, "<test_problem cell>", "exec"), namespace)
    return namespace


HARNESS = harness()


def hidden_cases(grade_id, table):
    "The literal table `table` (`_SGD_CASES = {...}`) of a test cell's hidden part."
    [hidden] = marked_regions(CELLS[grade_id].source, BEGIN_HIDDEN, END_HIDDEN)
    for node in ast.parse(hidden).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [table]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{grade_id}: no table {table} in its hidden part")


CASES = [(grade_id, cls, name, case) for grade_id, table, cls in TABLES
         for name, case in hidden_cases(grade_id, table).items()]


def recorded(grade_id, check):
    entry = STORE.check(grade_id, check) if STORE else None
    assert entry is not None, f"{grade_id}: no recorded check {check!r} (run tools/record_checks.py {NOTEBOOK})"
    return entry


class TorchDriven:
    """Looks like a tinytorch optimizer to the notebook's harness, but every step is torch.optim's.

    It mirrors the tinytorch parameters into float64 torch tensors, hands torch the gradients
    the harness set, and copies torch's updated values back."""

    def __init__(self, torch_class, params, **options):
        groups = list(params)
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.pairs, torch_groups = [], []
        for group in groups:
            mirrored = [torch.tensor(p.data.copy(), dtype=torch.float64, requires_grad=True) for p in group["params"]]
            self.pairs += list(zip(group["params"], mirrored))
            torch_groups.append({**group, "params": mirrored})
        self.optimizer = torch_class(torch_groups, **options)

    def zero_grad(self, set_to_none=True):
        for p, _ in self.pairs:
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self):
        for p, mirrored in self.pairs:
            mirrored.grad = None if p.grad is None else torch.tensor(p.grad.data.copy(), dtype=torch.float64)
        self.optimizer.step()
        for p, mirrored in self.pairs:
            p.data[...] = mirrored.detach().numpy()

    @property
    def param_groups(self):
        "torch's own groups: a schedule in the harness changes torch's hyperparameters."
        return self.optimizer.param_groups

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)


def torch_optimizer(name):
    return lambda params, **options: TorchDriven(getattr(torch.optim, name), params, **options)


def first_divergence(got, want, rtol, atol):
    bad = np.argwhere(~np.isclose(got, want, rtol=rtol, atol=atol))
    return None if bad.size == 0 else f"first differs after step {bad[0][0] + 1}, column {bad[0][1]}"


def test_every_case_is_recorded_as_a_hidden_trajectory():
    assert {cls for _, cls, _, _ in CASES} == {"SGD", "Adam", "AdamW"}
    assert len(CASES) >= 25
    for grade_id, cls, name, case in CASES:
        entry = recorded(grade_id, HARNESS["describe_case"](cls, case))
        assert entry.kind == "trajectory" and entry.hidden, (grade_id, name)
        assert np.shape(entry.expected) == (150, len(HARNESS["SUMMARY_COLUMNS"])), (grade_id, name)
        assert entry.options["rtol"] <= 1e-9, (grade_id, name, entry.options)


@pytest.mark.parametrize("grade_id, cls, name, case", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_recorded_hidden_trajectory_is_torchs(grade_id, cls, name, case):
    want = np.array(recorded(grade_id, HARNESS["describe_case"](cls, case)).expected)
    got = HARNESS["test_problem_case"](torch_optimizer(cls), case)
    problem = first_divergence(got, want, rtol=1e-10, atol=1e-10)
    assert problem is None, f"{cls} case {name!r}: the recorded trajectory is not torch.optim's: {problem}"


@pytest.mark.parametrize("grade_id, check, cls, options", VISIBLE, ids=[v[1].split(",")[0] + "..." for v in VISIBLE])
def test_recorded_visible_steps_are_torchs(grade_id, check, cls, options):
    entry = recorded(grade_id, check)
    assert not entry.hidden and entry.kind == "trajectory"
    want = np.array(entry.expected)
    got = HARNESS["test_problem_path"](lambda params: torch_optimizer(cls)(params, **options))
    assert want.shape == (3, len(HARNESS["TEST_PROBLEM_COLUMNS"]))
    problem = first_divergence(got, want, rtol=1e-10, atol=1e-10)
    assert problem is None, f"{check}: the recorded steps are not torch.optim's: {problem}"
    # what the learner's kernel judges against is the same value
    learner = read_store(ROOT / "tinytorch" / "checks" / "data" / "optimizers.json", "optimizers")
    assert learner.check(grade_id, check).expected == entry.expected


@pytest.mark.parametrize("grade_id, cls, name, case", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_the_recorded_tolerance_passes_the_package_and_fails_a_nudged_learning_rate(grade_id, cls, name, case):
    "The package (what the notebook exports) matches its store; a 1e-6 change of lr already fails the check."
    entry = recorded(grade_id, HARNESS["describe_case"](cls, case))
    optimizer = getattr(optimizers, cls)
    got = HARNESS["test_problem_case"](optimizer, case).tolist()
    assert judge("trajectory", got, entry.expected, entry.options).passed, \
        f"{cls} case {name!r}: the store is stale (run tools/record_checks.py {NOTEBOOK})"
    nudged = {**case, "options": {**case["options"], "lr": case["options"]["lr"] * (1 + 1e-6)}}
    if "schedule" in case and "lr" in case["schedule"]:  # a schedule overrides lr before every step: nudge it there
        nudged["schedule"] = {**case["schedule"], "lr": [lr * (1 + 1e-6) for lr in case["schedule"]["lr"]]}
    got = HARNESS["test_problem_case"](optimizer, nudged).tolist()
    verdict = judge("trajectory", got, entry.expected, entry.options, reveal=False)
    assert not verdict.passed, f"{cls} case {name!r}: lr × (1 + 1e-6) passes the recorded check"
    assert re.match(r"first difference after step \d+, the weighted sum", verdict.message), verdict.message
