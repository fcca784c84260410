"""tinytorch.core.optimizers as a package: the API contract other modules build on.

Parity of the numbers with torch is in test_optimizers_torch.py; this file checks the
machinery: parameter groups, validation, checkpoints, skipping, memory accounting.
"""
import copy

import numpy as np
import pytest

from tinytorch.core import optimizers as tt
from tinytorch.core.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Lion,
    Optimizer,
    RMSprop,
    expected_state_memory_bytes,
    state_memory_bytes,
)
from tinytorch.core.tensor import Tensor

ALL = {"SGD": lambda ps, **kw: SGD(ps, **{"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, **kw}),
       "SGD plain": lambda ps, **kw: SGD(ps, **{"lr": 0.05, **kw}),
       "Adam": lambda ps, **kw: Adam(ps, **{"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, **kw}),
       "AdamW": lambda ps, **kw: AdamW(ps, **{"lr": 0.01, **kw}),
       "RMSprop": lambda ps, **kw: RMSprop(ps, **{"lr": 0.003, "momentum": 0.5, "centered": True, **kw}),
       "Adagrad": lambda ps, **kw: Adagrad(ps, **{"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                                                  **kw}),
       "Lion": lambda ps, **kw: Lion(ps, **{"lr": 1e-3, "weight_decay": 0.1, **kw})}

TARGET = [np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.5]), np.array(2.0)]


def make_params():
    return [Tensor(np.ones((2, 3))), Tensor(np.zeros(2)), Tensor(np.array(0.5)), Tensor(np.full(4, 7.0))]


def set_grads(params, t):
    "Quadratic pull towards TARGET; parameter 1 has no gradient every third step, parameter 3 never."
    for k, (p, target) in enumerate(zip(params, TARGET)):
        p.grad = None if (k == 1 and t % 3 == 2) else Tensor((p.data - target) * (1 + 0.1 * np.sin(t + k)))
    params[3].grad = None


def run(make, steps=60, interrupt_at=None, groups=False):
    params = make_params()
    build = (lambda ps: make([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.002}])) if groups else make
    opt = build(params)
    for t in range(steps):
        if t == interrupt_at:
            saved = opt.state_dict()
            params = [Tensor(p.data) for p in params]
            opt = build(params)
            opt.load_state_dict(saved)
        opt.zero_grad()
        set_grads(params, t)
        opt.step()
    return params, opt


# --- checkpoints ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("groups", [False, True])
def test_resuming_from_state_dict_is_bit_identical(name, groups):
    straight, _ = run(ALL[name], groups=groups)
    resumed, _ = run(ALL[name], interrupt_at=23, groups=groups)
    for a, b in zip(straight, resumed):
        assert np.array_equal(a.data, b.data), name


@pytest.mark.parametrize("name", list(ALL))
def test_state_dict_round_trip_is_exact_and_holds_only_arrays_and_numbers(name):
    _, opt = run(ALL[name], steps=10)
    saved = opt.state_dict()
    fresh = ALL[name](make_params())
    fresh.load_state_dict(saved)
    again = fresh.state_dict()
    assert again["param_groups"] == saved["param_groups"]
    assert set(again["state"]) == set(saved["state"])
    for position, p_state in saved["state"].items():
        assert set(again["state"][position]) == set(p_state)
        for key, value in p_state.items():
            assert type(again["state"][position][key]) is type(value)
            assert np.array_equal(again["state"][position][key], value)
            assert isinstance(value, (np.ndarray, int)) and not isinstance(value, bool), (key, type(value))
    for group in saved["param_groups"]:
        for key, value in group.items():
            assert isinstance(value, (int, float, bool, tuple, list)), (key, type(value))   # .npz-friendly
    # loaded state is a copy: changing the checkpoint afterwards changes nothing
    for p_state in saved["state"].values():
        for value in p_state.values():
            if isinstance(value, np.ndarray):
                value[...] = 12345.0
    assert not any(np.any(v == 12345.0) for s in fresh.state.values() for v in s.values() if isinstance(v, np.ndarray))


def test_state_dict_is_a_deep_copy_and_positions_follow_groups():
    params, opt = run(ALL["Adam"], steps=5, groups=True)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert set(saved["state"]) == {0, 1, 2}                     # parameter 3 never had a gradient
    before = copy.deepcopy(saved)
    opt.zero_grad()
    set_grads(params, 5)
    opt.step()
    for position in saved["state"]:
        assert np.array_equal(saved["state"][position]["exp_avg"], before["state"][position]["exp_avg"])
    saved["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.01


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd.pop("state"), "param_groups"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "2 parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "parameter group 0"),
    (lambda sd: sd["param_groups"][0].pop("amsgrad"), "another kind of optimizer"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "-1.0"),
    (lambda sd: sd["state"][0].pop("exp_avg_sq"), "exp_avg_sq"),
    (lambda sd: sd["state"][0].__setitem__("exp_avg", np.zeros(5)), "(5,)"),
    (lambda sd: sd["state"].__setitem__(9, sd["state"][0]), "9"),
])
def test_a_mismatched_state_dict_is_refused_and_nothing_changes(mutate, message):
    _, opt = run(ALL["Adam"], steps=4)
    good = opt.state_dict()
    bad = opt.state_dict()
    mutate(bad)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == good["param_groups"]
    for position, p_state in good["state"].items():
        for key, value in p_state.items():
            assert np.array_equal(after["state"][position][key], value)


def test_extra_group_keys_written_by_a_scheduler_are_carried_over():
    _, opt = run(ALL["Adam"], steps=3)
    opt.param_groups[0]["initial_lr"] = 0.5  # what an lr scheduler records
    fresh = Adam(make_params())
    fresh.load_state_dict(opt.state_dict())
    assert fresh.param_groups[0]["initial_lr"] == 0.5 and fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_a_state_dict_from_another_optimizer_is_refused():
    _, adam = run(ALL["Adam"], steps=3)
    with pytest.raises(ValueError, match="another kind of optimizer"):
        SGD(make_params(), lr=0.1, momentum=0.9).load_state_dict(adam.state_dict())


# --- groups, validation ----------------------------------------------------------------------

def test_params_are_materialised_once_and_groups_get_defaults():
    params = make_params()
    opt = SGD((p for p in params), lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["params"] == params
    opt = SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.5, "nesterov": True}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"] is True
    assert "SGD (" in repr(opt) and "Parameter Group 1" in repr(opt)


@pytest.mark.parametrize("build, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: SGD(Tensor(np.ones(2)), lr=0.1), TypeError, "single Tensor"),
    (lambda: SGD([np.ones(2)], lr=0.1), TypeError, "ndarray"),
    (lambda: SGD([Tensor(np.arange(3))], lr=0.1), TypeError, "int64"),
    (lambda: SGD({Tensor(np.ones(2))}, lr=0.1), TypeError, "set"),
    (lambda: SGD([{"params": [Tensor(np.ones(2))], "learning_rate": 0.1}]), ValueError, "learning_rate"),
])
def test_bad_parameter_lists_are_refused(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_duplicates_are_refused_within_and_across_groups():
    p, q = Tensor(np.ones(2)), Tensor(np.ones(3))
    with pytest.raises(ValueError, match="more than once"):
        Adam([p, q, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        Adam([{"params": [p]}, {"params": [q, p]}])
    opt = Adam([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("cls, kwargs, value", [
    (SGD, dict(lr=-0.1), "-0.1"), (SGD, dict(momentum=-0.9), "-0.9"), (SGD, dict(weight_decay=-1.0), "-1.0"),
    (SGD, dict(lr=0.1, nesterov=True), "momentum=0"),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (Adam, dict(lr=-1e-3), "-0.001"), (Adam, dict(eps=-1.0), "-1.0"), (Adam, dict(betas=(1.0, 0.999)), "1.0"),
    (Adam, dict(betas=(0.9, 1.5)), "1.5"), (Adam, dict(betas=(-0.1, 0.9)), "-0.1"),
    (Adam, dict(weight_decay=-0.01), "-0.01"),
    (Adam, dict(lr=float("nan")), "nan"), (Adam, dict(lr="0.1"), "'0.1'"), (Adam, dict(betas=(0.9,)), "(0.9,)"),
    (AdamW, dict(weight_decay=-0.5), "-0.5"), (AdamW, dict(betas=(0.9, 1.0)), "1.0"),
    (RMSprop, dict(alpha=-0.5), "-0.5"), (RMSprop, dict(eps=-1e-8), "-1e-08"), (RMSprop, dict(momentum=-1.0), "-1.0"),
    (Adagrad, dict(lr_decay=-0.1), "-0.1"), (Adagrad, dict(initial_accumulator_value=-1.0), "-1.0"),
    (Adagrad, dict(eps=-2.0), "-2.0"),
    (Lion, dict(lr=-1e-4), "-0.0001"), (Lion, dict(betas=(0.9, 1.0)), "1.0"), (Lion, dict(weight_decay=-0.1), "-0.1"),
])
def test_bad_hyperparameters_name_the_value(cls, kwargs, value):
    with pytest.raises(ValueError, match=value.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        cls([Tensor(np.ones(2))], **kwargs)


def test_bad_hyperparameters_in_a_later_group_are_refused_too():
    opt = Adam([Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="-3"):
        opt.add_param_group({"params": [Tensor(np.ones(2))], "lr": -3})
    assert len(opt.param_groups) == 1


def test_defaults_match_torch():
    p = [Tensor(np.ones(2))]
    assert SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)
    assert Adam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                                    maximize=False)
    assert AdamW(p).defaults["weight_decay"] == 1e-2 and AdamW(p).defaults["lr"] == 1e-3
    assert RMSprop(p).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                                       maximize=False)
    assert Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                                       maximize=False)
    assert Lion(p).defaults == dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0, maximize=False)


# --- stepping ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
def test_parameters_without_gradient_are_skipped_and_keep_identity(name):
    params = make_params()
    arrays = [p.data for p in params]
    opt = ALL[name](params)
    for t in range(5):
        opt.zero_grad()
        set_grads(params, t)
        opt.step()
    assert all(p.data is a for p, a in zip(params, arrays)), "updates happen in place"
    assert np.all(params[3].data == 7.0)
    assert opt.state.get(params[3], {}).get("step", 0) == 0
    assert not any(isinstance(v, np.ndarray) and np.any(v != (0.1 if name == "Adagrad" else 0))
                   for v in opt.state.get(params[3], {}).values())


def test_zero_grad_both_modes_and_gradients_never_modified():
    params = make_params()
    opt = SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1, momentum=0.9)
    set_grads(params, 0)
    grads = [None if p.grad is None else p.grad.data.copy() for p in params]
    opt.step()
    opt.step()
    for p, g in zip(params, grads):
        assert (p.grad is None) if g is None else np.array_equal(p.grad.data, g)
    objects = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is o for p, o in zip(params, objects))
    assert all(p.grad is None or not p.grad.data.any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_a_gradient_of_the_wrong_shape_is_refused_before_anything_moves():
    params = make_params()
    opt = Adam(params)
    params[0].grad = Tensor(np.ones((2, 3)))
    params[1].grad = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\) but its gradient has shape \(3,\)"):
        opt.step()
    assert np.all(params[0].data == 1.0) and not opt.state


def test_closure_is_called_and_its_loss_returned():
    p = Tensor(np.array([3.0]))
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        p.grad = Tensor(2 * p.data)
        return float(p.data[0] ** 2)

    assert opt.step(closure) == 9.0
    assert p.data[0] == 1.5


def test_float32_parameters_stay_float32():
    p = Tensor(np.ones(3, dtype=np.float32))
    for make in ALL.values():
        q = Tensor(p.data)
        opt = make([q])
        q.grad = Tensor(np.full(3, 0.5, dtype=np.float32))
        opt.step()
        assert q.data.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[q].values() if isinstance(v, np.ndarray))


