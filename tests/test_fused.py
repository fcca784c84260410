"""The fast optimizer path (tinytorch.core.fused): same numbers as PyTorch and as the readable
update, bounded scratch memory, bit-identical whatever the block size and thread count, clear
errors on bad input."""
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest

from tinytorch.core import fused

torch = pytest.importorskip("torch")

SHAPES = [(7, 13), (100,), (3, 4, 5), (1,)]
# Module 03's functional cores take every hyperparameter as a required keyword: torch.optim's defaults.
SGD_DEFAULTS = dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False)
ADAM_DEFAULTS = dict(amsgrad=False, beta1=0.9, beta2=0.999, lr=1e-3, weight_decay=0.0, eps=1e-8, maximize=False)


def sgd_step(params, grads, buffers, **options):
    fused.sgd(params, grads, buffers, **{**SGD_DEFAULTS, **options})


def adam_step(params, grads, m, v, vmax, steps, **options):
    fused.adam(params, grads, m, v, vmax, steps, **{**ADAM_DEFAULTS, **options})


def adamw_step(params, grads, m, v, vmax, steps, **options):
    fused.adamw(params, grads, m, v, vmax, steps, **{**ADAM_DEFAULTS, "weight_decay": 1e-2, **options})


RMSPROP_DEFAULTS = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False)
ADAGRAD_DEFAULTS = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
LION_DEFAULTS = dict(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0, maximize=False)


def rmsprop_step(params, grads, square_avgs, grad_avgs, buffers, **options):
    fused.rmsprop(params, grads, square_avgs, grad_avgs, buffers, **{**RMSPROP_DEFAULTS, **options})


def adagrad_step(params, grads, sums, steps, **options):
    fused.adagrad(params, grads, sums, steps, **{**ADAGRAD_DEFAULTS, **options})


def lion_step(params, grads, exp_avgs, **options):
    fused.lion(params, grads, exp_avgs, **{**LION_DEFAULTS, **options})


BACKENDS = ["numba", "numpy"] if fused.numba is not None else ["numpy"]


@pytest.fixture(params=BACKENDS, autouse=True)
def backend(request):
    "Every test runs with the compiled kernels and with the NumPy fallback."
    saved = fused.backend()
    fused.set_backend(request.param)
    yield request.param
    fused.set_backend(saved)


@pytest.fixture
def small_blocks(monkeypatch):
    "Blocks of 16 elements on 2 threads, so every parameter spans several blocks and both threads run."
    threads, block = fused.num_threads(), fused.block_elements()
    fused.set_num_threads(2)
    fused.set_block_elements(16)
    monkeypatch.setattr(fused, "PARALLEL_MIN_ELEMENTS", 0)   # threads even for these tiny problems
    monkeypatch.setattr(fused, "PARALLEL_MIN_BLOCK", 0)
    yield
    fused.set_num_threads(threads)
    fused.set_block_elements(block)


def gradient(x, k):
    "A bounded, non-trivial gradient with a different minimum for each parameter k."
    return np.tanh(x - 0.3 * (k + 1)) + 0.05 * np.sin(3 * x) + 0.01 * x


def start_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


SGD_OPTIONS = [
    dict(lr=0.05),
    dict(lr=0.05, maximize=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1, maximize=True),
    dict(lr=0.02, momentum=0.9),
    dict(lr=0.02, momentum=0.9, dampening=0.5),
    dict(lr=0.02, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=True),
    dict(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.05),
]
ADAM_OPTIONS = [
    dict(lr=0.01),
    # beta2 stays 0.999: with a short second-moment memory (0.99) Adam hovers chaotically around this
    # problem's minimum and any two implementations (numpy vs torch, with or without FMA) drift apart.
    dict(lr=0.01, betas=(0.8, 0.999), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, maximize=True),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
]


