"""tinytorch.core.optimizers against torch.optim (2.13, CPU, float64): whole trajectories.

Every optimizer, every combination of its options, 1000 steps on a small two-layer network
with five parameters of different shapes, a different mini-batch each step, one parameter
that has no gradient every fourth step and one that never has one. tinytorch gets its
gradients from a hand-written NumPy backward pass, torch from autograd on the same values;
the parameters must agree to 1e-10 at every step, and the final optimizer states too.
"""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests

from tinytorch.core import optimizers as tt
from tinytorch.core.tensor import Tensor

pytestmark = pytest.mark.torch
STEPS = 1000
TOLERANCE = 1e-10

# --- the problem: y = tanh(x W1 + b1) W2 + b2 + s * x[:, :1], least squares on 6 of 40 rows ---------
_rng = np.random.default_rng(1234)
DATA_X = _rng.standard_normal((40, 4))
DATA_Y = _rng.standard_normal((40, 3))
INITIAL = {"W1": 0.5 * _rng.standard_normal((4, 5)), "b1": 0.1 * _rng.standard_normal(5),
           "W2": 0.5 * _rng.standard_normal((5, 3)), "b2": np.zeros(3), "s": np.array(0.3),
           "frozen": np.ones((2, 2))}
NAMES = list(INITIAL)


def batch(t):
    rows = (7 * t + np.arange(6) * 5) % 40
    return DATA_X[rows], DATA_Y[rows]


def has_grad(name, t):
    "b2 has no gradient every fourth step; `frozen` never has one."
    return name != "frozen" and not (name == "b2" and t % 4 == 3)


def numpy_grads(values, t, sign):
    "Gradients of sign * loss at step t, by hand (None for parameters without a gradient)."
    x, y = batch(t)
    hidden = np.tanh(x @ values["W1"] + values["b1"])
    residual = hidden @ values["W2"] + values["b2"] + values["s"] * x[:, :1] - y
    d_out = sign * residual / len(x)                      # d(sign * mean(|r|^2 / 2)) / d out
    d_hidden = (d_out @ values["W2"].T) * (1 - hidden**2)
    grads = {"W1": x.T @ d_hidden, "b1": d_hidden.sum(0), "W2": hidden.T @ d_out, "b2": d_out.sum(0),
             "s": np.array((d_out * x[:, :1]).sum()), "frozen": None}
    return {n: (g if has_grad(n, t) else None) for n, g in grads.items()}


def torch_loss(params, t, sign):
    x, y = (torch.from_numpy(a) for a in batch(t))
    hidden = torch.tanh(x @ params["W1"] + params["b1"])
    residual = hidden @ params["W2"] + params["b2"] + params["s"] * x[:, :1] - y
    return sign * (residual**2).sum(1).mean() / 2


class TorchLion(torch.optim.Optimizer):
    "Lion as in Chen et al. (2023), written with torch ops: torch.optim has no Lion to compare with."

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(torch.sign(state["exp_avg"] * beta1 + grad * (1 - beta1)), alpha=-group["lr"])
                state["exp_avg"].mul_(beta2).add_(grad, alpha=1 - beta2)


TORCH_CLASSES = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
                 "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad, "Lion": TorchLion}


def _grid(**axes):
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def option_combinations():
    """pytest params (optimizer name, options) for every combination of every option, invalid ones left out.
    The whole grid is a corpus (not in the fast lane); the fast lane keeps, per optimizer, the grid's
    first and last combinations (every option off, every option on) and the non-default hyperparameters."""
    cases = []
    for o in _grid(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        if not (o["nesterov"] and (o["momentum"] == 0 or o["dampening"] != 0)):
            cases.append(("SGD", {"lr": 0.05, **o}))
    for o in _grid(weight_decay=[0, 0.1], amsgrad=[False, True], maximize=[False, True]):
        cases.append(("Adam", {"lr": 0.01, **o}))
    for o in _grid(weight_decay=[0.01, 0.3], amsgrad=[False, True], maximize=[False, True]):
        cases.append(("AdamW", {"lr": 0.01, **o}))
    for o in _grid(momentum=[0, 0.9], centered=[False, True], weight_decay=[0, 0.1], maximize=[False, True]):
        cases.append(("RMSprop", {"lr": 0.003, **o}))
    for o in _grid(lr_decay=[0, 0.01], initial_accumulator_value=[0, 0.1], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        cases.append(("Adagrad", {"lr": 0.05, **o}))
    for o in _grid(weight_decay=[0, 0.5], maximize=[False, True]):
        cases.append(("Lion", {"lr": 1e-3, **o}))
    positions = {}   # optimizer name: the indices of its combinations
    for i, (name, _) in enumerate(cases):
        positions.setdefault(name, []).append(i)
    ends = {i for indices in positions.values() for i in (indices[0], indices[-1])}
    grid = [pytest.param(name, options, marks=() if i in ends else pytest.mark.corpus)
            for i, (name, options) in enumerate(cases)]
    # non-default betas, alpha, eps
    extras = [("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-3}),
              ("AdamW", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 0.1}),
              ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "centered": True, "momentum": 0.5}),
              ("Adagrad", {"lr": 0.1, "eps": 1e-3}), ("Lion", {"lr": 3e-3, "betas": (0.5, 0.9), "weight_decay": 0.1})]
    return grid + [pytest.param(name, options) for name, options in extras]