def test_functional_cores_update_in_place_like_the_classes():
    "The functional cores are the public extension point (a fast path will plug in there)."
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    grads = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    buffers = [None, None]
    tt.sgd(params, grads, buffers, lr=0.1, momentum=0.9, dampening=0, nesterov=True, weight_decay=0.0, maximize=False)
    assert all(np.array_equal(b, g) for b, g in zip(buffers, grads)) and buffers[0] is not grads[0]
    m, v = [np.zeros(3), np.zeros((2, 2))], [np.zeros(3), np.zeros((2, 2))]
    before = [a.copy() for a in params]
    tt.adamw(params, grads, m, v, [], [1, 1], amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.5, eps=1e-8,
             maximize=False)
    for a, b, g in zip(params, before, grads):
        np.testing.assert_allclose(a, b * 0.95 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


# --- memory --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, buffers", [("SGD", 1), ("SGD plain", 0), ("Adam", 3), ("AdamW", 2), ("RMSprop", 3),
                                           ("Adagrad", 1), ("Lion", 1)])
def test_state_memory_is_measured_and_equals_the_formula(name, buffers):
    params = [Tensor(np.ones((50, 20), dtype=np.float32)), Tensor(np.ones(20, dtype=np.float32))]
    opt = ALL[name](params)
    for p in params:
        p.grad = Tensor(np.ones(p.shape, dtype=np.float32))
    opt.step()
    assert state_memory_bytes(opt) == expected_state_memory_bytes(opt) == buffers * 1020 * 4


def test_state_memory_counts_only_what_exists():
    params = [Tensor(np.ones(100)), Tensor(np.ones(10))]
    opt = Adam(params)
    assert state_memory_bytes(opt) == 0 and expected_state_memory_bytes(opt) == 2 * 110 * 8
    params[1].grad = Tensor(np.ones(10))
    opt.step()
    assert state_memory_bytes(opt) == 2 * 10 * 8


def test_optimizer_base_is_abstract():
    class Nothing(Optimizer):
        pass
    opt = Nothing([Tensor(np.ones(1))], {"lr": 0.1})
    with pytest.raises(NotImplementedError, match="Nothing"):
        opt.step()