RMSPROP_OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-6),
    dict(lr=0.01, centered=True),
    # With momentum, eps is large enough that the step near the minimum is a damped gradient step: with
    # eps=1e-8 the normalised step keeps hovering there, chaotically, and after ~500 steps rounding
    # differences (torch's addcmul and lerp against our multiply-adds) grow to 1e-2.
    dict(lr=0.005, momentum=0.9, eps=0.1),
    dict(lr=0.01, weight_decay=0.1, maximize=True),
    dict(lr=0.005, alpha=0.95, centered=True, momentum=0.8, weight_decay=0.05, maximize=True, eps=0.1),
]
ADAGRAD_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.01),
    dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
    dict(lr=0.2, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.1, maximize=True),
]
LION_OPTIONS = [
    dict(lr=1e-3),
    dict(lr=1e-3, betas=(0.95, 0.98)),
    dict(lr=1e-3, weight_decay=0.1),
    dict(lr=1e-3, weight_decay=0.1, maximize=True),
]


def fast_rmsprop_trajectory(steps, options, dtype=np.float64):
    params = start_params(dtype)
    states = [[np.zeros_like(p) for p in params] for _ in range(3)]   # square_avg, grad_avg, momentum buffer
    history = []
    for _ in range(steps):
        grads = [gradient(p, k) for k, p in enumerate(params)]
        rmsprop_step(params, grads, *states, **options)
        history.append([p.copy() for p in params])
    return history, states


def fast_adagrad_trajectory(steps, options, dtype=np.float64):
    params = start_params(dtype)
    options = dict(options)
    initial = options.pop("initial_accumulator_value", 0.0)
    sums = [np.full_like(p, initial) for p in params]
    history = []
    for step in range(1, steps + 1):
        grads = [gradient(p, k) for k, p in enumerate(params)]
        adagrad_step(params, grads, sums, [step] * len(params), **options)
        history.append([p.copy() for p in params])
    return history, sums


def lion_trajectory(steps, options, update=None, dtype=np.float64):
    "Lion's fast path (or `update`, the readable one) on the test problem."
    params = start_params(dtype)
    exp_avgs = [np.zeros_like(p) for p in params]
    options = dict(options)
    beta1, beta2 = options.pop("betas", (0.9, 0.99))
    history = []
    for _ in range(steps):
        grads = [gradient(p, k) for k, p in enumerate(params)]
        if update is None:
            lion_step(params, grads, exp_avgs, beta1=beta1, beta2=beta2, **options)
        else:
            update(params, grads, exp_avgs, **{**LION_DEFAULTS, "beta1": beta1, "beta2": beta2, **options})
        history.append([p.copy() for p in params])
    return history, exp_avgs


def fast_sgd_trajectory(steps, options, dtype=np.float64):
    params = start_params(dtype)
    buffers = [None] * len(params)
    history = []
    for _ in range(steps):
        grads = [gradient(p, k) for k, p in enumerate(params)]
        sgd_step(params, grads, buffers, **options)
        history.append([p.copy() for p in params])
    return history, buffers


def fast_adam_trajectory(steps, options, decoupled, dtype=np.float64):
    params = start_params(dtype)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vmax = [np.zeros_like(p) for p in params]
    options = dict(options)
    beta1, beta2 = options.pop("betas", (0.9, 0.999))
    step_once = adamw_step if decoupled else adam_step
    history = []
    for step in range(1, steps + 1):
        grads = [gradient(p, k) for k, p in enumerate(params)]
        step_once(params, grads, m, v, vmax, [step] * len(params), beta1=beta1, beta2=beta2, **options)
        history.append([p.copy() for p in params])
    return history, (m, v, vmax)


def torch_trajectory(steps, make_optimizer, dtype=torch.float64):
    params = [torch.tensor(p, dtype=dtype, requires_grad=True) for p in start_params(np.float64)]
    optimizer = make_optimizer(params)
    history = []
    for _ in range(steps):
        for k, p in enumerate(params):
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), k))
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def max_gap(history_a, history_b):
    "Largest |a - b| / (1 + |b|) over every element of every step: relative for large values, absolute near 0."
    worst = 0.0
    for step_a, step_b in zip(history_a, history_b, strict=True):
        for a, b in zip(step_a, step_b, strict=True):
            gap = np.abs(a - b) / (1 + np.abs(b))
            # NaN where the two disagree (one NaN, the other not) is the worst gap: max() would skip it.
            gap[np.isnan(a) != np.isnan(b)] = np.inf
            worst = max(worst, float(np.nanmax(gap)) if gap.size else 0.0)
    return worst


@pytest.mark.torch
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch_over_1000_steps(small_blocks, options):
    ours, _ = fast_sgd_trajectory(1000, options)
    theirs = torch_trajectory(1000, lambda ps: torch.optim.SGD(ps, **options))
    assert max_gap(ours, theirs) < 1e-10


