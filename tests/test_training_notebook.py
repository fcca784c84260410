"""The stored expected values inside module 04's hidden tests are what torch 2.13 computes.

Grading never needs torch, so the notebook's hidden tests hold numbers computed once with torch.
These tests read those numbers (and the helper functions that replay each case) straight out of
the notebook and replay the cases with torch, so the stored values cannot drift from the reference.
"""
import ast
import math
import re
import warnings

import numpy as np
import pytest
torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests
from torch.optim import lr_scheduler as torch_sched

from helpers import ROOT, read_nb
from torch_training import torch_accumulated_step, torch_copy
from tinytorch.course.notebooks import BEGIN_HIDDEN, END_HIDDEN, cells_by_grade_id, marked_regions

pytestmark = pytest.mark.torch
NOTEBOOK = ROOT / "modules" / "04_training" / "training.ipynb"


def hidden_definitions(grade_id, namespace):
    """Run the function definitions and the constant assignments of a test cell's hidden part in
    `namespace` (the names the helpers use, e.g. torch's schedulers) and return the namespace."""
    cell = cells_by_grade_id(read_nb(NOTEBOOK))[grade_id]
    [hidden] = marked_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
    tree = ast.parse(hidden)
    def is_constant(node):   # `_CLIP_CASES = [...]`: an upper-case name assigned a literal
        return (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", node.targets[0].id))
    kept = [node for node in tree.body if isinstance(node, ast.FunctionDef) or is_constant(node)]
    assert kept, f"no stored values found in {grade_id}"
    exec(compile(ast.Module(body=kept, type_ignores=[]), f"{grade_id} (hidden)", "exec"), namespace)
    return namespace


def torch_groups(*lrs):
    "What the notebook's `_Groups` stands for, as a real torch optimizer."
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])


def test_stored_schedules_are_torch_schedules():
    ns = hidden_definitions("test_linear_lr", {"np": np, "_Groups": torch_groups, "LinearLR": torch_sched.LinearLR,
                                               "CosineAnnealingLR": torch_sched.CosineAnnealingLR,
                                               "StepLR": torch_sched.StepLR, "SequentialLR": torch_sched.SequentialLR})
    assert len(ns["_LINEAR_CASES"]) >= 4 and len(ns["_SEQUENTIAL_CASES"]) >= 2
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns when scheduler.step() runs without optimizer.step()
        for case in ns["_LINEAR_CASES"]:
            rates = ns["_linear_case_rates"](case)
            for step, want in case["expected"].items():
                assert rates[step] == want, (case, step)
                checked += 1
        for case in ns["_SEQUENTIAL_CASES"]:
            rates = ns["_sequential_case_rates"](case)
            for step, want in case["expected"].items():
                assert rates[step] == want, (case["kind"], step)
                checked += 1
    assert checked > 50


def test_stored_clipping_norms_are_torch_norms():
    ns = hidden_definitions("test_clip_grad_norm", {"np": np})
    for seed, dtype, max_norm, norm_type, expected in ns["_CLIP_CASES"]:
        grads = [torch.tensor(g) for g in ns["_clip_case_grads"](seed, dtype)]
        params = []
        for g in grads:
            p = torch.zeros(g.shape, dtype=g.dtype, requires_grad=True)
            p.grad = g.clone()
            params.append(p)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, float(norm_type))
        assert total.item() == expected, (seed, norm_type)
        coef = min(max_norm / (expected + 1e-6), 1.0)
        for p, g in zip(params, grads):
            np.testing.assert_allclose(p.grad.numpy(), g.numpy() * coef, rtol=1e-6 if dtype == "float32" else 1e-14)
    assert {float(c[3]) for c in ns["_CLIP_CASES"]} >= {2.0, math.inf, 1.0}


def test_stored_training_trajectory_is_torchs():
    "The train_step hidden test's 30 AdamW steps (accumulation, clipping), replayed with torch from the same weights."
    from tinytorch.core.training import make_mlp
    ns = hidden_definitions("test_train_step", {"np": np})
    case = ns["_TRAJECTORY"]
    torch.set_num_threads(1)
    rng = np.random.default_rng(case["data_seed"])                      # the same draws as _trajectory_losses
    X = torch.from_numpy(rng.standard_normal((case["n"], case["sizes"][0])))
    y = torch.from_numpy(rng.integers(0, case["sizes"][-1], size=case["n"]))
    ours = make_mlp(case["sizes"], seed=case["model_seed"], dtype="float64")
    model = torch_copy(ours)
    optimizer = torch.optim.AdamW(model.parameters(), lr=case["lr"])
    losses, clipped = [], 0
    for _ in range(case["steps"]):
        rows = np.split(rng.permutation(case["n"])[:sum(case["parts"])], np.cumsum(case["parts"])[:-1])
        loss, norm = torch_accumulated_step(model, optimizer, X, y, rows, case["max_grad_norm"])
        clipped += norm > case["max_grad_norm"]
        losses.append(loss)
    assert np.max(np.abs(np.array(losses) - case["losses"])) <= 1e-12
    assert 5 <= clipped <= 25, "the stored case should exercise clipping on some steps, not all"
