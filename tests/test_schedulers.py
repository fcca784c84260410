"""Learning-rate schedulers of tinytorch.core.training against torch.optim.lr_scheduler (torch 2.13).

Schedules are compared over long runs (thousands of steps) for several parameter groups, with
PyTorch's chainable (recursive) semantics: construction sets the rate of step 0, a rate changed
by hand is respected, SequentialLR restarts a scheduler at its milestone with the closed form.
"""
import json
import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests
from torch.optim import lr_scheduler as torch_sched

from tinytorch.core import training as tt

pytestmark = pytest.mark.torch
TOL = 1e-12


class Groups:
    "The smallest thing a scheduler can drive: an object with param_groups."
    def __init__(self, *lrs):
        self.param_groups = [{"lr": lr} for lr in lrs]


def torch_optimizer(*lrs):
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])


# Each schedule is built by a function of (module, optimizer), so that the same code builds the
# torch and the tinytorch version.
SCHEDULES = {
    "step": lambda m, o: m.StepLR(o, step_size=7, gamma=0.63),
    "step_default_gamma": lambda m, o: m.StepLR(o, step_size=250),
    "linear_warmup": lambda m, o: m.LinearLR(o, start_factor=0.013, end_factor=1.0, total_iters=997),
    "linear_decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=3000),
    "linear_defaults": lambda m, o: m.LinearLR(o),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=4000, eta_min=1e-5),
    "cosine_past_tmax": lambda m, o: m.CosineAnnealingLR(o, T_max=37, eta_min=0.002),  # 135 periods
    "cosine_tmax_1": lambda m, o: m.CosineAnnealingLR(o, T_max=1),
    "warmup_cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=500), m.CosineAnnealingLR(o, T_max=9500, eta_min=1e-6)],
        milestones=[500]),
    "three_stages": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=50), m.StepLR(o, step_size=30, gamma=0.5),
            m.CosineAnnealingLR(o, T_max=300)], milestones=[50, 400]),
    "milestone_1": lambda m, o: m.SequentialLR(
        o, [m.StepLR(o, step_size=2), m.CosineAnnealingLR(o, T_max=20)], milestones=[1]),
}
LRS = (0.1, 3e-4, 1.7)


def rates(module, build, steps, lrs=LRS, change_at=None):
    "The rates of every group after construction and after each of `steps` steps (a list of lists)."
    optimizer = torch_optimizer(*lrs) if module is torch_sched else Groups(*lrs)
    scheduler = build(module, optimizer)
    out = [scheduler.get_last_lr()]
    for t in range(1, steps + 1):
        if module is torch_sched:
            optimizer.step()
        if t == change_at:  # someone changes the rate by hand: the chainable form must keep it
            for group in optimizer.param_groups:
                group["lr"] *= 0.5
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return np.array(out, dtype=float)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_equals_torch_over_a_long_run(name):
    ours, theirs = rates(tt, SCHEDULES[name], 10_000), rates(torch_sched, SCHEDULES[name], 10_000)
    assert ours.shape == theirs.shape == (10_001, len(LRS))
    assert np.max(np.abs(ours - theirs)) <= TOL, name
    assert len(np.unique(theirs[:, 0])) > 1 or name == "linear_defaults"  # the schedule moves


@pytest.mark.parametrize("name", ["step", "linear_warmup", "cosine", "warmup_cosine", "three_stages"])
def test_a_rate_changed_by_hand_is_respected_as_in_torch(name):
    ours = rates(tt, SCHEDULES[name], 2_000, change_at=123)
    theirs = rates(torch_sched, SCHEDULES[name], 2_000, change_at=123)
    assert np.max(np.abs(ours - theirs)) <= TOL
    assert not np.allclose(ours, rates(tt, SCHEDULES[name], 2_000))  # the change did matter


