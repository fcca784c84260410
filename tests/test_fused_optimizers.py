"""The fast path behind module 03's optimizers: `foreach=True` / `fused=True` select it, and an
optimizer using it follows the readable one (trajectory, state, checkpoints, skipped parameters)
within float rounding, with exactly the state the formula says."""
import numpy as np
import pytest
from test_fused import backend, gradient, max_gap, small_blocks, start_params  # noqa: F401 (backend, small_blocks: fixtures)

from tinytorch.core import fused
from tinytorch.core import optimizers as readable
from tinytorch.core.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Lion,
    RMSprop,
    expected_state_memory_bytes,
    state_memory_bytes,
)
from tinytorch.core.tensor import Tensor

CASES = [
    (SGD, dict(lr=0.05), 0),
    (SGD, dict(lr=0.05, weight_decay=0.1, maximize=True), 0),
    (SGD, dict(lr=0.02, momentum=0.9), 1),
    (SGD, dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.05), 1),
    (SGD, dict(lr=0.02, momentum=0.8, dampening=0.3, maximize=True), 1),
    (Adam, dict(lr=0.01), 2),
    (Adam, dict(lr=0.01, betas=(0.8, 0.999), eps=1e-6, weight_decay=0.1, maximize=True), 2),
    (Adam, dict(lr=0.01, amsgrad=True), 3),
    (AdamW, dict(lr=0.01), 2),
    (AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True), 3),
    (RMSprop, dict(lr=0.01), 1),
    (RMSprop, dict(lr=0.005, alpha=0.9, eps=0.1, centered=True, momentum=0.9, weight_decay=0.1, maximize=True), 3),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1), 1),
    (Adagrad, dict(lr=0.1, weight_decay=0.1, eps=1e-6, maximize=True), 1),
    (Lion, dict(lr=1e-3), 1),
    (Lion, dict(lr=1e-3, betas=(0.95, 0.98), weight_decay=0.1, maximize=True), 1),
]
NEW = slice(10, None)   # RMSprop, Adagrad, Lion
IDS = [f"{cls.__name__}-{options}" for cls, options, _ in CASES]


def test_the_flags_choose_the_functional_core():
    params = [Tensor(np.ones(3))]
    assert SGD(params, lr=0.1).update_rule is readable.sgd
    assert Adam(params).update_rule is readable.adam
    assert AdamW(params).update_rule is readable.adamw
    assert RMSprop(params).update_rule is readable.rmsprop
    assert Adagrad(params).update_rule is readable.adagrad
    assert Lion(params).update_rule is readable.lion
    for flags in (dict(foreach=True), dict(fused=True), dict(foreach=False, fused=True)):
        assert SGD(params, lr=0.1, **flags).update_rule is fused.sgd
        assert Adam(params, **flags).update_rule is fused.adam
        assert AdamW(params, **flags).update_rule is fused.adamw
        assert RMSprop(params, **flags).update_rule is fused.rmsprop
        assert Adagrad(params, **flags).update_rule is fused.adagrad
        assert Lion(params, **flags).update_rule is fused.lion
    assert SGD(params, lr=0.1, foreach=False, fused=False).update_rule is readable.sgd
    assert Lion(params, foreach=False, fused=None).update_rule is readable.lion
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        RMSprop(params, foreach=True, fused=True)
    with pytest.raises(ValueError, match="foreach must be None, False or True, got 'yes'"):
        Adagrad(params, foreach="yes")
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        Adam(params, foreach=True, fused=True)
    with pytest.raises(ValueError, match="fused must be None, False or True, got 'yes'"):
        SGD(params, lr=0.1, fused="yes")


def run(cls, options, flags, steps, dtype=np.float64):
    "Train on the test problem; parameter 2 has no gradient every third step (skipped, its step stays behind)."
    params = [Tensor(a) for a in start_params(dtype)]
    optimizer = cls(params, **options, **flags)
    history = []
    for step in range(steps):
        for k, p in enumerate(params):
            p.grad = None if (k == 2 and step % 3 == 0) else Tensor(gradient(p.data, k).astype(dtype))
        optimizer.step()
        history.append([p.data.copy() for p in params])
    return history, optimizer


def assert_same_state(ours, theirs, tolerance):
    ours, theirs = ours.state_dict(), theirs.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for position, state in theirs["state"].items():
        assert ours["state"][position].keys() == state.keys()
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert ours["state"][position][key].dtype == value.dtype
                assert max_gap([[ours["state"][position][key]]], [[value]]) < tolerance, key
            else:
                assert ours["state"][position][key] == value, key


@pytest.mark.parametrize("cls, options, buffers", CASES, ids=IDS)
@pytest.mark.usefixtures("small_blocks")
def test_fast_optimizer_follows_the_readable_one(cls, options, buffers):
    readable_run, readable_opt = run(cls, options, {}, 1000)
    fast_run, fast_opt = run(cls, options, {"fused": True}, 1000)
    assert max_gap(fast_run, readable_run) < 1e-10
    assert_same_state(fast_opt, readable_opt, 1e-10)
    # Optimizer state: 0, 1, 2 or 3 times the parameters, measured from the state itself.
    param_bytes = sum(p.data.nbytes for group in fast_opt.param_groups for p in group["params"])
    assert state_memory_bytes(fast_opt) == buffers * param_bytes == expected_state_memory_bytes(fast_opt)


@pytest.mark.parametrize("cls, options, buffers", CASES[3:4] + CASES[6:7] + CASES[9:],
                         ids=IDS[3:4] + IDS[6:7] + IDS[9:])
def test_fast_optimizer_in_float32_is_within_rounding_of_the_readable_one(cls, options, buffers):
    "Default blocks and threads, one parameter spanning several blocks: a few float32 ulps apart."
    n = 3 * fused.block_elements() + 17
    rng = np.random.default_rng(3)
    start = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(5)]
    results = []
    for flags in ({}, {"fused": True}):
        p = Tensor(start)
        optimizer = cls([p], **options, **flags)
        for g in grads:
            p.grad = Tensor(g)
            optimizer.step()
        assert p.data.dtype == np.float32
        results.append(p.data)
    np.testing.assert_allclose(results[1], results[0], rtol=2e-6, atol=1e-7)
    assert not np.array_equal(start, results[0])


@pytest.mark.parametrize("cls, options, buffers", [CASES[3], CASES[7], CASES[9], *CASES[NEW][1::2]],
                         ids=[IDS[3], IDS[7], IDS[9], *IDS[NEW][1::2]])
@pytest.mark.usefixtures("small_blocks")
def test_checkpoints_move_between_the_readable_and_the_fast_optimizer(cls, options, buffers):
    "Saved by one implementation, resumed by the other: the run continues as if nothing happened."
    history, fast_opt = run(cls, options, {"fused": True}, 40)
    params = [Tensor(a) for a in history[-1]]
    resumed = cls(params, **options)
    resumed.load_state_dict(fast_opt.state_dict())
    continued = []
    fast_params = [p for group in fast_opt.param_groups for p in group["params"]]
    for step in range(40, 80):
        for k, (p, q) in enumerate(zip(params, fast_params)):
            skip = k == 2 and step % 3 == 0
            p.grad = None if skip else Tensor(gradient(p.data, k))
            q.grad = None if skip else Tensor(gradient(q.data, k))
        resumed.step()
        fast_opt.step()
        continued.append(([p.data.copy() for p in params], [q.data.copy() for q in fast_params]))
    assert max_gap([c[0] for c in continued], [c[1] for c in continued]) < 1e-10
