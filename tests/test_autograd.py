"""The reference `tinytorch.core.autograd` against PyTorch (float64): a bank of random expressions
with broadcasting and reused tensors, and the engine's contracts and errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core.autograd import Softplus, gradcheck, is_grad_enabled, no_grad, numerical_grad, unbroadcast
from tinytorch.core.tensor import Tensor

pytestmark = pytest.mark.torch
ATOL = 1e-10
SHAPE = (3, 4)  # every expression of the bank broadcasts to this shape


def _close(ours, theirs, what):
    "Equal to PyTorch within ATOL (and 1e-12 relative, for the rare large value of a deep expression)."
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=ATOL, err_msg=what)


# --- the expression bank -------------------------------------------------------------------
# Leaves of shapes that broadcast against each other; a tree picks them with replacement, so
# most expressions use some tensor more than once. Every operation maps shapes that broadcast
# to SHAPE onto shapes that do, so any two subtrees can be combined.
LEAF_SHAPES = [(3, 4), (4,), (3, 1), (), (1, 4), (3, 4)]
ZEROS = np.zeros(SHAPE)  # a constant: `x + ZEROS` gives x the full shape (and tests constants)
W_RIGHT, W_LEFT = 6, 7   # indices of the two matrix leaves, shapes (4, 4) and (3, 3)

UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "exp_tanh": (lambda x: x.tanh().exp(), lambda x: x.tanh().exp()),
    "log1p_square": (lambda x: (x * x + 1.0).log(), lambda x: (x * x + 1.0).log()),
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "softplus": (lambda x: Softplus.apply(x * 3.0), lambda x: torch.nn.functional.softplus(x * 3.0)),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "pow_1.5": (lambda x: (x * x + 0.5) ** 1.5, lambda x: (x * x + 0.5) ** 1.5),
    "scale_shift": (lambda x: 2.5 - 0.5 * x / 2.0, lambda x: 2.5 - 0.5 * x / 2.0),
    "sum_last": (lambda x: x.sum(axis=-1, keepdims=True), lambda x: x.sum(dim=-1, keepdim=True)),
    "mean_first": (lambda x: (x + ZEROS).mean(axis=0, keepdims=True),
                   lambda x: (x + torch.tensor(ZEROS)).mean(dim=0, keepdim=True)),
    "mean_all": (lambda x: x.mean(), lambda x: x.mean()),
    "sum_both": (lambda x: (x + ZEROS).sum(axis=(0, 1)), lambda x: (x + torch.tensor(ZEROS)).sum(dim=(0, 1))),
    "max_last": (lambda x: (x + ZEROS).max(axis=-1, keepdims=True),
                 lambda x: (x + torch.tensor(ZEROS)).amax(dim=-1, keepdim=True)),
    "reshape_T": (lambda x: (x + ZEROS).reshape(4, 3).T, lambda x: (x + torch.tensor(ZEROS)).reshape(4, 3).T),
    "transpose_twice": (lambda x: (x + ZEROS).transpose(1, 0).transpose(),
                        lambda x: (x + torch.tensor(ZEROS)).permute(1, 0).T),
    "index_rows": (lambda x: (x + ZEROS)[[2, 0, 0]], lambda x: (x + torch.tensor(ZEROS))[[2, 0, 0]]),
    "index_column": (lambda x: (x + ZEROS)[:, 1:2], lambda x: (x + torch.tensor(ZEROS))[:, 1:2]),
    "index_scalar": (lambda x: (x + ZEROS)[1, 2], lambda x: (x + torch.tensor(ZEROS))[1, 2]),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "rdiv": lambda a, b: 1.0 / (a * a + 1.0) - b,
}
MATMUL = {  # (ours, torch) with the matrix leaves: the result keeps SHAPE
    "matmul_right": lambda x, leaves, zeros: (x + zeros) @ leaves[W_RIGHT],
    "matmul_left": lambda x, leaves, zeros: leaves[W_LEFT] @ (x + zeros),
}


def random_expression(rng, depth):
    "A random tree: ('leaf', i) | (unary name, child) | (binary name, left, right) | (matmul name, child)."
    if depth == 0 or rng.random() < 0.2:
        return ("leaf", int(rng.integers(len(LEAF_SHAPES))))
    kind = rng.random()
    if kind < 0.45:
        return (str(rng.choice(list(UNARY))), random_expression(rng, depth - 1))
    if kind < 0.9:
        return (str(rng.choice(list(BINARY))), random_expression(rng, depth - 1), random_expression(rng, depth - 1))
    return (str(rng.choice(list(MATMUL))), random_expression(rng, depth - 1))


def evaluate(tree, leaves, framework):
    op, *children = tree
    if op == "leaf":
        return leaves[children[0]]
    args = [evaluate(child, leaves, framework) for child in children]
    if op in UNARY:
        return UNARY[op][0 if framework == "ours" else 1](args[0])
    if op in BINARY:
        return BINARY[op](*args)
    zeros = ZEROS if framework == "ours" else torch.tensor(ZEROS)
    return MATMUL[op](args[0], leaves, zeros)


def _leaves(rng):
    arrays = [rng.standard_normal(shape) for shape in LEAF_SHAPES]
    arrays += [rng.standard_normal((4, 4)) / 2, rng.standard_normal((3, 3)) / 2]
    return ([Tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("seed", range(12))
def test_random_expressions_match_torch(seed):
    trees, rng = np.random.default_rng(seed), np.random.default_rng(1000 + seed)
    for case in range(25):
        tree = random_expression(trees, depth=4)
        ours_leaves, torch_leaves = _leaves(rng)
        ours, theirs = evaluate(tree, ours_leaves, "ours"), evaluate(tree, torch_leaves, "torch")
        if not isinstance(ours, Tensor) or not ours.requires_grad:
            continue  # a bare constant cannot happen, but keep the bank honest
        _close(ours.data, theirs, f"forward of {tree}")
        if rng.random() < 0.5:  # half the time an explicit gradient, else a scalar loss
            upstream = rng.standard_normal(ours.shape)
            ours.backward(upstream)
            theirs.backward(torch.tensor(upstream))
        else:
            ours.sum().backward()
            theirs.sum().backward()
        for i, (a, b) in enumerate(zip(ours_leaves, torch_leaves)):
            if b.grad is None:
                assert a.grad is None, f"leaf {i} is not used by {tree} but got a gradient"
            else:
                assert isinstance(a.grad, Tensor) and a.grad.shape == a.shape and a.grad.dtype == np.float64
                _close(a.grad.data, b.grad, f"gradient of leaf {i} in {tree} (case {case})")


def test_the_bank_covers_every_operation_and_reuses_tensors():
    "The bank would prove little if most trees were tiny: count what the seeds above exercise."
    ops, reused = set(), 0
    for seed in range(12):
        trees = np.random.default_rng(seed)  # the same trees as the test above
        for _ in range(25):
            tree = random_expression(trees, depth=4)
            found = []
            stack = [tree]
            while stack:
                op, *children = stack.pop()
                ops.add(op)
                if op == "leaf":
                    found.append(children[0])
                else:
                    stack += children
            reused += len(found) > len(set(found))
    assert ops == {"leaf", *UNARY, *BINARY, *MATMUL}, {*UNARY, *BINARY, *MATMUL} - ops
    assert reused >= 75, f"only {reused} of 300 expressions use a tensor twice"


@pytest.mark.parametrize("left, right", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)),
                                         ((5, 2, 3), (5, 3, 1)), ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_gradients_for_every_operand_rank(left, right):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(left), rng.standard_normal(right)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = ta @ tb, pa @ pb
    upstream = rng.standard_normal(ref.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    _close(out.data, ref, "forward")
    _close(ta.grad.data, pa.grad, "grad of left")
    _close(tb.grad.data, pb.grad, "grad of right")


def test_max_splits_the_gradient_between_ties_like_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    ours, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours.max(axis=1) * Tensor(np.array([1.0, 2.0]))).sum().backward()
    (ref.amax(dim=1) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    _close(ours.grad.data, ref.grad, "amax ties")
    ours.grad = None
    ours.max().backward()
    assert ours.grad.data.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]


def test_gradients_accumulate_across_backward_calls_like_torch():
    x = np.array([1.0, -2.0, 0.5])
    ours, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for k in range(1, 4):
        ((ours * ours) * k).sum().backward()
        ((ref * ref) * k).sum().backward()
        _close(ours.grad.data, ref.grad, f"after {k} calls")


def test_grad_is_a_tensor_of_the_tensors_shape_and_dtype():
    for dtype in (np.float32, np.float64):
        w = Tensor(np.ones((2, 3), dtype=dtype), requires_grad=True)
        b = Tensor(np.ones(3, dtype=dtype), requires_grad=True)
        ((w * 2.0 + b) * np.ones((5, 1, 3))).sum().backward()  # broadcast against a float64 constant
        for t in (w, b):
            assert type(t.grad) is Tensor and t.grad.shape == t.shape and t.grad.dtype == dtype
        np.testing.assert_array_equal(b.grad.data, np.full(3, 10.0))
        assert w.grad.requires_grad is False and w.grad.grad_fn is None


def test_results_keep_the_input_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x * 2.0, x / 3, x ** 2, 1 - x, x.exp(), x.sigmoid(), x.sum(), x.mean(), x @ x, x.reshape(3, 1)):
        assert y.dtype == np.float32, y


def test_only_leaves_keep_grad_and_constants_get_none():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]))           # requires_grad=False
    mid = a * c
    (mid * 2).sum().backward()
    assert mid.grad is None and c.grad is None and a.grad.data.tolist() == [6.0, 8.0]
    assert a.is_leaf and not mid.is_leaf and mid.requires_grad and mid.grad_fn is not None


def test_no_grad_builds_no_graph_and_restores_the_mode():
    w = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = w * 2
        with no_grad():
            pass
        assert not is_grad_enabled(), "a nested no_grad must restore the outer mode, not switch recording on"
    assert is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None

    @no_grad()
    def evaluate(t):
        return t * 3
    assert evaluate(w).grad_fn is None and is_grad_enabled()
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("an error inside no_grad")
    assert is_grad_enabled(), "no_grad must restore the mode when its block raises"


def test_sgd_updates_in_place_keep_identity_and_hashing():
    w = Tensor(np.ones(3), requires_grad=True)
    state = {w: "momentum buffer"}              # optimizer state keyed by the parameter
    data_before = w.data
    (w * w).sum().backward()
    with no_grad():
        w.data -= 0.1 * w.grad.data
    assert w.data is data_before and state[w] == "momentum buffer"
    assert Tensor.__hash__ is object.__hash__
    assert w != Tensor(np.ones(3)) and w == w  # identity, not elementwise


def test_long_chains_need_no_recursion():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_a_graph_can_be_differentiated_twice_and_accumulates():
    x = Tensor(np.array([2.0]), requires_grad=True)
    y = (x ** 3).sum()
    y.backward()
    y.backward()
    assert x.grad.data.tolist() == [24.0]


# --- bad input ----------------------------------------------------------------------------

def test_matmul_shape_mismatch_names_both_shapes():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        a @ b
    with pytest.raises(ValueError, match=r"\(3,\) @ \(4,\)"):
        Tensor(np.ones(3)) @ Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"\(\) @ \(3,\)"):
        Tensor(np.array(2.0)) @ Tensor(np.ones(3))


def test_backward_on_a_non_scalar_without_gradient_is_a_clear_error():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*gradient"):
        (x * 2).backward()
    assert x.grad is None, "a refused backward must not leave partial gradients"


def test_backward_errors():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\), the tensor has shape \(3,\)"):
        (x * 2).backward(np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()
    with pytest.raises(TypeError, match="exponent must be a number"):
        x ** Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*into \(2, 2\)"):
        x.reshape(2, 2)
    with pytest.raises(ValueError, match="not a permutation"):
        Tensor(np.ones((2, 2))).transpose(0, 0)
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).requires_grad_(False)


def test_unbroadcast_refuses_a_smaller_gradient():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        unbroadcast(np.ones(3), (2, 3))


# --- the gradient-check tools learners use --------------------------------------------------

def test_numerical_grad_and_gradcheck():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    np.testing.assert_allclose(numerical_grad(lambda v: float(np.sum(np.sin(v))), x), np.cos(x), atol=1e-9)
    assert gradcheck(lambda a, b: (a * a).tanh() @ b.T, (3, 2), (4, 2)) < 1e-7
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda a: a.detach() * a.detach() + a, (3,))  # a detached path is a wrong gradient


def test_module_01_behaviour_is_unchanged_without_gradients():
    "Installing autograd must not change what module 01's operations compute or how they fail."
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (t + 1).dtype == np.float32 and (Tensor([1, 2]) * 0.5).dtype == np.float64
    assert (np.ones((2, 2)) @ t).shape == (2, 2) and isinstance(1 - t, Tensor)
    assert t.reshape(-1).shape == (4,) and t.T.data.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert t.sum().item() == 10.0 and t.max(axis=0).data.tolist() == [3.0, 4.0]
    assert (t + t).requires_grad is False and (t + t).grad_fn is None