def test_construction_sets_the_rate_of_step_0_and_records_initial_lr():
    opt = Groups(1e-3, 0.5)
    warmup = tt.LinearLR(opt, start_factor=0.1, total_iters=5)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-4, 0.05], abs=1e-18)
    assert [g["initial_lr"] for g in opt.param_groups] == [1e-3, 0.5]
    assert warmup.base_lrs == [1e-3, 0.5] and warmup.last_epoch == 0
    assert warmup.get_last_lr() == [g["lr"] for g in opt.param_groups]
    # a second scheduler keeps the recorded initial_lr (setdefault), as torch does
    cosine = tt.CosineAnnealingLR(opt, T_max=10)
    assert cosine.base_lrs == [1e-3, 0.5]
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-4, 0.05], abs=1e-18)


def test_two_schedulers_on_one_optimizer_compose_as_in_torch():
    def both(m, o):
        first = m.StepLR(o, step_size=3, gamma=0.5)
        second = m.LinearLR(o, start_factor=0.2, total_iters=10)
        class Both:  # step both, report the last
            def get_last_lr(self): return second.get_last_lr()
            def step(self):
                first.step()
                second.step()
        return Both()
    ours, theirs = rates(tt, both, 50), rates(torch_sched, both, 50)
    assert np.max(np.abs(ours - theirs)) <= TOL


def test_sequential_construction_resets_and_rewinds_as_torch():
    for module in (tt, torch_sched):
        opt = torch_optimizer(1.0) if module is torch_sched else Groups(1.0)
        a = module.LinearLR(opt, start_factor=0.1, total_iters=5)
        b = module.CosineAnnealingLR(opt, T_max=10)
        s = module.SequentialLR(opt, [a, b], milestones=[5])
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
        assert (a.last_epoch, b.last_epoch, s.last_epoch) == (0, -1, 0)


def state_equal(ours, theirs):
    "Our state dict holds the same entries as torch's (torch has one more internal flag)."
    theirs = {k: v for k, v in theirs.items() if k != "_get_lr_called_within_step"}
    if "_schedulers" in theirs:
        return (set(ours) == set(theirs) and len(ours["_schedulers"]) == len(theirs["_schedulers"])
                and all(state_equal(a, b) for a, b in zip(ours["_schedulers"], theirs["_schedulers"]))
                and all(ours[k] == theirs[k] for k in theirs if k != "_schedulers"))
    return set(ours) == set(theirs) and all(ours[k] == theirs[k] for k in theirs)


@pytest.mark.parametrize("name", ["step", "linear_warmup", "cosine", "warmup_cosine", "three_stages"])
def test_state_dict_matches_torch_and_resumes_identically(name):
    build = SCHEDULES[name]
    t_opt, opt = torch_optimizer(*LRS), Groups(*LRS)
    t_s, s = build(torch_sched, t_opt), build(tt, opt)
    for _ in range(777):
        t_opt.step()
        t_s.step()
        s.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert state_equal(s.state_dict(), t_s.state_dict())
    saved_state = json.loads(json.dumps(s.state_dict()))        # a checkpoint stores it as JSON
    saved_groups = json.loads(json.dumps(opt.param_groups))      # and the optimizer's groups
    uninterrupted = [s.step() or s.get_last_lr() for _ in range(600)]
    fresh_opt = Groups(*[g * 7 for g in LRS])                    # other rates, overwritten by the restore
    fresh = build(tt, fresh_opt)
    fresh_opt.param_groups = saved_groups
    fresh.optimizer = fresh_opt
    if hasattr(fresh, "_schedulers"):
        for inner in fresh._schedulers:
            inner.optimizer = fresh_opt
    fresh.load_state_dict(saved_state)
    resumed = [fresh.step() or fresh.get_last_lr() for _ in range(600)]
    assert resumed == uninterrupted


def test_state_dict_is_a_copy():
    opt = Groups(0.1)
    s = tt.StepLR(opt, step_size=2)
    state = s.state_dict()
    s.step()
    s.step()
    assert state["last_epoch"] == 0 and state["_last_lr"] == [0.1]


