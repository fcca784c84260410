"""clip_grad_norm_ of tinytorch.core.training against torch.nn.utils.clip_grad_norm_ (torch 2.13)."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core.tensor import Tensor
from tinytorch.core.training import clip_grad_norm_

SHAPES = [((5,), 1.0), ((3, 4), 2.0), ((2, 2, 3), 0.5), ((1,), 1.0), ((7, 1), 30.0)]


def gradients(seed, dtype):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * scale).astype(dtype) for shape, scale in SHAPES]


def ours_and_torch(grads):
    ours, theirs = [], []
    for g in grads:
        p = Tensor(np.zeros_like(g))
        p.grad = Tensor(g.copy())
        ours.append(p)
        tp = torch.zeros(g.shape, dtype=getattr(torch, g.dtype.name), requires_grad=True)
        tp.grad = torch.tensor(g.copy())
        theirs.append(tp)
    return ours, theirs


@pytest.mark.torch
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-14), ("float32", 1e-6)])
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.0, 0.1, 1.0, 1e6])
def test_equals_torch(dtype, rtol, norm_type, max_norm):
    for seed in range(5):
        grads = gradients(seed, dtype)
        ours, theirs = ours_and_torch(grads)
        total = clip_grad_norm_(ours, max_norm, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
        assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.dtype(dtype)
        assert total.item() == pytest.approx(expected.item(), rel=rtol, abs=0)
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=rtol * 1e-6)


def test_clips_the_global_norm_and_keeps_the_direction():
    grads = gradients(11, "float64")
    ours, _ = ours_and_torch(grads)
    before = np.concatenate([g.ravel() for g in grads])
    total = clip_grad_norm_(ours, max_norm=1.0).item()
    after = np.concatenate([p.grad.data.ravel() for p in ours])
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-14)
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after, before * (1.0 / (total + 1e-6)), rtol=1e-14)


def test_small_gradients_are_left_alone_and_modified_in_place():
    ours, _ = ours_and_torch(gradients(3, "float64"))
    arrays = [p.grad.data for p in ours]
    copies = [a.copy() for a in arrays]
    clip_grad_norm_(ours, max_norm=1e9)
    for p, a, c in zip(ours, arrays, copies):
        assert p.grad.data is a
        np.testing.assert_array_equal(a, c)
    clip_grad_norm_(ours, max_norm=1e-3)
    assert all(p.grad.data is a for p, a in zip(ours, arrays)) and not np.allclose(arrays[0], copies[0])


def test_parameters_without_gradient_single_tensor_generators():
    with_grad, without = Tensor(np.zeros(2)), Tensor(np.zeros(3))
    with_grad.grad = Tensor(np.array([3.0, 4.0]))
    assert clip_grad_norm_((p for p in [without, with_grad]), 1.0).item() == pytest.approx(5.0)
    assert without.grad is None
    single = Tensor(np.zeros(2))
    single.grad = Tensor(np.array([0.0, 2.0]))
    assert clip_grad_norm_(single, 1.0).item() == 2.0
    np.testing.assert_allclose(single.grad.data, [0.0, 2.0 / (2.0 + 1e-6)])
    nothing = clip_grad_norm_([without], 1.0)
    assert isinstance(nothing, Tensor) and nothing.item() == 0.0


def test_nonfinite_norm():
    p = Tensor(np.zeros(3))
    p.grad = Tensor(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(RuntimeError, match="nan"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.data[0] == 1.0 and p.grad.data[2] == 2.0  # refused before changing anything
    assert np.isnan(clip_grad_norm_([p], 1.0).item())       # as torch: scaled by the nan anyway
    q = Tensor(np.zeros(2))
    q.grad = Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_([q], 1.0, norm_type=math.inf, error_if_nonfinite=True)


@pytest.mark.parametrize("kwargs, bad", [({"max_norm": -1.0}, "-1.0"), ({"max_norm": 1.0, "norm_type": 0}, "0.0"),
                                         ({"max_norm": 1.0, "norm_type": -2}, "-2.0")])
def test_bad_arguments(kwargs, bad):
    p = Tensor(np.zeros(2))
    p.grad = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=bad):
        clip_grad_norm_([p], **kwargs)
