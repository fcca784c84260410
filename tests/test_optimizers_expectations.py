"""The expected values stored in module 03's trajectory tests are right, and up to date.

Each `_NAME_EXPECTED` table of the notebook must equal what the reference package computes
(tools/make_optimizer_expectations.py writes them) and what torch.optim computes on the same
test problem, driven through the notebook's own locked harness.
"""
import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest
torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core import optimizers

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_optimizer_expectations", ROOT / "tools" / "make_optimizer_expectations.py")
expectations = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(expectations)

NB = nbformat.read(expectations.NOTEBOOK, as_version=4)
TABLES = expectations.case_tables(NB)
RUN_TEST_PROBLEM = expectations.harness(NB)["run_test_problem"]


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
            mirrored = [torch.tensor(p.data.copy(), requires_grad=True) for p in group["params"]]
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
            mirrored.grad = None if p.grad is None else torch.tensor(p.grad.data.copy())
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


def test_every_table_is_found():
    assert {t["class"] for t in TABLES} == {"SGD", "Adam", "AdamW"}
    assert sum(len(t["cases"]) for t in TABLES) >= 20
    hidden = [t for t in TABLES if "VISIBLE" not in t["expected_name"]]
    assert all(t["cases"] and set(t["cases"]) == set(t["expected"]) for t in TABLES)
    assert len(hidden) == 3 and all(len(t["cases"]) >= 6 for t in hidden)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t["expected_name"])
def test_stored_values_are_the_reference(table):
    got = expectations.run_cases(RUN_TEST_PROBLEM, getattr(optimizers, table["class"]), table["cases"])
    for name, values in table["expected"].items():
        np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-12, err_msg=f"{table['expected_name']}[{name!r}] is stale: "
                                   "run tools/make_optimizer_expectations.py")


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t["expected_name"])
def test_stored_values_agree_with_torch(table):
    torch_class = getattr(torch.optim, table["class"])
    got = expectations.run_cases(RUN_TEST_PROBLEM, lambda params, **options: TorchDriven(torch_class, params, **options),
                                 table["cases"])
    for name, values in table["expected"].items():
        np.testing.assert_allclose(got[name], values, rtol=1e-10, atol=1e-10, err_msg=f"{table['expected_name']}[{name!r}]")


def test_hidden_tolerance_separates_the_reference_from_a_perturbed_optimizer():
    "The notebook compares with rtol 1e-9: a 1e-6 change of one hyperparameter must already fail."
    table = next(t for t in TABLES if t["expected_name"] == "_ADAM_EXPECTED")
    check_cases = expectations.harness(NB)["check_cases"]
    check_cases(optimizers.Adam, table["cases"], table["expected"])
    nudged = {name: {**case, "options": {**case["options"], "lr": case["options"]["lr"] * (1 + 1e-6)}}
              for name, case in table["cases"].items()}
    with pytest.raises(AssertionError):
        check_cases(optimizers.Adam, nudged, table["expected"])