def _groups(make_group, second_group_options):
    "All parameters in one group, or W2, b2, s, frozen in a second group with other hyperparameters."
    if second_group_options is None:
        return [make_group(NAMES)]
    return [make_group(NAMES[:2]), {**make_group(NAMES[2:]), **second_group_options}]


def run_both(name, options, steps=STEPS, second_group=None):
    "Run tinytorch and torch side by side; return the largest parameter difference seen and both optimizers."
    sign = -1.0 if options.get("maximize") else 1.0     # maximize the negated loss: the same minimisation
    ours = {n: Tensor(v.copy()) for n, v in INITIAL.items()}
    theirs = {n: torch.tensor(v.copy(), requires_grad=True) for n, v in INITIAL.items()}
    our_opt = getattr(tt, name)(_groups(lambda ns: {"params": [ours[n] for n in ns]}, second_group), **options)
    their_opt = TORCH_CLASSES[name](_groups(lambda ns: {"params": [theirs[n] for n in ns]}, second_group), **options)
    worst = 0.0
    for t in range(steps):
        our_opt.zero_grad()
        for n, g in numpy_grads({n: p.data for n, p in ours.items()}, t, sign).items():
            if g is not None:
                ours[n].grad = Tensor(g)
        their_opt.zero_grad()
        torch_loss(theirs, t, sign).backward()
        for n, p in theirs.items():
            if not has_grad(n, t):
                p.grad = None
        our_opt.step()
        their_opt.step()
        for n in NAMES:
            worst = max(worst, float(np.max(np.abs(ours[n].data - theirs[n].detach().numpy()))))
    assert np.all(ours["frozen"].data == INITIAL["frozen"])
    assert our_opt.state.get(ours["frozen"], {}).get("step", 0) == 0   # Adagrad creates state up front, as torch
    return worst, our_opt, their_opt, ours, theirs


def assert_states_match(our_opt, their_opt, ours, theirs):
    "The optimizer states agree too: the same buffers, the same step counts."
    for n in NAMES:
        ours_state, theirs_state = our_opt.state.get(ours[n], {}), their_opt.state.get(theirs[n], {})
        assert set(ours_state) == set(theirs_state), (n, sorted(ours_state), sorted(theirs_state))
        for key, value in ours_state.items():
            expected = theirs_state[key]
            if key == "step":
                assert value == int(expected.item() if torch.is_tensor(expected) else expected), (n, key)
            else:
                np.testing.assert_allclose(value, expected.numpy(), rtol=0, atol=TOLERANCE, err_msg=f"{n} {key}")


@pytest.mark.parametrize("name,options", option_combinations(), ids=lambda v: str(v).replace(" ", ""))
def test_trajectory_matches_torch(name, options):
    worst, our_opt, their_opt, ours, theirs = run_both(name, options)
    assert worst <= TOLERANCE, f"{name} {options}: largest difference from torch {worst:.3e}"
    assert_states_match(our_opt, their_opt, ours, theirs)


SECOND_GROUPS = {"SGD": ({"lr": 0.05, "momentum": 0.9},
                         {"lr": 0.01, "momentum": 0.5, "nesterov": True, "weight_decay": 0.2}),
                 "Adam": ({"lr": 0.01}, {"lr": 0.003, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1}),
                 "AdamW": ({"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.5}),
                 "RMSprop": ({"lr": 0.003}, {"lr": 0.001, "centered": True, "momentum": 0.5}),
                 "Adagrad": ({"lr": 0.05}, {"lr_decay": 0.1, "weight_decay": 0.05}),
                 "Lion": ({"lr": 1e-3}, {"lr": 3e-4, "betas": (0.8, 0.9), "weight_decay": 1.0})}


@pytest.mark.parametrize("name", list(SECOND_GROUPS))
def test_param_groups_with_different_hyperparameters_match_torch(name):
    options, second = SECOND_GROUPS[name]
    worst, our_opt, their_opt, ours, theirs = run_both(name, options, second_group=second)
    assert worst <= TOLERANCE, f"{name} with two groups: largest difference from torch {worst:.3e}"
    assert_states_match(our_opt, their_opt, ours, theirs)
    assert our_opt.param_groups[1]["lr"] == their_opt.param_groups[1]["lr"]


@pytest.mark.parametrize("name", list(SECOND_GROUPS))
def test_state_dict_layout_matches_torch(name):
    "Same positions, same hyperparameters (those torch has), same state keys."
    options, second = SECOND_GROUPS[name]
    _, our_opt, their_opt, _, _ = run_both(name, options, steps=7, second_group=second)
    ours, theirs = our_opt.state_dict(), their_opt.state_dict()
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    for our_group, their_group in zip(ours["param_groups"], theirs["param_groups"]):
        for key, value in our_group.items():
            assert their_group[key] == value, (key, value, their_group[key])
    assert {k: set(v) for k, v in ours["state"].items()} == {k: set(v) for k, v in theirs["state"].items() if v}