def test_load_state_dict_refuses_the_state_of_another_scheduler():
    opt = Groups(0.1)
    step, cosine = tt.StepLR(opt, step_size=2), tt.CosineAnnealingLR(Groups(0.1), T_max=5)
    before = step.state_dict()
    with pytest.raises(ValueError, match="StepLR"):
        step.load_state_dict(cosine.state_dict())
    assert step.state_dict() == before
    seq = tt.SequentialLR(opt, [tt.LinearLR(opt), tt.StepLR(opt, step_size=3)], milestones=[4])
    other = tt.SequentialLR(opt, [tt.LinearLR(opt), tt.CosineAnnealingLR(opt, T_max=3)], milestones=[4])
    before = seq.state_dict()
    with pytest.raises(ValueError, match="StepLR"):
        seq.load_state_dict(other.state_dict())
    assert seq.state_dict() == before


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        tt.StepLR(Groups(0.1), step_size=3, last_epoch=4)
    for module in (tt, torch_sched):
        opt = torch_optimizer(0.1) if module is torch_sched else Groups(0.1)
        opt.param_groups[0]["initial_lr"] = 0.2
        s = module.LinearLR(opt, start_factor=0.5, total_iters=10, last_epoch=3)
        assert s.last_epoch == 4 and s.base_lrs == [0.2]
        assert opt.param_groups[0]["lr"] == 0.1   # the initial step of a resumed LinearLR keeps the rate


@pytest.mark.parametrize("make, bad", [
    (lambda: tt.StepLR(Groups(0.1), step_size=0), "0"),
    (lambda: tt.StepLR(Groups(0.1), step_size=2.5), "2.5"),
    (lambda: tt.CosineAnnealingLR(Groups(0.1), T_max=0), "0"),
    (lambda: tt.LinearLR(Groups(0.1), start_factor=0), "start_factor"),
    (lambda: tt.LinearLR(Groups(0.1), start_factor=1.5), "1.5"),
    (lambda: tt.LinearLR(Groups(0.1), end_factor=-0.1), "-0.1"),
    (lambda: tt.LinearLR(Groups(0.1), total_iters=0), "total_iters"),
])
def test_bad_arguments_raise_clear_errors(make, bad):
    with pytest.raises(ValueError, match=bad.replace(".", r"\.")):
        make()


def test_bad_sequential_and_bad_optimizer():
    opt, other = Groups(0.1), Groups(0.1)
    with pytest.raises(ValueError, match="at least one"):
        tt.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="milestone"):
        tt.SequentialLR(opt, [tt.LinearLR(opt), tt.StepLR(opt, 2)], milestones=[3, 6])
    with pytest.raises(ValueError, match=r"\[5, 3\]"):
        tt.SequentialLR(opt, [tt.LinearLR(opt), tt.StepLR(opt, 2), tt.StepLR(opt, 2)], milestones=[5, 3])
    with pytest.raises(ValueError, match="another optimizer"):
        tt.SequentialLR(opt, [tt.LinearLR(opt), tt.StepLR(other, 2)], milestones=[3])
    with pytest.raises(TypeError, match="dict"):
        tt.StepLR(object(), step_size=2)
    with pytest.raises(TypeError, match="list"):
        tt.StepLR(type("O", (), {"param_groups": [{"momentum": 0.9}]})(), step_size=2)


# --- LambdaLR and the warmup-stable-decay schedule built on it ---------------------------------
WSD = dict(warmup_steps=500, stable_steps=7000, decay_steps=2500)


def wsd_function(step):
    "The learner-facing WSD factor (tinytorch.core.training.wsd_factor), given to both LambdaLRs."
    return tt.wsd_factor(step, **WSD)


