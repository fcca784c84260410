"""The reference `tinytorch.core.nn` against PyTorch (float64): an MLP with cross-entropy trained
for many steps, PyTorch's names and initialisation, checkpoints, and errors on bad input."""
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core.autograd import no_grad
from tinytorch.core.nn import (
    CrossEntropyLoss,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    log_softmax,
)
from tinytorch.core.tensor import Tensor

pytestmark = pytest.mark.torch
ATOL = 1e-10
NN_NOTEBOOK = Path(__file__).resolve().parent.parent / "modules" / "02_autograd" / "nn.ipynb"


def _mlp(sizes, activations, seed):
    "Our MLP and PyTorch's, with the same float64 weights (ours drawn from `seed`)."
    ours_layers, torch_layers = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        ours = Linear(n_in, n_out, rng=seed + i, dtype="float64")
        theirs = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
        ours_layers.append(ours)
        torch_layers.append(theirs)
        if i < len(sizes) - 2:
            ours_layers.append(activations[i][0]())
            torch_layers.append(activations[i][1]())
    return Sequential(*ours_layers), torch.nn.Sequential(*torch_layers)


def test_mlp_cross_entropy_trajectory_matches_torch():
    "40 SGD steps of an MLP: the loss, every gradient and every weight equal PyTorch's at each step."
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((24, 20)), rng.integers(0, 5, 24)
    ours, theirs = _mlp([20, 32, 16, 5], [(ReLU, torch.nn.ReLU), (Tanh, torch.nn.Tanh)], seed=10)
    ours_loss, torch_loss = CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    lr = 0.3
    for step in range(40):
        loss = ours_loss(ours(Tensor(x)), y)
        ref = torch_loss(theirs(torch.tensor(x)), torch.tensor(y))
        ours.zero_grad()
        theirs.zero_grad()
        loss.backward()
        ref.backward()
        assert abs(loss.item() - ref.item()) < ATOL, (step, loss.item(), ref.item())
        for (name, p), (torch_name, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert name == torch_name
            np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=0, atol=ATOL, err_msg=f"{name} step {step}")
        with no_grad():
            for p in ours.parameters():
                p.data -= lr * p.grad.data
        with torch.no_grad():
            for q in theirs.parameters():
                q -= lr * q.grad
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=ATOL)
    assert loss.item() < 0.5 * np.log(5), loss.item()  # well below chance: the run did learn


def test_mse_sigmoid_network_matches_torch():
    rng = np.random.default_rng(1)
    x, target = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    ours, theirs = _mlp([3, 7, 2], [(Sigmoid, torch.nn.Sigmoid)], seed=3)
    for reduction in ("mean", "sum"):
        ours.zero_grad()
        theirs.zero_grad()
        loss = MSELoss(reduction)(ours(Tensor(x)), Tensor(target))
        ref = torch.nn.MSELoss(reduction=reduction)(theirs(torch.tensor(x)), torch.tensor(target))
        loss.backward()
        ref.backward()
        assert abs(loss.item() - ref.item()) < ATOL
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=0, atol=ATOL)
    none = MSELoss("none")(ours(Tensor(x)), target)
    assert none.shape == (10, 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_extreme_logits_matches_torch(reduction):
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3], [0.1, 0.2, 0.3], [800.0, 799.0, -800.0]])
    target = np.array([1, 2, 0, 1])
    ours, ref = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = CrossEntropyLoss(reduction)(ours, target)
    expected = torch.nn.CrossEntropyLoss(reduction=reduction)(ref, torch.tensor(target))
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), rtol=1e-14, atol=ATOL)
    upstream = np.arange(1.0, 5.0) if reduction == "none" else None
    loss.backward(upstream)
    expected.backward(None if upstream is None else torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.data, ref.grad.numpy(), rtol=0, atol=ATOL)


