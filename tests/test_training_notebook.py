"""The values module 04's hidden checks expect are what torch 2.13 computes.

Grading never needs torch: the hidden checks compare with values recorded from the reference in
the instructor store (modules/04_training/training.checks.json, tools/record_checks.py). These
tests read the cases (and the helpers that replay them) straight out of the notebook's hidden
parts, replay them with torch, and compare with the recorded values, so neither can drift.
"""
import ast
import functools
import math
import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests
from helpers import ROOT, read_nb
from torch.optim import lr_scheduler as torch_sched
from torch_training import torch_accumulated_step, torch_copy

from tinytorch.checks.stores import INSTRUCTOR_SUFFIX, read_store
from tinytorch.course.notebooks import BEGIN_HIDDEN, END_HIDDEN, cells_by_grade_id, marked_regions

pytestmark = pytest.mark.torch
NOTEBOOK = ROOT / "modules" / "04_training" / "training.ipynb"


def recorded(grade_id, check):
    "The value the instructor store recorded for one check of the notebook."
    store = read_store(NOTEBOOK.with_name(NOTEBOOK.stem + INSTRUCTOR_SUFFIX), NOTEBOOK.stem)
    entry = store.check(grade_id, check)
    assert entry is not None, f"{grade_id}: no recorded check {check!r} (run tools/record_checks.py)"
    return entry.expected


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


def test_recorded_schedules_are_torch_schedules():
    ns = hidden_definitions("test_linear_lr", {"np": np, "_Groups": torch_groups, "LinearLR": torch_sched.LinearLR,
                                               "CosineAnnealingLR": torch_sched.CosineAnnealingLR,
                                               "StepLR": torch_sched.StepLR, "SequentialLR": torch_sched.SequentialLR})
    assert len(ns["_LINEAR_CASES"]) >= 4 and len(ns["_SEQUENTIAL_CASES"]) >= 2
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns when scheduler.step() runs without optimizer.step()
        for case in ns["_LINEAR_CASES"]:
            want = recorded("test_linear_lr", f"LinearLR, {case['name']}")
            assert ns["_linear_case_rates"](case) == want, case["name"]
            checked += case["steps"]
        for case in ns["_SEQUENTIAL_CASES"]:
            want = recorded("test_linear_lr", f"SequentialLR, {case['name']}")
            assert ns["_sequential_case_rates"](case) == want, case["name"]
            checked += case["steps"]
    assert checked > 200


def test_recorded_wsd_factors_are_torch_lambda_lr_rates():
    "The WSD cases of the hidden checks, as rates of torch's LambdaLR with base rate 1 (exactly equal)."
    from tinytorch.core.training import wsd_factor
    ns = hidden_definitions("test_wsd_factor", {"np": np})
    for warmup, stable, decay, end, steps in ns["_WSD_CASES"]:
        optimizer = torch_groups(1.0)
        factor = functools.partial(wsd_factor, warmup_steps=warmup, stable_steps=stable, decay_steps=decay,
                                   end_factor=end)
        scheduler = torch_sched.LambdaLR(optimizer, factor)
        rates = [scheduler.get_last_lr()[0]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(max(steps)):
                optimizer.step()
                scheduler.step()
                rates.append(scheduler.get_last_lr()[0])
        want = recorded("test_wsd_factor", f"W={warmup}, S={stable}, D={decay}, end_factor={end}")
        assert [rates[t] for t in steps] == want


def test_recorded_clipping_norms_are_torch_norms():
    ns = hidden_definitions("test_clip_grad_norm", {"np": np})
    results = {}
    for seed, dtype, max_norm, norm_type in ns["_CLIP_CASES"]:
        grads = [torch.tensor(g) for g in ns["_clip_case_grads"](seed, dtype)]
        params = []
        for g in grads:
            p = torch.zeros(g.shape, dtype=g.dtype, requires_grad=True)
            p.grad = g.clone()
            params.append(p)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, float(norm_type))
        totals, clipped = results.setdefault(dtype, ([], []))
        totals.append(total.item())
        clipped.append(np.concatenate([p.grad.numpy().ravel() for p in params]))
    assert {float(c[3]) for c in ns["_CLIP_CASES"]} >= {2.0, math.inf, 1.0}
    totals, clipped = results["float64"]
    np.testing.assert_allclose(recorded("test_clip_grad_norm",
                                        "the total norm of the float64 cases (norms 1, 2, 3, inf)"),
                               totals, rtol=1e-14, err_msg="float64 total norms: recorded vs torch")
    np.testing.assert_allclose(recorded("test_clip_grad_norm", "the clipped float64 gradients"),
                               np.concatenate(clipped), rtol=1e-13, atol=1e-15,
                               err_msg="float64 clipped gradients: recorded vs torch")
    totals, clipped = results["float32"]
    np.testing.assert_allclose(recorded("test_clip_grad_norm", "the total norm and the gradients of the float32 cases"),
                               np.concatenate([totals, np.concatenate(clipped)]), rtol=1e-6, atol=1e-7,
                               err_msg="float32 norms and gradients: recorded vs torch")


def test_recorded_training_trajectory_is_torchs():
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
    want = np.array(recorded("test_train_step",
                             "30 AdamW steps on uneven micro-batches (5 + 5 + 3), clipped at 0.5: the losses"))
    assert want.shape == (30, 1)
    assert np.max(np.abs(np.array(losses) - want[:, 0])) <= 1e-12
    assert 5 <= clipped <= 25, "the stored case should exercise clipping on some steps, not all"