@pytest.mark.torch
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_matches_torch_over_1000_steps(small_blocks, options, decoupled):
    ours, _ = fast_adam_trajectory(1000, options, decoupled)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    theirs = torch_trajectory(1000, lambda ps: cls(ps, **options))
    assert max_gap(ours, theirs) < 1e-10


@pytest.mark.torch
@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_torch_over_1000_steps(small_blocks, options):
    ours, _ = fast_rmsprop_trajectory(1000, options)
    theirs = torch_trajectory(1000, lambda ps: torch.optim.RMSprop(ps, **options))
    assert max_gap(ours, theirs) < 1e-10


@pytest.mark.torch
@pytest.mark.parametrize("options", ADAGRAD_OPTIONS, ids=str)
def test_adagrad_matches_torch_over_1000_steps(small_blocks, options):
    ours, _ = fast_adagrad_trajectory(1000, options)
    theirs = torch_trajectory(1000, lambda ps: torch.optim.Adagrad(ps, **options))
    assert max_gap(ours, theirs) < 1e-10


@pytest.mark.parametrize("options", LION_OPTIONS, ids=str)
def test_lion_matches_the_readable_one_over_1000_steps(small_blocks, options):
    "torch.optim has no Lion: the reference is module 03's readable `lion`."
    from tinytorch.core.optimizers import lion as readable_lion
    ours, _ = lion_trajectory(1000, options)
    theirs, _ = lion_trajectory(1000, options, update=readable_lion)
    assert max_gap(ours, theirs) < 1e-10
    assert max_gap(ours[-1:], [start_params()]) > 0.1   # it moved: a sign step of lr per step


@pytest.mark.torch
def test_float32_rmsprop_adagrad_and_lion_are_within_rounding():
    "float32 against torch (RMSprop, Adagrad) and the readable Lion in float64: a few float32 ulps apart."
    from tinytorch.core.optimizers import lion as readable_lion
    rms = dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.05)
    rms_ours, _ = fast_rmsprop_trajectory(20, rms, np.float32)
    rms_theirs = torch_trajectory(20, lambda ps: torch.optim.RMSprop(ps, **rms), torch.float32)
    ada = dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)
    ada_ours, _ = fast_adagrad_trajectory(20, ada, np.float32)
    ada_theirs = torch_trajectory(20, lambda ps: torch.optim.Adagrad(ps, **ada), torch.float32)
    # Lion against the readable one in float32 too: a sign step turns a rounding-sized difference in a
    # near-zero interpolation into a whole lr, so float64 is no reference for it.
    lion = dict(lr=1e-3, weight_decay=0.1)
    lion_ours, _ = lion_trajectory(20, lion, dtype=np.float32)
    lion_theirs, _ = lion_trajectory(20, lion, update=readable_lion, dtype=np.float32)
    last_dtypes = {run[-1][0].dtype for run in (rms_ours, ada_ours, lion_ours, lion_theirs)}
    assert last_dtypes == {np.dtype(np.float32)}, last_dtypes
    assert max_gap(rms_ours, rms_theirs) < 1e-5
    assert max_gap(ada_ours, ada_theirs) < 1e-5
    assert max_gap(lion_ours, lion_theirs) < 1e-6


@pytest.mark.torch
def test_float32_steps_match_torch_within_rounding(small_blocks):
    "In float32 the fast path and torch round differently (torch fuses multiply-adds): a few ulps apart."
    sgd_ours, _ = fast_sgd_trajectory(20, dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.05), np.float32)
    sgd_theirs = torch_trajectory(20, lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True,
                                                                 weight_decay=0.05), torch.float32)
    adam_ours, _ = fast_adam_trajectory(20, dict(lr=0.01, amsgrad=True), True, np.float32)
    adam_theirs = torch_trajectory(20, lambda ps: torch.optim.AdamW(ps, lr=0.01, amsgrad=True), torch.float32)
    assert sgd_ours[-1][0].dtype == adam_ours[-1][0].dtype == np.float32
    assert max_gap(sgd_ours, sgd_theirs) < 1e-6
    assert max_gap(adam_ours, adam_theirs) < 1e-6