def test_log_softmax_matches_torch_on_every_axis():
    x = np.random.default_rng(2).standard_normal((3, 4, 5)) * 30
    for axis in (0, 1, 2, -1):
        ours, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        weights = np.random.default_rng(axis + 5).standard_normal(x.shape)
        (log_softmax(ours, axis=axis) * weights).sum().backward()
        (torch.log_softmax(ref, dim=axis) * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(log_softmax(Tensor(x), axis=axis).data,
                                   torch.log_softmax(torch.tensor(x), axis).numpy(), rtol=0, atol=ATOL)
        np.testing.assert_allclose(ours.grad.data, ref.grad.numpy(), rtol=0, atol=ATOL)


def test_recorded_trajectory_of_the_notebook_matches_torch():
    """The hidden check of nn.ipynb's training run compares with 25 losses recorded from the reference
    (the instructor store, tools/record_checks.py); PyTorch must agree, so they cannot drift from the truth."""
    from tinytorch.checks.stores import INSTRUCTOR_SUFFIX, read_store
    store = read_store(NN_NOTEBOOK.with_name(NN_NOTEBOOK.stem + INSTRUCTOR_SUFFIX), NN_NOTEBOOK.stem)
    recorded = store.check("test_training_trajectory", "the loss of each of the 25 steps")
    assert recorded is not None, "run tools/record_checks.py modules/02_autograd/nn.ipynb"
    stored = [row[0] for row in recorded.expected]
    # The same recipe as the notebook's train_small_mlp, in PyTorch.
    rng = np.random.default_rng(2024)
    x, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    _, model = _mlp_from_seeds([5, 8, 8, 3], [1, 2, 3], [torch.nn.ReLU, torch.nn.Tanh])
    losses = []
    for _ in range(25):
        loss = torch.nn.functional.cross_entropy(model(torch.tensor(x)), torch.tensor(y))
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for q in model.parameters():
                q -= 0.5 * q.grad
        losses.append(loss.item())
    assert len(stored) == 25
    np.testing.assert_allclose(stored, losses, rtol=0, atol=1e-12)


def _mlp_from_seeds(sizes, seeds, torch_activations):
    "Like _mlp, but each Linear has its own seed (the notebook's recipe)."
    ours, layers = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        lin = Linear(n_in, n_out, rng=seeds[i], dtype="float64")
        ours.append(lin)
        t = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(lin.weight.data))
            t.bias.copy_(torch.tensor(lin.bias.data))
        layers.append(t)
        if i < len(torch_activations):
            layers.append(torch_activations[i]())
    return ours, torch.nn.Sequential(*layers)


# --- Module: names, order, state ----------------------------------------------------------------

class Block(Module):
    def __init__(self):
        self.gain = Parameter(np.ones(4))
        self.proj = Linear(4, 4, rng=0)
        self.act = ReLU()

    def forward(self, x):
        return self.act(self.proj(x * self.gain))


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(4))
        self.proj = torch.nn.Linear(4, 4)
        self.act = torch.nn.ReLU()


def test_parameter_names_and_order_match_torch():
    ours = Sequential(Linear(3, 4, rng=0), Block(), Tanh(), Linear(4, 2, bias=False, rng=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), TorchBlock(), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2, bias=False))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    assert all(isinstance(p, Parameter) and p.requires_grad for p in ours.parameters())


def test_parameters_is_an_iterator_without_duplicates():
    shared = Linear(2, 2, rng=0)
    model = Sequential(shared, ReLU(), shared)
    params = model.parameters()
    assert iter(params) is params
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(Sequential(shared, shared).parameters())) == len(list(torch.nn.Sequential(
        (t := torch.nn.Linear(2, 2)), t).parameters())) == 2


def test_state_dict_is_a_copy_and_loads_in_place():
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    state = model.state_dict()
    weight = model[0].weight
    state["0.weight"][...] = 7.0
    assert not np.any(weight.data == 7.0), "state_dict must hold copies"
    other = Sequential(Linear(3, 4, rng=5), ReLU(), Linear(4, 2, rng=6))
    result = other.load_state_dict(model.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    before = other[0].weight
    data_before = before.data
    other.load_state_dict(state)
    assert other[0].weight is before and before.data is data_before, "loading must keep the parameters' identity"
    assert np.all(before.data == 7.0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch_model.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})  # the names fit torch
    other.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    for p, q in zip(other.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.data, q.data.astype(np.float32))


