"""tinytorch.core.modern (Muon, Adafactor) against torch.optim.Muon and torch.optim.Adafactor (2.13, CPU, float64).

Whole trajectories of 1000 steps for every option torch offers, on a noisy least-squares
problem: each parameter's gradient is a fixed linear function of the parameter plus a fresh
draw of noise each step (a stochastic gradient). The noise matters for Muon: its step has
the same size whatever the gradient, so on an exact gradient it ends up bouncing around the
minimum, where the direction of a tiny gradient is decided by rounding and two correct
implementations part ways after a few hundred steps. With noise the update direction is
well defined at every step and the trajectories agree to ~1e-13.

torch.optim.Muon runs its Newton–Schulz iteration in bfloat16; tinytorch computes it in the
parameter's dtype. The float64 trajectories are compared with torch's own Newton–Schulz code
whose bfloat16 cast is made a float64 copy (`exact_newton_schulz`); one test compares one step
with torch's real bfloat16 path, to bfloat16's precision.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tinytorch.core import modern as tt  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402

STEPS = 1000
TOLERANCE = 1e-10


@pytest.fixture
def exact_newton_schulz(monkeypatch):
    "torch.optim.Muon's Newton–Schulz code, run in the input's dtype instead of bfloat16."
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())


class NoisyLeastSquares:
    """Gradients g_i = M_i (θ_i − T_i) + noise for parameters of the given shapes (M_i scales each
    row differently, so rows and columns of g² differ); parameter `skip` has no gradient every
    fourth step and a last parameter, 'frozen', never has one. With `sign=-1` the gradients are those
    of the negated loss, so that an optimizer with maximize=True climbs it towards the same point."""

    def __init__(self, shapes, skip=None, seed=0, noise=1.0, sign=1.0):
        rng = np.random.default_rng(seed)
        self.shapes, self.skip, self.sign = list(shapes), skip, sign
        self.start = [rng.normal(size=s) for s in self.shapes]
        self.target = [rng.normal(size=s) for s in self.shapes]
        self.scale = [np.linspace(0.5, 3.0, int(np.prod(s))).reshape(s) for s in self.shapes]
        self.noise = [noise * rng.normal(size=(STEPS,) + tuple(s)) for s in self.shapes]

    def grad(self, i, value, t):
        if self.skip == i and t % 4 == 3:
            return None
        # np.asarray: a 0-d result stays an array
        return np.asarray(self.sign * (self.scale[i] * (value - self.target[i]) + self.noise[i][t]))


def run_both(make_tt, make_torch, problem, steps=STEPS, groups=None):
    """Step tinytorch and torch side by side; the largest difference of the parameters over all
    steps, and both optimizers. `groups` splits the parameters into groups: [(indices, options)]."""
    ours = [Tensor(s.copy()) for s in problem.start] + [Tensor(np.ones((2, 2)))]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in problem.start] + \
        [torch.ones((2, 2), dtype=torch.float64, requires_grad=True)]
    if groups is None:
        opt, topt = make_tt(ours), make_torch(theirs)
    else:
        opt = make_tt([{"params": [ours[i] for i in idx], **o} for idx, o in groups] + [{"params": [ours[-1]]}])
        topt = make_torch([{"params": [theirs[i] for i in idx], **o} for idx, o in groups] + [{"params": [theirs[-1]]}])
    worst = 0.0
    for t in range(steps):
        for i, (p, q) in enumerate(zip(ours[:-1], theirs[:-1])):
            g = problem.grad(i, p.data, t)
            p.grad = None if g is None else Tensor(g)
            q.grad = None if g is None else torch.from_numpy(problem.grad(i, q.detach().numpy(), t))
        opt.step()
        topt.step()
        worst = max(worst, max(float(np.abs(p.data - q.detach().numpy()).max()) for p, q in zip(ours, theirs)))
    return worst, opt, topt


def assert_states_match(opt, topt):
    "Every state entry of the tinytorch optimizer equals torch's (the same names, shapes and values)."
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    assert sorted(ours) == sorted(theirs)
    for position in ours:
        assert sorted(ours[position]) == sorted(theirs[position]), position
        for name, value in ours[position].items():
            expected = theirs[position][name]
            expected = expected.numpy() if isinstance(expected, torch.Tensor) else expected
            np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"state {name} of parameter {position}")


# --- Muon --------------------------------------------------------------------------------------------
MUON_SHAPES = [(6, 4), (3, 7), (5, 5)]   # tall (worked on transposed), wide, square
MUON_CASES = {
    "defaults": {},
    "lr=0.02": {"lr": 0.02},
    "nesterov=False": {"nesterov": False},
    "momentum=0": {"momentum": 0.0},
    "momentum=0.5, nesterov=False": {"momentum": 0.5, "nesterov": False},
    "weight_decay=0": {"weight_decay": 0.0},
    "weight_decay=0.3, lr=0.01": {"weight_decay": 0.3, "lr": 0.01},
    "ns_steps=1": {"ns_steps": 1},
    "ns_steps=10": {"ns_steps": 10},
    "ns_steps=0": {"ns_steps": 0},
    "ns_coefficients=(1.5, -0.5, 0)": {"ns_coefficients": (1.5, -0.5, 0.0)},
    "ns_coefficients=(2, -1.5, 0.5), ns_steps=8": {"ns_coefficients": (2.0, -1.5, 0.5), "ns_steps": 8},
    "eps=0.5": {"eps": 0.5},
    "adjust_lr_fn='original'": {"adjust_lr_fn": "original"},
    "adjust_lr_fn='match_rms_adamw'": {"adjust_lr_fn": "match_rms_adamw"},
    "match_rms_adamw, lr=3e-3, weight_decay=0.01, momentum=0.9": {"adjust_lr_fn": "match_rms_adamw", "lr": 3e-3,
                                                                 "weight_decay": 0.01, "momentum": 0.9},
}


@pytest.mark.parametrize("case", MUON_CASES)
@pytest.mark.torch
def test_muon_matches_torch_over_1000_steps(case, exact_newton_schulz):
    options = MUON_CASES[case]
    problem = NoisyLeastSquares(MUON_SHAPES, skip=1, seed=1)
    worst, opt, topt = run_both(lambda ps: tt.Muon(ps, **options), lambda ps: torch.optim.Muon(ps, **options), problem)
    print(f"Muon {case}: largest difference {worst:.2e}")
    assert worst < TOLERANCE
    assert_states_match(opt, topt)


@pytest.mark.torch
def test_muon_groups_with_their_own_options_match_torch(exact_newton_schulz):
    problem = NoisyLeastSquares(MUON_SHAPES, skip=0, seed=2)
    groups = [([0], {"lr": 0.01, "nesterov": False}), ([1, 2], {"adjust_lr_fn": "match_rms_adamw", "momentum": 0.8})]
    worst, opt, topt = run_both(lambda gs: tt.Muon(gs, lr=0.003), lambda gs: torch.optim.Muon(gs, lr=0.003), problem,
                                groups=groups)
    print(f"Muon two groups: largest difference {worst:.2e}")
    assert worst < TOLERANCE
    assert_states_match(opt, topt)


@pytest.mark.torch
def test_muon_one_step_agrees_with_torchs_bfloat16_iteration_to_bfloat16_precision():
    "Unpatched torch: the Newton–Schulz output is rounded to bfloat16 (8 significant bits)."
    problem = NoisyLeastSquares([(32, 16)], seed=3)
    W, Wt = Tensor(problem.start[0].copy()), torch.tensor(problem.start[0].copy(), requires_grad=True)
    g = problem.grad(0, problem.start[0], 0)
    W.grad, Wt.grad = Tensor(g), torch.from_numpy(g.copy())
    tt.Muon([W], lr=1.0, weight_decay=0.0).step()
    torch.optim.Muon([Wt], lr=1.0, weight_decay=0.0).step()
    ours, theirs = problem.start[0] - W.data, problem.start[0] - Wt.detach().numpy()   # the two updates
    relative = np.abs(ours - theirs).max() / np.abs(ours).max()
    print(f"Muon, one step, float64 vs torch's bfloat16 Newton–Schulz: largest difference {relative:.2e} of the update")
    assert 1e-4 < relative < 0.05     # bfloat16 shows (it is not float64), and only at its precision


def test_muon_keeps_one_buffer_the_size_of_each_matrix():
    params = [Tensor(np.ones(s)) for s in MUON_SHAPES]
    for p in params:
        p.grad = Tensor(np.arange(p.data.size, dtype=float).reshape(p.shape))
    opt = tt.Muon(params)
    opt.step()
    for p in params:
        assert list(opt.state[p]) == ["momentum_buffer"]
        assert opt.state[p]["momentum_buffer"].shape == p.shape
    assert sum(v.nbytes for s in opt.state.values() for v in s.values()) == sum(p.data.nbytes for p in params)


# --- Adafactor ---------------------------------------------------------------------------------------
# a matrix, a batch of matrices (factored on the last two dimensions), a vector, a scalar
ADAFACTOR_SHAPES = [(6, 4), (3, 5, 2), (7,), ()]
ADAFACTOR_CASES = {
    "defaults": {},
    "lr=0.05": {"lr": 0.05},
    "lr=1e-3": {"lr": 1e-3},
    "beta2_decay=-0.5": {"beta2_decay": -0.5},
    "beta2_decay=0": {"beta2_decay": 0.0},
    "eps=(1e-3, 1e-3)": {"eps": (1e-3, 1e-3)},
    "eps=(None, 0.1)": {"eps": (None, 0.1)},
    "eps=(None, 0)": {"eps": (None, 0.0)},
    "d=1.5": {"d": 1.5},
    "d=100": {"d": 100.0},
    "weight_decay=0.1": {"weight_decay": 0.1},
    "weight_decay=0.5, lr=0.02": {"weight_decay": 0.5, "lr": 0.02},
    "maximize=True": {"maximize": True},
    "foreach=False": {"foreach": False},
    "maximize, weight_decay=0.05, eps=(1e-4, 1e-2), d=2": {"maximize": True, "weight_decay": 0.05,
                                                            "eps": (1e-4, 1e-2), "d": 2.0},
}


@pytest.mark.parametrize("case", ADAFACTOR_CASES)
@pytest.mark.torch
def test_adafactor_matches_torch_over_1000_steps(case):
    options = ADAFACTOR_CASES[case]
    problem = NoisyLeastSquares(ADAFACTOR_SHAPES, skip=2, seed=4, sign=-1.0 if options.get("maximize") else 1.0)
    worst, opt, topt = run_both(lambda ps: tt.Adafactor(ps, **options), lambda ps: torch.optim.Adafactor(ps, **options),
                                problem)
    print(f"Adafactor {case}: largest difference {worst:.2e}")
    assert worst < TOLERANCE
    assert_states_match(opt, topt)


@pytest.mark.torch
def test_adafactor_groups_with_their_own_options_match_torch():
    problem = NoisyLeastSquares(ADAFACTOR_SHAPES, skip=0, seed=5)
    groups = [([0, 2], {"lr": 0.03, "weight_decay": 0.1}), ([1, 3], {"d": 1.2, "maximize": False, "beta2_decay": -0.6})]
    worst, opt, topt = run_both(lambda gs: tt.Adafactor(gs), lambda gs: torch.optim.Adafactor(gs), problem,
                                groups=groups)
    print(f"Adafactor two groups: largest difference {worst:.2e}")
    assert worst < TOLERANCE
    assert_states_match(opt, topt)


def test_adafactor_state_is_rows_plus_columns_and_much_smaller_than_adams():
    from tinytorch.core.optimizers import Adam
    shapes = [(256, 128), (128,)]
    def state_bytes(make):
        params = [Tensor(np.ones(s, dtype=np.float32)) for s in shapes]
        for p in params:
            p.grad = Tensor(np.ones(p.shape, dtype=np.float32))
        opt = make(params)
        opt.step()
        return sum(v.nbytes for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))
    assert state_bytes(tt.Adafactor) == (256 + 128 + 128) * 4      # row_var, col_var, the vector's variance
    assert state_bytes(Adam) == 2 * (256 * 128 + 128) * 4
    assert state_bytes(Adam) / state_bytes(tt.Adafactor) > 100


# --- checkpoints ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shapes", [(lambda ps: tt.Muon(ps, lr=0.01, momentum=0.9), MUON_SHAPES),
                                          (lambda ps: tt.Adafactor(ps, lr=0.03, weight_decay=0.1), ADAFACTOR_SHAPES)],
                         ids=["Muon", "Adafactor"])
def test_state_dict_round_trip_continues_the_same_trajectory(make, shapes):
    problem = NoisyLeastSquares(shapes, skip=0, seed=6)

    def run(steps, params, opt, start=0):
        for t in range(start, start + steps):
            for i, p in enumerate(params):
                g = problem.grad(i, p.data, t)
                p.grad = None if g is None else Tensor(g)
            opt.step()

    straight = [Tensor(s.copy()) for s in problem.start]
    opt = make(straight)
    run(400, straight, opt)
    saved = opt.state_dict()
    run(300, straight, opt, start=400)
    assert saved["state"][0]
    assert all(isinstance(v, (np.ndarray, int)) for s in saved["state"].values() for v in s.values())

    resumed = [Tensor(s.copy()) for s in problem.start]
    first = make(resumed)
    run(400, resumed, first)
    copy_of_params = [p.data.copy() for p in resumed]
    second = make(resumed)
    second.load_state_dict(saved)
    for p, q in zip(resumed, copy_of_params):
        np.testing.assert_array_equal(p.data, q)
    run(300, resumed, second, start=400)
    for p, q in zip(straight, resumed):
        np.testing.assert_array_equal(p.data, q.data)   # bit for bit


# --- bad input -------------------------------------------------------------------------------------------
def matrix():
    return [Tensor(np.ones((3, 2)))]


@pytest.mark.parametrize("build, error, message", [
    (lambda: tt.Muon(matrix(), lr=-0.1), ValueError, "-0.1"),
    (lambda: tt.Muon(matrix(), lr="fast"), ValueError, "'fast'"),
    (lambda: tt.Muon(matrix(), momentum=1.0), ValueError, "1.0"),
    (lambda: tt.Muon(matrix(), momentum=-0.5), ValueError, "-0.5"),
    (lambda: tt.Muon(matrix(), weight_decay=-1e-3), ValueError, "-0.001"),
    (lambda: tt.Muon(matrix(), eps=-1.0), ValueError, "-1.0"),
    (lambda: tt.Muon(matrix(), nesterov="yes"), ValueError, "'yes'"),
    (lambda: tt.Muon(matrix(), ns_steps=100), ValueError, "100"),
    (lambda: tt.Muon(matrix(), ns_steps=2.5), ValueError, "2.5"),
    (lambda: tt.Muon(matrix(), ns_coefficients=(1.0, 2.0)), ValueError, "(1.0, 2.0)"),
    (lambda: tt.Muon(matrix(), adjust_lr_fn="adamw"), ValueError, "'adamw'"),
    (lambda: tt.Muon([Tensor(np.ones(4))]), ValueError, "(4,)"),
    (lambda: tt.Muon([Tensor(np.ones((2, 3, 4)))]), ValueError, "(2, 3, 4)"),
    (lambda: tt.Muon(matrix(), betas=(0.9, 0.95)), TypeError, "betas"),
    (lambda: tt.Muon([]), ValueError, "empty"),
    (lambda: tt.Adafactor(matrix(), lr=-1.0), ValueError, "-1.0"),
    (lambda: tt.Adafactor(matrix(), beta2_decay=0.5), ValueError, "0.5"),
    (lambda: tt.Adafactor(matrix(), eps=(-1e-3, 1e-3)), ValueError, "-0.001"),
    (lambda: tt.Adafactor(matrix(), eps=(None, -2.0)), ValueError, "-2.0"),
    (lambda: tt.Adafactor(matrix(), eps=1e-3), ValueError, "0.001"),
    (lambda: tt.Adafactor(matrix(), d=0.9), ValueError, "0.9"),
    (lambda: tt.Adafactor(matrix(), weight_decay=-0.1), ValueError, "-0.1"),
    (lambda: tt.Adafactor(matrix(), foreach=True), ValueError, "foreach"),
    (lambda: tt.Adafactor(matrix(), maximize="no"), ValueError, "'no'"),
    (lambda: tt.Adafactor(Tensor(np.ones(3))), TypeError, "single Tensor"),
])
def test_bad_input_is_refused_naming_the_value(build, error, message):
    with pytest.raises(error) as refused:
        build()
    assert message in str(refused.value)


@pytest.mark.torch
def test_torch_refuses_what_tinytorch_refuses_where_torch_checks():
    "The same inputs are refused by torch (this is what 'as torch' means for them)."
    for build in [lambda: torch.optim.Muon([torch.ones(4)]), lambda: torch.optim.Muon([torch.ones(3, 2)], lr=-0.1),
                  lambda: torch.optim.Adafactor([torch.ones(3, 2)], d=0.9),
                  lambda: torch.optim.Adafactor([torch.ones(3, 2)], beta2_decay=0.5)]:
        with pytest.raises(ValueError):
            build()


def test_a_refused_group_leaves_the_optimizer_as_it_was():
    opt = tt.Muon(matrix())
    for bad in [{"params": [Tensor(np.ones(5))]}, {"params": [Tensor(np.ones((2, 2)))], "ns_steps": -1}]:
        with pytest.raises(ValueError):
            opt.add_param_group(bad)
        assert len(opt.param_groups) == 1


def test_a_gradient_of_the_wrong_shape_is_refused_before_anything_moves():
    for make in (tt.Muon, tt.Adafactor):
        a, b = Tensor(np.ones((3, 2))), Tensor(np.ones((2, 2)))
        a.grad, b.grad = Tensor(np.ones((3, 2))), Tensor(np.ones((2, 3)))
        opt = make([a, b])
        with pytest.raises(ValueError, match=r"\(2, 2\).*\(2, 3\)"):
            opt.step()
        np.testing.assert_array_equal(a.data, np.ones((3, 2)))


@pytest.mark.parametrize("make, shapes", [(tt.Muon, [(3, 2)]), (tt.Adafactor, [(3, 2), (4,)])],
                         ids=["Muon", "Adafactor"])
def test_a_checkpoint_that_does_not_fit_is_refused_and_nothing_changes(make, shapes):
    def trained():
        params = [Tensor(np.ones(s)) for s in shapes]
        for p in params:
            p.grad = Tensor(np.full(p.shape, 0.5))
        opt = make(params, lr=0.01)
        opt.step()
        return opt
    good = trained().state_dict()
    name = next(k for k, v in good["state"][0].items() if isinstance(v, np.ndarray))
    wrong_shape = {"state": {**good["state"], 0: {**good["state"][0], name: np.ones((7, 7))}},
                   "param_groups": good["param_groups"]}
    missing = {"state": {0: {}}, "param_groups": good["param_groups"]}
    unknown_position = {"state": {**good["state"], 9: good["state"][0]}, "param_groups": good["param_groups"]}
    bad_hyper = {"state": good["state"], "param_groups": [{**good["param_groups"][0], "lr": -1.0}]}
    if "step" in good["state"][0]:
        bad_step = {"state": {**good["state"], 0: {**good["state"][0], "step": np.ones(3)}},
                    "param_groups": good["param_groups"]}
        cases = [(bad_step, "step")]
    else:
        cases = []
    for bad, words in cases + [(wrong_shape, "(7, 7)"), (missing, "expects"), (unknown_position, "9"),
                               (bad_hyper, "-1.0"), ({"state": {}, "param_groups": []}, "groups"), ([1, 2], "list")]:
        target = trained()
        before = target.state_dict()
        with pytest.raises(ValueError) as refused:
            target.load_state_dict(bad)
        assert words in str(refused.value)
        after = target.state_dict()
        assert after["param_groups"] == before["param_groups"]
        for position, state in before["state"].items():
            for key, value in state.items():
                np.testing.assert_array_equal(after["state"][position][key], value)

