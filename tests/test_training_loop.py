"""The data pipeline and the training loop of tinytorch.core.training (no torch needed)."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tinytorch.core import training as tt
from tinytorch.core.nn import CrossEntropyLoss
from tinytorch.core.optimizers import SGD, AdamW
from tinytorch.core.tensor import Tensor

# The matrices here are tiny: BLAS threads only add contention (with pytest -n 2 on 2 cores, badly so).
threadpool_limits(1)


# --- data -------------------------------------------------------------------------------------

def test_digits_split_is_disjoint_reproducible_and_normalised_on_train_only():
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    d = tt.load_digits_split(seed=0)
    assert d.sizes() == {"train": 1258, "val": 180, "test": 359}
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64 and d.X_train.shape[1] == 64
    raw = [np.round(part * d.std + d.mean).astype(int) for part in (d.X_train, d.X_val, d.X_test)]
    rows = {tuple(r) + (int(label),) for part, labels in zip(raw, (d.y_train, d.y_val, d.y_test))
            for r, label in zip(part, labels)}
    all_rows = {tuple(r) + (int(label),) for r, label in zip(X.astype(int), y)}
    assert rows == all_rows   # every image once, with its label (duplicates in digits collapse alike)
    train_rows = np.round(d.X_train * d.std + d.mean)
    np.testing.assert_allclose(d.mean, train_rows.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-5)
    spread = d.X_train.std(axis=0)
    assert np.all((np.abs(spread - 1) < 1e-4) | (spread == 0))
    assert abs(d.X_test.mean()) > 1e-3   # test statistics were not used
    again = tt.load_digits_split(seed=0)
    np.testing.assert_array_equal(again.X_val, d.X_val)
    other = tt.load_digits_split(seed=1, dtype="float64")
    assert other.X_train.dtype == np.float64 and not np.array_equal(other.y_test, d.y_test)


@pytest.mark.parametrize("kwargs, bad", [({"val_fraction": 0}, "val_fraction"), ({"test_fraction": 1.2}, "1.2"),
                                         ({"val_fraction": 0.5, "test_fraction": 0.5}, "0.5")])
def test_digits_split_bad_fractions(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        tt.load_digits_split(**kwargs)


def test_dataloader_batches_shuffles_reproducibly_and_drops_last():
    data = tt.ArrayDataset(np.arange(50.0).reshape(25, 2), np.arange(25))
    loader = tt.DataLoader(data, batch_size=4, shuffle=True, generator=3)
    epochs = [[y.data.copy() for _, y in loader] for _ in range(3)]
    assert len(loader) == 7 and [len(b) for b in epochs[0]] == [4] * 6 + [1]
    assert all(sorted(np.concatenate(e).tolist()) == list(range(25)) for e in epochs)
    assert not np.array_equal(np.concatenate(epochs[0]), np.concatenate(epochs[1]))   # a new order each epoch
    rng = np.random.default_rng(3)
    for epoch in epochs:   # the documented order: one permutation of the generator per epoch
        np.testing.assert_array_equal(np.concatenate(epoch), rng.permutation(25))
    x, y = next(iter(loader))
    assert isinstance(x, Tensor) and isinstance(y, Tensor) and np.array_equal(x.data[:, 0], 2 * y.data)
    dropped = tt.DataLoader(data, batch_size=4, drop_last=True)
    assert len(dropped) == 6 and [len(y) for _, y in dropped] == [4] * 6
    assert np.concatenate([y.data for _, y in dropped]).tolist() == list(range(24))   # no shuffle: in order
    shared = np.random.default_rng(9)
    assert tt.DataLoader(data, batch_size=5, shuffle=True, generator=shared).generator is shared


def test_dataloader_and_dataset_bad_input():
    with pytest.raises(ValueError, match="lengths"):
        tt.ArrayDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        tt.ArrayDataset()
    data = tt.ArrayDataset(np.zeros(3))
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match=str(bad)):
            tt.DataLoader(data, batch_size=bad)
    with pytest.raises(TypeError, match="Generator"):
        tt.DataLoader(data, batch_size=1, generator="seed")


# --- the loop --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    d = tt.load_digits_split(seed=0, dtype="float64")
    return d.X_train[:200], d.y_train[:200]


def test_accumulation_equals_one_large_batch_even_with_a_short_last_batch(small):
    X, y = small
    def params_after(accumulation, batch_size):
        model = tt.make_mlp((64, 16, 10), seed=2, dtype="float64")
        loader = tt.DataLoader(tt.ArrayDataset(X[:90], y[:90]), batch_size=batch_size)
        record = tt.train_epoch(model, loader, CrossEntropyLoss(), SGD(model.parameters(), lr=0.3),
                                accumulation_steps=accumulation)
        return [p.data for p in model.parameters()], record
    # 90 examples: one step over all of them, as 1 batch of 90, or 4 x 25 micro-batches (the last of 15)
    big, big_record = params_after(1, 90)
    accumulated, acc_record = params_after(4, 25)
    assert len(big_record["loss"]) == len(acc_record["loss"]) == 1
    assert acc_record["loss"][0] == pytest.approx(big_record["loss"][0], abs=1e-13)
    for a, b in zip(big, accumulated):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    # dividing by the number of micro-batches instead would be wrong here: the test can tell
    model = tt.make_mlp((64, 16, 10), seed=2, dtype="float64")
    start = [p.data.copy() for p in model.parameters()]
    optimizer = SGD(model.parameters(), lr=0.3)
    optimizer.zero_grad()
    for i in range(0, 90, 25):
        (CrossEntropyLoss()(model(Tensor(X[i:i + 25])), Tensor(y[i:i + 25])) * (1 / 4)).backward()
    optimizer.step()
    assert max(np.max(np.abs(p.data - b)) for p, b in zip(model.parameters(), big)) > 1e-6
    assert any(not np.array_equal(p.data, s) for p, s in zip(model.parameters(), start))


def test_train_epoch_groups_steps_and_steps_the_scheduler(small):
    X, y = small
    model = tt.make_mlp((64, 8, 10), seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = tt.StepLR(optimizer, step_size=2, gamma=0.5)
    loader = tt.DataLoader(tt.ArrayDataset(X, y), batch_size=32)   # 7 batches
    record = tt.train_epoch(model, loader, CrossEntropyLoss(), optimizer, scheduler, accumulation_steps=3)
    assert len(record["loss"]) == 3 and record["lr"] == [0.1, 0.1, 0.05]   # steps of 3, 3 and 1 batches
    assert scheduler.last_epoch == 3 and all(isinstance(v, float) for v in record["loss"])
    with pytest.raises(ValueError, match="accumulation_steps"):
        tt.train_epoch(model, loader, CrossEntropyLoss(), optimizer, accumulation_steps=0)
    with pytest.raises(ValueError, match="at least one"):
        tt.train_step(model, CrossEntropyLoss(), optimizer, [])


def test_evaluate_restores_the_mode_and_builds_no_graph(small):
    X, y = small
    model = tt.make_mlp((64, 8, 10), seed=0, dtype="float64")
    loader = tt.DataLoader(tt.ArrayDataset(X, y), batch_size=64)
    loss, acc = tt.evaluate(model, loader, CrossEntropyLoss())
    logits = model(Tensor(X)).data
    assert acc == pytest.approx(np.mean(np.argmax(logits, axis=1) == y))
    assert loss == pytest.approx(CrossEntropyLoss()(model(Tensor(X)), Tensor(y)).item(), rel=1e-12)
    assert model.training and all(p.grad is None for p in model.parameters())
    model.eval()
    tt.evaluate(model, loader, CrossEntropyLoss())
    assert not model.training
    with pytest.raises(ValueError, match="no examples"):
        tt.evaluate(model, [], CrossEntropyLoss())


def test_fit_history_and_progress_bar(small, capsys):
    X, y = small
    model = tt.make_mlp((64, 8, 10), seed=0)
    train = tt.DataLoader(tt.ArrayDataset(X, y), batch_size=32, shuffle=True, generator=0)
    val = tt.DataLoader(tt.ArrayDataset(X[:50], y[:50]), batch_size=50)
    history = tt.fit(model, train, CrossEntropyLoss(), AdamW(model.parameters(), lr=1e-2), epochs=3,
                     val_loader=val, progress=False)
    assert capsys.readouterr().err == ""
    assert history["epoch"] == [1, 2, 3] and len(history["step_loss"]) == len(history["step_lr"]) == 21
    assert len(history["val_acc"]) == 3 and history["val_loss"][-1] < history["val_loss"][0]
    assert history["train_loss"][0] == pytest.approx(np.mean(history["step_loss"][:7]))
    tt.fit(model, train, CrossEntropyLoss(), AdamW(model.parameters()), epochs=1, progress=True)
    assert "7/7" in capsys.readouterr().err   # tqdm's bar, in a terminal on stderr


def test_fit_checkpoints_every_epoch_and_resumes_bit_identically(small, tmp_path):
    X, y = small
    def setup(seed=0):
        model = tt.make_mlp((64, 16, 10), seed=seed)
        optimizer = AdamW(model.parameters(), lr=1e-2)
        scheduler = tt.SequentialLR(optimizer, [tt.LinearLR(optimizer, start_factor=0.1, total_iters=5),
                                                tt.CosineAnnealingLR(optimizer, T_max=30)], milestones=[5])
        loader = tt.DataLoader(tt.ArrayDataset(X, y), batch_size=32, shuffle=True, generator=4)
        return model, optimizer, scheduler, loader
    kwargs = dict(accumulation_steps=2, max_grad_norm=0.5, progress=False)
    model, optimizer, scheduler, loader = setup()
    straight = tt.fit(model, loader, CrossEntropyLoss(), optimizer, 6, scheduler=scheduler, **kwargs)

    path = tmp_path / "run.npz"
    m, o, s, batches = setup()
    tt.fit(m, batches, CrossEntropyLoss(), o, 2, scheduler=s, checkpoint_path=path, **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]   # no temporary files left
    m, o, s, batches = setup(seed=123)
    info = tt.restore_state(tt.load_checkpoint(path), m, o, s, batches.generator)
    assert info["epoch"] == 2 and o.param_groups[0]["initial_lr"] == 1e-2   # the scheduler's entry survives
    resumed = tt.fit(m, batches, CrossEntropyLoss(), o, 6, scheduler=s, start_epoch=info["epoch"],
                     history=info["extra"]["history"], checkpoint_path=path, **kwargs)
    for a, b in zip(model.parameters(), m.parameters()):
        assert np.array_equal(a.data, b.data)
    for key in ("epoch", "train_loss", "step_loss", "step_lr"):
        assert resumed[key] == straight[key], key
    assert tt.load_checkpoint(path)["epoch"] == 6


def test_restore_refuses_states_that_do_not_fit(small, tmp_path):
    model = tt.make_mlp((64, 16, 10), seed=0)
    optimizer = AdamW(model.parameters())
    loader = tt.DataLoader(tt.ArrayDataset(*small), batch_size=50, shuffle=True, generator=0)
    tt.train_epoch(model, loader, CrossEntropyLoss(), optimizer)
    state = tt.capture_state(model, optimizer, rng=loader.generator, epoch=1)

    def refused(target_model, target_optimizer, match, scheduler=None, rng=loader.generator, state=state):
        before = [p.data.copy() for p in target_model.parameters()]
        with pytest.raises(tt.CheckpointError, match=match):
            tt.restore_state(state, target_model, target_optimizer, scheduler, rng)
        assert all(np.array_equal(p.data, b) for p, b in zip(target_model.parameters(), before))

    wider = tt.make_mlp((64, 32, 10))
    refused(wider, AdamW(wider.parameters()), r"'0.weight' has shape \(16, 64\)")
    deeper = tt.make_mlp((64, 16, 16, 10))
    refused(deeper, AdamW(deeper.parameters()), "another model")
    same = tt.make_mlp((64, 16, 10))
    refused(same, AdamW(same.parameters()), "has no scheduler", scheduler=tt.StepLR(AdamW(same.parameters()), 2))
    refused(same, AdamW(same.parameters()), "has a rng", rng=None)
    refused(same, AdamW(same.parameters()), "MT19937", rng=np.random.Generator(np.random.MT19937(0)))
    refused(same, AdamW(same.parameters()), "not a training state", state={"model": {}})
    two_groups = AdamW([{"params": list(same.parameters())[:2]}, {"params": list(same.parameters())[2:]}])
    refused(same, two_groups, "groups")
