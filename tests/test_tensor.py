"The reference `tinytorch.core.tensor`: PyTorch's conventions and clear errors on bad input."
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core.tensor import Tensor, arange, broadcast_shape, memory_bytes, ones, randn, tensor, zeros


@pytest.mark.parametrize("data", [[1.0, 2.0], [[1, 2], [3, 4]], 3.5, [True, False], [1, 2.5]])
def test_default_dtypes_match_torch(data):
    assert str(Tensor(data).dtype) == str(torch.tensor(data).dtype).replace("torch.", "")


def test_numpy_input_keeps_its_dtype_and_is_copied():
    a = np.arange(3.0)
    t = Tensor(a)
    a[0] = 42
    assert t.dtype == np.float64 and t.data[0] == 0


def test_arithmetic_matches_torch_with_broadcasting():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 1, 3)), rng.standard_normal((5, 3))
    tx, ty = torch.tensor(x), torch.tensor(y)
    for ours, theirs in [(Tensor(x) + Tensor(y), tx + ty), (Tensor(x) * 2 - Tensor(y) / 3, tx * 2 - ty / 3),
                         (1 - Tensor(x), 1 - tx), (Tensor(y) ** 2, ty ** 2), (-Tensor(x), -tx),
                         (Tensor(x) @ Tensor(y).T, tx @ ty.T),
                         (Tensor(y).sum(axis=0, keepdims=True), ty.sum(0, keepdim=True)),
                         (Tensor(y).mean(axis=1), ty.mean(1)), (Tensor(y).max(axis=0), ty.max(0).values),
                         (Tensor(x).reshape(2, -1), tx.reshape(2, -1)),
                         (Tensor(x).transpose(2, 0, 1), tx.permute(2, 0, 1))]:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=0, atol=1e-12)


def test_python_scalars_do_not_promote_float32():
    assert (Tensor([1.0, 2.0]) * 0.5).dtype == np.float32
    assert (Tensor([1, 2]) * 0.5).dtype == np.float64  # int tensor times a float becomes float, never truncated
    assert (np.ones(2) + Tensor(np.ones(2))).shape == (2,)


def test_memory():
    t = zeros(10, 20, dtype="float16")
    assert t.nbytes == 400 == t.data.nbytes
    assert memory_bytes(10**10, "bf16") == 2 * 10**10


@pytest.mark.parametrize("bad, message", [
    (lambda: Tensor("abc"), "'abc'"),
    (lambda: Tensor([[1, 2], [3]]), r"\[\[1, 2\], \[3\]\]"),
    (lambda: Tensor([1.0], dtype="bfloat16"), "bfloat16"),
    (lambda: Tensor([1.0], dtype="float8"), "'float8'"),
    (lambda: memory_bytes(-5), "-5"),
    (lambda: memory_bytes(1.5), "1.5"),
    (lambda: zeros(2, -3), r"\(2, -3\)"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), r"\(2, 3\) @ \(2, 3\)"),
    (lambda: Tensor(np.ones(6)).reshape(4, 2), r"\(4, 2\)"),
    (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), r"\(0, 0\)"),
    (lambda: Tensor([1.0, 2.0]).item(), r"\(2,\)"),
    (lambda: broadcast_shape((2, 3), (4,)), r"\(2, 3\) and \(4,\)"),
])
def test_bad_input_names_the_bad_value(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        bad()


def test_creation_helpers():
    assert ones(2, 3).shape == (2, 3) and ones((2, 3)).dtype == np.float32
    assert arange(5).dtype == np.int64 and tensor([1.0], requires_grad=True).requires_grad
    a = randn(3, 4, rng=np.random.default_rng(7))
    b = randn(3, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