def test_wsd_through_lambda_lr_equals_torch_exactly_over_10000_steps():
    ours = rates(tt, lambda m, o: m.LambdaLR(o, wsd_function), 10_000)
    theirs = rates(torch_sched, lambda m, o: m.LambdaLR(o, wsd_function), 10_000)
    assert ours.shape == theirs.shape == (10_001, len(LRS))
    assert np.max(np.abs(ours - theirs)) == 0.0
    # and tinytorch's own builder gives the very same rates
    built = rates(tt, lambda m, o: tt.wsd_schedule(o, **WSD), 10_000)
    assert np.max(np.abs(built - theirs)) == 0.0
    # the shape is the one taught: warm-up from 1/W, the peak, a decay to 0 ending at step W + S + D
    factors = theirs[:, 0] / LRS[0]
    assert factors[0] == pytest.approx(1 / 500) and factors[499] == pytest.approx(1.0)
    assert np.all(factors[500:7501] == 1.0) and factors[7501] < 1.0
    assert factors[9999] == pytest.approx(1 / 2500) and factors[10_000] == 0.0
    assert np.all(np.diff(factors[:500]) > 0) and np.all(np.diff(factors[7500:]) < 0)


def test_lambda_lr_one_function_per_group_and_hand_changes_overwritten_as_torch():
    lambdas = [lambda t: 0.99 ** t, lambda t: 1 / (1 + t), lambda t: tt.wsd_factor(t, 3, 4, 5, end_factor=0.1)]
    build = lambda m, o: m.LambdaLR(o, lambdas)
    ours, theirs = rates(tt, build, 3_000, change_at=17), rates(torch_sched, build, 3_000, change_at=17)
    assert np.max(np.abs(ours - theirs)) == 0.0


def test_lambda_lr_in_sequential_lr_and_resumed_from_state_equals_torch():
    build = lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=100),
                                            m.LambdaLR(o, lambda t: tt.wsd_factor(t, 0, 2000, 900))], milestones=[100])
    assert np.max(np.abs(rates(tt, build, 5_000) - rates(torch_sched, build, 5_000))) == 0.0
    opt = Groups(*LRS)
    s = tt.wsd_schedule(opt, **WSD)
    for _ in range(4321):
        s.step()
    state = json.loads(json.dumps(s.state_dict()))   # a checkpoint stores it as JSON: no functions in it
    assert "lr_lambdas" not in state
    uninterrupted = [s.step() or s.get_last_lr() for _ in range(4000)]
    fresh = tt.wsd_schedule(Groups(*LRS), **WSD)
    fresh.load_state_dict(state)
    assert [fresh.step() or fresh.get_last_lr() for _ in range(4000)] == uninterrupted


@pytest.mark.parametrize("make, error, bad", [
    (lambda: tt.LambdaLR(Groups(0.1, 0.2), [lambda t: 1.0]), ValueError, "2 groups"),
    (lambda: tt.LambdaLR(Groups(0.1), 0.5), TypeError, "0.5"),
    (lambda: tt.wsd_schedule(Groups(0.1), -1, 5, 5), ValueError, "-1"),
    (lambda: tt.wsd_schedule(Groups(0.1), 5, 2.5, 5), ValueError, "2.5"),
    (lambda: tt.wsd_schedule(Groups(0.1), 5, 5, 0), ValueError, "decay_steps"),
    (lambda: tt.wsd_schedule(Groups(0.1), 5, 5, 5, end_factor=1.5), ValueError, "1.5"),
])
def test_lambda_lr_and_wsd_bad_arguments(make, error, bad):
    with pytest.raises(error, match=re.escape(bad)):
        make()


def test_weight_decay_groups_leave_biases_undecayed():
    from tinytorch.core.optimizers import AdamW
    model = tt.make_mlp((5, 4, 3), seed=0, dtype="float64")
    groups = tt.weight_decay_groups(model, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert [tuple(p.shape) for p in groups[0]["params"]] == [(4, 5), (3, 4)]
    assert [tuple(p.shape) for p in groups[1]["params"]] == [(4,), (3,)]
    # with zero gradients, AdamW moves only the decayed parameters
    optimizer = AdamW(groups, lr=0.1)
    before = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = tt.Tensor(np.zeros(p.shape))
    optimizer.step()
    moved = [not np.array_equal(b, p.data) for b, p in zip(before, model.parameters())]
    assert moved == [p.ndim >= 2 for p in model.parameters()]