def test_load_state_dict_refuses_bad_checkpoints_and_changes_nothing():
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    good = model.state_dict()
    missing = {k: v for k, v in good.items() if k != "2.bias"}
    unexpected = {**good, "3.weight": np.ones((1, 1))}
    wrong_shape = {**good, "0.weight": np.ones((4, 4)) * 9}
    for bad, message in [(missing, r"missing keys: \['2.bias'\]"), (unexpected, r"unexpected keys: \['3.weight'\]"),
                         (wrong_shape, r"0.weight.*\(4, 4\).*\(4, 3\)")]:
        with pytest.raises(ValueError, match=message):
            model.load_state_dict(bad)
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(value, good[name], err_msg="a refused load must change nothing")
    result = model.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["2.bias"]
    with pytest.raises(ValueError, match="0.weight"):
        model.load_state_dict(wrong_shape, strict=False)


def test_zero_grad_train_eval_and_call():
    model = Sequential(Linear(3, 4, rng=0), Block())
    model(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not np.any(g.data) for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.training and model.eval() is model and not model[1].proj.training
    assert model.train().training and model[1].act.training
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        Module()(1)


def test_linear_initialisation_follows_torch():
    "Same distribution as torch's default (U(-1/sqrt(in), 1/sqrt(in)) for weight and bias), reproducible by seed."
    ours = Linear(256, 128, rng=0)
    torch.manual_seed(0)
    theirs = torch.nn.Linear(256, 128)
    bound = 1 / 16
    for p, q in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        q = q.detach().numpy()
        assert p.shape == q.shape and p.dtype == q.dtype == np.float32
        assert np.abs(p.data).max() <= bound and np.abs(q).max() <= bound
        # a uniform on [-b, b] has standard deviation b / sqrt(3)
        assert abs(p.data.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)
        assert abs(q.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)
    np.testing.assert_array_equal(Linear(5, 3, rng=4).weight.data,
                                  Linear(5, 3, rng=np.random.default_rng(4)).weight.data)
    assert not np.array_equal(Linear(5, 3).weight.data, Linear(5, 3).weight.data)


# --- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, bad", [((0, 3), "0"), ((3, -1), "-1"), ((2.5, 3), "2.5"), ((True, 3), "True")])
def test_linear_rejects_bad_sizes(args, bad):
    with pytest.raises(ValueError, match=f"must be a positive integer, got {bad}"):
        Linear(*args)


def test_linear_input_of_the_wrong_width_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 5\) @ \(3, 4\)"):
        Linear(3, 4)(Tensor(np.ones((2, 5))))


def test_losses_reject_bad_targets_with_the_bad_value():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"target 4 is not a class index in \[0, 4\)"):
        CrossEntropyLoss()(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"target -1"):
        CrossEntropyLoss()(logits, [0, -1, 1])
    with pytest.raises(ValueError, match=r"class indices.*shape \(3, 4\) of dtype float64"):
        CrossEntropyLoss()(logits, np.eye(4)[[0, 1, 2]])
    with pytest.raises(ValueError, match=r"shape \(N, C\), got \(4,\)"):
        CrossEntropyLoss()(Tensor(np.zeros(4)), [1])
    with pytest.raises(ValueError, match=r"prediction has shape \(3, 4\), target \(3,\)"):
        MSELoss()(logits, np.zeros(3))
    with pytest.raises(ValueError, match="reduction must be .* got 'avg'"):
        CrossEntropyLoss(reduction="avg")
    with pytest.raises(TypeError, match="layer 1 is not a Module"):
        Sequential(Linear(2, 2), lambda x: x)


@pytest.mark.parametrize("module", ["tinytorch.core.nn", "tinytorch.core.autograd"])
def test_importing_either_module_switches_autograd_on(module):
    "The contract other modules build on: one import and Tensor operations record the graph."
    import subprocess
    import sys
    code = (f"import {module}\n"
            "import numpy as np\n"
            "from tinytorch.core.tensor import Tensor\n"
            "t = Tensor(np.array([1.0, 2.0]), requires_grad=True)\n"
            "(t * t).sum().backward()\n"
            "assert t.grad.data.tolist() == [2.0, 4.0], t.grad\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