@pytest.mark.parametrize("run", ["sgd", "nesterov", "adam", "adamw_amsgrad", "rmsprop", "adagrad", "lion"])
def test_blocks_and_threads_do_not_change_a_single_bit(run, monkeypatch):
    "Every element is updated by the same operations whichever block or thread it falls in."
    def trajectory():
        if run == "sgd":
            return fast_sgd_trajectory(30, dict(lr=0.05, weight_decay=0.1))[0]
        if run == "nesterov":
            return fast_sgd_trajectory(30, dict(lr=0.02, momentum=0.9, nesterov=True, dampening=0.0))[0]
        if run == "adam":
            return fast_adam_trajectory(30, dict(lr=0.01, weight_decay=0.1), False)[0]
        if run == "rmsprop":
            return fast_rmsprop_trajectory(30, dict(lr=0.01, centered=True, momentum=0.9, maximize=True))[0]
        if run == "adagrad":
            return fast_adagrad_trajectory(30, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1))[0]
        if run == "lion":
            return lion_trajectory(30, dict(lr=1e-3, weight_decay=0.1))[0]
        return fast_adam_trajectory(30, dict(lr=0.01, amsgrad=True, maximize=True), True)[0]

    monkeypatch.setattr(fused, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(fused, "PARALLEL_MIN_BLOCK", 0)
    threads, block = fused.num_threads(), fused.block_elements()
    try:
        results = []
        for n_threads, n_block in [(1, 1 << 16), (2, 1), (2, 7), (2, 64), (3, 5)]:
            fused.set_num_threads(n_threads)
            fused.set_block_elements(n_block)
            results.append(trajectory())
    finally:
        fused.set_num_threads(threads)
        fused.set_block_elements(block)
    for other in results[1:]:
        for step_a, step_b in zip(results[0], other, strict=True):
            for a, b in zip(step_a, step_b, strict=True):
                assert np.array_equal(a, b)


# --- memory: no full-size temporaries ----------------------------------------------------------

def peak_extra_bytes(step):
    """Peak bytes allocated while `step()` runs, above what was allocated before it (tracemalloc).
    `step()` runs once before, untraced: a first call compiles the Numba kernels, and compiling is not stepping."""
    step()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def readable_adam_step(params, grads, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    "The straightforward whole-array update: every operation allocates a full-size result."
    for p, g, m_, v_ in zip(params, grads, m, v):
        m_[:] = beta1 * m_ + (1 - beta1) * g
        v_[:] = beta2 * v_ + (1 - beta2) * g * g
        p -= lr / (1 - beta1 ** step) * m_ / (np.sqrt(v_) / np.sqrt(1 - beta2 ** step) + eps)


# Allowance for the step's small Python objects: a little per step and per tensor (views, lists,
# scalars), nothing per element or per block.
def bookkeeping_bound(n_tensors):
    return 64 * 1024 + 2048 * n_tensors


@pytest.mark.parametrize("n_params, n_tensors", [(1 << 20, 1), (1 << 22, 1), (1 << 22, 64)])
def test_peak_extra_memory_is_bounded_by_the_block_size(n_params, n_tensors):
    threads, block = fused.num_threads(), fused.block_elements()
    fused.set_num_threads(2)
    fused.set_block_elements(4096)
    try:
        rng = np.random.default_rng(1)
        size = n_params // n_tensors
        params = [rng.standard_normal(size).astype(np.float32) for _ in range(n_tensors)]
        grads = [rng.standard_normal(size).astype(np.float32) for _ in range(n_tensors)]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        vmax = [np.zeros_like(p) for p in params]
        buffers = [None] * n_tensors
        steps = [3] * n_tensors
        sgd_step(params, grads, buffers, lr=0.1, momentum=0.9)   # the first step creates the buffers (state)
        bound_sgd = fused.scratch_bytes_bound(2, itemsize=4) + bookkeeping_bound(n_tensors)
        bound_adam = fused.scratch_bytes_bound(3, itemsize=4) + bookkeeping_bound(n_tensors)
        one_param_set = n_params * 4
        assert bound_adam < one_param_set / 8   # the bound really is small compared with the model

        assert peak_extra_bytes(lambda: sgd_step(params, grads, [None] * n_tensors, lr=0.1,
                                                  weight_decay=0.1)) <= bound_sgd
        assert peak_extra_bytes(lambda: sgd_step(params, grads, buffers, lr=0.1, momentum=0.9,
                                                  nesterov=True, weight_decay=0.1)) <= bound_sgd
        assert peak_extra_bytes(lambda: adam_step(params, grads, m, v, vmax, steps, amsgrad=True,
                                                   weight_decay=0.1, maximize=True)) <= bound_adam
        assert peak_extra_bytes(lambda: adamw_step(params, grads, m, v, vmax, steps)) <= bound_adam
        s, a, b = ([np.zeros_like(p) for p in params] for _ in range(3))   # RMSprop's own state: a variance >= 0
        assert peak_extra_bytes(lambda: rmsprop_step(params, grads, s, a, b, centered=True, momentum=0.9,
                                                      weight_decay=0.1, maximize=True)) <= bound_adam
        assert peak_extra_bytes(lambda: adagrad_step(params, grads, s, steps, lr_decay=0.01,
                                                      weight_decay=0.1)) <= bound_sgd
        assert peak_extra_bytes(lambda: lion_step(params, grads, m, weight_decay=0.1, maximize=True)) <= bound_adam
        # The same measurement sees the readable update's full-size temporaries.
        assert peak_extra_bytes(lambda: readable_adam_step(params, grads, m, v, 3)) >= one_param_set / n_tensors
    finally:
        fused.set_num_threads(threads)
        fused.set_block_elements(block)


def test_state_is_one_buffer_per_parameter_for_momentum_and_none_without():
    params = [np.ones((3, 4), np.float32), np.ones(5, np.float32)]
    grads = [np.full((3, 4), 0.5, np.float32), np.full(5, 0.5, np.float32)]
    buffers = [None, None]
    sgd_step(params, grads, buffers, lr=0.1)
    assert buffers == [None, None]
    sgd_step(params, grads, buffers, lr=0.1, momentum=0.9)
    assert [b.shape for b in buffers] == [(3, 4), (5,)] and [b.dtype for b in buffers] == [np.float32] * 2
    assert sum(b.nbytes for b in buffers) == sum(p.nbytes for p in params)
    np.testing.assert_array_equal(buffers[0], grads[0])   # the first buffer is the gradient itself


# --- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes():
    p = np.ones((4, 6))
    g = np.ones((4, 6))
    not_contiguous = r"params\[0\] \(shape \(4, 3\), strides \(48, 16\)\) is not a writeable contiguous"
    with pytest.raises(ValueError, match=not_contiguous):
        sgd_step([p[:, ::2]], [g[:, ::2]], [None], lr=0.1)
    with pytest.raises(ValueError, match=r"grads has 2 entries but there are 1 params"):
        sgd_step([p], [g, g], [None], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(5,\) but params\[0\] has shape \(4, 6\)"):
        sgd_step([p], [np.ones(5)], [None], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(6, 4\) but params\[0\] has shape \(4, 6\)"):
        sgd_step([p], [np.ones((6, 4))], [None], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\] has dtype int64"):
        sgd_step([np.ones(3, np.int64)], [np.ones(3)], [None], lr=0.1)
    with pytest.raises(TypeError, match=r"grads\[0\] must be a NumPy array or a Tensor, got list"):
        sgd_step([p], [[1.0] * 24], [None], lr=0.1)
    with pytest.raises(ValueError, match=r"exp_avg_sqs\[0\] has shape \(3,\) but params\[0\] has shape \(4, 6\)"):
        adam_step([p], [g], [np.zeros_like(p)], [np.zeros(3)], [], [1])
    with pytest.raises(ValueError, match=r"exp_avgs\[0\] \(strides \(8, 32\)\) is not a writeable array laid out in "
                                         r"memory like params\[0\] \(strides \(48, 8\)\)"):
        adam_step([p], [g], [np.asfortranarray(np.zeros_like(p))], [np.zeros_like(p)], [], [1])
    readonly = np.ones((4, 6))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match=r"exp_avgs\[0\].*not a writeable"):
        adam_step([p], [g], [readonly], [np.zeros_like(p)], [], [1])
    with pytest.raises(ValueError, match=r"state_steps\[0\] must be the number of this step \(1 or more\), got 0"):
        adam_step([p], [g], [np.zeros_like(p)], [np.zeros_like(p)], [], [0])
    buffers = [None, np.asfortranarray(np.zeros((4, 6)))]
    laid_out_otherwise = r"momentum_buffers\[1\] .* is not a writeable array laid out in memory like params\[1\]"
    with pytest.raises(ValueError, match=laid_out_otherwise):
        sgd_step([p, np.ones((4, 6))], [g, g], buffers, lr=0.1, momentum=0.9)
    assert buffers[0] is None   # no half-made state left behind
    np.testing.assert_array_equal(p, np.ones((4, 6)))   # every refusal came before any update
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
            fused.set_num_threads(bad)
        with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
            fused.set_block_elements(bad)
    with pytest.raises(ValueError, match="'adadelta'"):
        fused.bytes_per_param("adadelta")
    with pytest.raises(TypeError, match=r"exp_avgs\[1\] has dtype float64 but params\[1\] has dtype float32"):
        lion_step([np.ones(3, np.float32)] * 2, [np.ones(3, np.float32)] * 2, [np.zeros(3, np.float32), np.zeros(3)])
    with pytest.raises(TypeError, match=r"grad_avgs\[0\] must be a NumPy array or a Tensor, got NoneType"):
        rmsprop_step([p], [g], [np.zeros_like(p)], [None], [None], centered=True)
    with pytest.raises(ValueError, match=r"momentum_buffers has 0 entries but there are 1 params"):
        rmsprop_step([p], [g], [np.zeros_like(p)], [None], [], momentum=0.9)
    with pytest.raises(ValueError, match=r"state_steps\[1\] must be the number of this step \(1 or more\), got True"):
        adagrad_step([p, p.copy()], [g, g], [np.zeros_like(p)] * 2, [1, True])
    np.testing.assert_array_equal(p, np.ones((4, 6)))


def test_bytes_per_param_counts_reads_and_writes():
    assert [fused.bytes_per_param(o) for o in ("sgd", "momentum", "adam", "adamw")] == [12, 20, 28, 28]
    assert [fused.bytes_per_param(o) for o in ("rmsprop", "adagrad", "lion")] == [20, 20, 20]
    assert fused.bytes_per_param("adam", amsgrad=True) == 36
    assert fused.bytes_per_param("adam", itemsize=8) == 56


def test_tensor_parameters_are_updated_through_their_data():
    from tinytorch.core.tensor import Tensor
    p = Tensor(np.array([1.0, 2.0, 3.0]))
    sgd_step([p], [np.array([1.0, 1.0, 1.0])], [None], lr=0.5)
    np.testing.assert_allclose(p.data, [0.5, 1.5, 2.5])


def threads_used(sizes):
    "The threads that run the blocks of arrays of these sizes, with the default settings and 2 threads."
    seen = set()

    def kernel(i, blocks, scratch):
        seen.add(threading.get_ident())
        time.sleep(0.002)   # long enough that one thread cannot take every block before the other starts

    threads = fused.num_threads()
    fused.set_num_threads(2)
    try:
        fused.for_each_block([[np.empty(n, np.float32)] for n in sizes], kernel, n_scratch=1)
    finally:
        fused.set_num_threads(threads)
    return len(seen)


def test_threads_run_large_steps_and_small_ones_stay_on_one_thread():
    block = fused.block_elements()
    assert threads_used([8 * block]) == 2                      # one big parameter, 8 blocks
    assert threads_used([block + block // 2] * 10) == 2        # several parameters of a block and a half
    assert threads_used([block]) == 1                          # a single block
    assert threads_used([fused.PARALLEL_MIN_ELEMENTS // 4] * 3) == 1   # too few numbers in all
    assert threads_used([fused.PARALLEL_MIN_BLOCK // 2] * 100) == 1    # many small tensors


def test_fortran_ordered_parameters_are_updated_in_place_like_c_ordered_ones(small_blocks):
    "A transposed matrix is contiguous in Fortran order: its blocks are views too, whatever the gradient's layout."
    rng = np.random.default_rng(5)
    c_param, grad = rng.standard_normal((9, 7)), rng.standard_normal((9, 7))
    f_param, start = np.asfortranarray(c_param), c_param.copy()
    state = {layout: ([np.zeros_like(p)], [np.zeros_like(p)], [None]) for layout, p in (("C", c_param), ("F", f_param))}
    for step in (1, 2, 3):
        for layout, p in (("C", c_param), ("F", f_param)):
            m, v, buf = state[layout]
            adamw_step([p], [grad], m, v, [], [step], lr=0.1)
            sgd_step([p], [np.asfortranarray(grad) if layout == "C" else grad], buf, lr=0.1, momentum=0.9)
    assert f_param.flags.f_contiguous and not f_param.flags.c_contiguous
    assert state["F"][2][0].flags.f_contiguous   # the new momentum buffer takes the parameter's layout
    np.testing.assert_array_equal(f_param, c_param)
    assert np.all(c_param != start)   # both were really updated, in place


# --- the two backends -------------------------------------------------------------------------

def test_the_backend_is_chosen_by_name_and_refused_otherwise(backend):
    assert fused.backend() == backend
    with pytest.raises(ValueError, match="'numba' or 'numpy', got 'cuda'"):
        fused.set_backend("cuda")
    assert fused.backend() == backend


def test_without_numba_the_numpy_blocks_are_used(monkeypatch):
    monkeypatch.setattr(fused, "numba", None)
    monkeypatch.delenv("TINYTORCH_FUSED_BACKEND", raising=False)
    assert fused._default_backend() == "numpy"
    with pytest.raises(ImportError, match="pip install numba"):
        fused.set_backend("numba")


def test_the_environment_variable_forces_the_numpy_blocks(monkeypatch):
    monkeypatch.setenv("TINYTORCH_FUSED_BACKEND", "numpy")
    assert fused._default_backend() == "numpy"


@pytest.mark.skipif(fused.numba is None, reason="the compiled kernels need Numba")
def test_the_numba_backend_runs_the_compiled_kernels(monkeypatch):
    "The compiled kernels really run (a step through them is recorded), and float16 falls back to NumPy blocks."
    fused.set_backend("numba")
    calls = []
    compiled = dict(fused._compiled)
    for name, kernel in compiled.items():
        counted = lambda *args, name=name, kernel=kernel: (calls.append(name), kernel(*args))
        monkeypatch.setitem(fused._compiled, name, counted)
    p, g = np.ones(5), np.full(5, 0.5)
    sgd_step([p], [g], [None], lr=0.1)
    sgd_step([p], [g], [None], lr=0.1, momentum=0.9)
    adam_step([p], [g], [np.zeros(5)], [np.zeros(5)], [], [1])
    rmsprop_step([p], [g], [np.zeros(5)], [None], [None])
    adagrad_step([p], [g], [np.zeros(5)], [1])
    lion_step([p], [g], [np.zeros(5)])
    assert calls == ["sgd", "momentum", "adam", "rmsprop", "adagrad", "lion"]
    half = np.ones(5, np.float16)
    sgd_step([half], [np.full(5, 0.5, np.float16)], [None], lr=0.1)
    lion_step([half], [np.full(5, 0.5, np.float16)], [np.zeros(5, np.float16)], lr=0.25)
    assert len(calls) == 6 and half.dtype == np.float16 and np.all(half == np.float16(0.7))


@pytest.mark.parametrize("backend", ["numba"], indirect=True)  # the NumPy blocks run one block at a time
def test_many_parameters_take_few_compiled_calls(monkeypatch, backend):
    "On one thread, 100 small parameters are ceil(100 / CHUNK_SLICES) compiled calls, not 100."
    calls = []
    runner = fused._compiled["sgd"]
    monkeypatch.setitem(fused._compiled, "sgd", lambda n, *args: (calls.append(n), runner(n, *args)))
    threads = fused.num_threads()
    fused.set_num_threads(1)
    try:
        params = [np.ones(10) for _ in range(100)]
        sgd_step(params, [np.ones(10)] * 100, [None] * 100, lr=0.5)
    finally:
        fused.set_num_threads(threads)
    assert calls == [16] * 6 + [4]
    assert all(np.all(p == 0.5) for p in params)


@pytest.mark.parametrize("sizes, block", [((5,), 16), ((100,), 16), ((7, 13, 1, 0, 40, 3), 10), ((1,) * 40, 8),
                                          ((3,) * 20, 1000), ((33, 17, 64, 2), 16)])
def test_chunks_cover_every_number_once_within_their_limits(sizes, block):
    seen = [np.zeros(n, int) for n in sizes]
    for first, start, last, stop in fused.plan_chunks(sizes, block):
        slices = [(i, start if i == first else 0, stop if i == last else sizes[i]) for i in range(first, last + 1)]
        assert len(slices) <= fused.CHUNK_SLICES
        assert sum(b - a for _, a, b in slices) <= block
        for i, a, b in slices:
            seen[i][a:b] += 1
    assert all(np.all(s == 1) for s in seen)


def test_mixed_dtypes_and_read_only_gradients_take_runs_of_their_own():
    "Parameters of two dtypes, some gradients read-only: each kind is a run with its own constants, same numbers."
    rng = np.random.default_rng(7)
    sizes, dtypes = [40, 7, 33, 1, 64], [np.float32, np.float64, np.float64, np.float32, np.float32]
    start = [rng.standard_normal(n).astype(dtype) for n, dtype in zip(sizes, dtypes)]
    grads = [rng.standard_normal(n).astype(dtype) for n, dtype in zip(sizes, dtypes)]
    frozen = [g.copy() for g in grads]
    for g in frozen[1::2]:
        g.flags.writeable = False
    results = []
    for gs in (grads, frozen):
        params = [p.copy() for p in start]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        adamw_step(params, gs, m, v, [], [1, 2, 1, 3, 3], lr=0.1)   # steps differ too: more runs
        lion_step(params, gs, m, lr=0.1)
        results.append(params)
    for a, b, p, dtype in zip(*results, start, dtypes):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)
        assert np.all(a != p)


@pytest.mark.parametrize("backend", ["numba"], indirect=True)  # the NumPy blocks use Python threads
def test_large_steps_share_each_chunk_among_numbas_threads(monkeypatch, backend):
    "With 2 threads a large step goes to the parallel loop (2 pieces per slice), a small one to the serial loop."
    runner, calls = fused._compiled["sgd"], []
    counting = fused.ChunkRunner(serial=lambda n, *args: (calls.append(("serial", n)), runner.serial(n, *args)),
                                 parallel=lambda n, *args: (calls.append(("parallel", n, args[-1])),
                                                            runner.parallel(n, *args)))
    monkeypatch.setitem(fused._compiled, "sgd", counting)
    threads = fused.num_threads()
    fused.set_num_threads(2)
    try:
        big = [np.ones(fused.PARALLEL_MIN_ELEMENTS)]
        sgd_step(big, [np.ones(fused.PARALLEL_MIN_ELEMENTS)], [None], lr=0.5)
        small = [np.ones(10)]
        sgd_step(small, [np.ones(10)], [None], lr=0.5)
    finally:
        fused.set_num_threads(threads)
    assert calls == [("parallel", 1, 2), ("serial", 1)], calls
    assert np.all(big[0] == 0.5) and np.all(small[0] == 0.5)


LOAD_THE_SGD_LOOPS = textwrap.dedent("""
    import numpy as np
    from tinytorch.core import fused
    runner, p, g = fused._compiled["sgd"], np.ones(8), np.ones(8)
    runner.serial(1, (p,), (g,), (False, 0.0, -0.25))
    runner.parallel(1, (p,), (g,), (False, 0.0, -0.25), 2)
    assert np.all(p == 0.5), p
    for loop in (runner.serial, runner.parallel):
        print(sum(loop.stats.cache_hits.values()), sum(loop.stats.cache_misses.values()))
""")


@pytest.mark.parametrize("backend", ["numba"], indirect=True)
def test_a_second_process_loads_the_compiled_chunk_loops_from_disk(tmp_path, backend):
    """Compiling the chunk loops takes seconds each (the parallel ones most), so they must come from Numba's disk
    cache in a later process: a loop that captured a compiled dispatcher was compiled again in every process."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    first, second = [subprocess.run([sys.executable, "-c", LOAD_THE_SGD_LOOPS], env=env, capture_output=True,
                                    text=True, timeout=300) for _ in range(2)]
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split() == ["0", "1", "0", "1"], first.stdout   # (hits, misses) of each loop: compiled
    assert second.stdout.split() == ["1", "0", "1", "0"], second.stdout   # then loaded, not compiled again
