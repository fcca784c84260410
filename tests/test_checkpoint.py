"""The checkpoint file format of tinytorch.core.training: no pickle, atomic saves, damaged files refused.

Resuming a whole training run bit-identically is tested in test_training_resume.py.
"""
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core import training as tt
from tinytorch.core.training import CheckpointError, load_checkpoint, save_checkpoint


def nested_state():
    "Everything a training state holds: int keys, tuples, NumPy arrays and scalars, None, nan, big ints."
    rng = np.random.default_rng(0)
    return {
        "model": {"0.weight": rng.standard_normal((4, 3)), "0.bias": rng.standard_normal(4).astype(np.float32),
                  "2.weight": np.arange(6, dtype=np.int64).reshape(2, 3)},
        "optimizer": {"state": {0: {"step": np.array(3.0), "exp_avg": rng.standard_normal((4, 3))},
                                1: {"step": 7, "momentum_buffer": None}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                                        "initial_lr": 0.1 + 0.2, "params": [0, 1]}]},
        "scheduler": {"last_epoch": 12, "_last_lr": [0.30000000000000004], "_schedulers": [{"a": 1}, {"b": 2.5}]},
        "rng": np.random.default_rng(123).bit_generator.state,
        "epoch": 5,
        "extra": {"history": {"loss": [2.3, 1.1, float("nan")], "name": "run"}, "scalar": np.float32(1.5),
                  "empty": {}, "nested": [[], (1, (2, 3))]},
    }


def assert_same(a, b):
    "Equal values and equal types all the way down (a tuple is not a list, an int key is not a str)."
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_is_exact(tmp_path):
    state = nested_state()
    path = save_checkpoint(tmp_path / "run.npz", state)
    assert path == tmp_path / "run.npz" and sorted(os.listdir(tmp_path)) == ["run.npz"]
    assert_same(load_checkpoint(path), state)


def test_file_is_plain_arrays_with_readable_names_and_no_pickle(tmp_path):
    path = save_checkpoint(tmp_path / "run.npz", nested_state())
    with np.load(path, allow_pickle=False) as npz:
        assert {"model/0.weight", "optimizer/state/0/exp_avg", "optimizer/state/0/step"} <= set(npz.files)
        assert all(npz[k].dtype != object for k in npz.files)
        meta = json.loads(str(npz["__checkpoint__"][()]))
    assert meta["format"] == "tinytorch-checkpoint" and meta["version"] == 1
    assert meta["arrays"]["model/0.weight"]["shape"] == [4, 3]


def test_rng_state_round_trip_continues_the_same_stream(tmp_path):
    rng = np.random.default_rng(42)
    rng.permutation(100)
    save_checkpoint(tmp_path / "c.npz", {"rng": rng.bit_generator.state})
    expected = rng.permutation(1000)
    fresh = np.random.default_rng(0)
    fresh.bit_generator.state = load_checkpoint(tmp_path / "c.npz")["rng"]
    np.testing.assert_array_equal(fresh.permutation(1000), expected)


def test_unstorable_values_are_refused_with_their_path(tmp_path):
    with pytest.raises(TypeError, match="model/w.*object"):
        save_checkpoint(tmp_path / "x.npz", {"model": {"w": np.array([1, "a"], dtype=object)}})
    with pytest.raises(TypeError, match="extra.*set"):
        save_checkpoint(tmp_path / "x.npz", {"extra": {1, 2}})
    with pytest.raises(TypeError, match="keys"):
        save_checkpoint(tmp_path / "x.npz", {"extra": {(1, 2): 3}})
    with pytest.raises(ValueError, match="same name"):
        save_checkpoint(tmp_path / "x.npz", {"a/b": np.zeros(1), "a": {"b": np.ones(1)}})
    assert os.listdir(tmp_path) == []   # nothing half-written left behind


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "run.npz", {"epoch": 1, "w": np.ones(1000)})
    good = path.read_bytes()

    def dies_midway(file, **entries):   # write part of a zip, then the process "dies"
        file.write(b"PK\x03\x04" + b"\0" * 5000)
        raise KeyboardInterrupt
    monkeypatch.setattr(tt.np, "savez", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2, "w": np.zeros(1000)})
    monkeypatch.undo()
    assert path.read_bytes() == good and sorted(os.listdir(tmp_path)) == ["run.npz"]
    assert load_checkpoint(path)["epoch"] == 1


def test_save_replaces_atomically(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace
    def spy(src, dst):
        calls.append((Path(src), Path(dst)))
        return real_replace(src, dst)
    monkeypatch.setattr(tt.os, "replace", spy)
    save_checkpoint(tmp_path / "run.npz", {"epoch": 3})
    [(src, dst)] = calls
    assert dst == tmp_path / "run.npz" and src.parent == tmp_path and src != dst   # same folder, same file system


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -22, -1])
def test_truncated_files_are_refused(tmp_path, cut):
    path = save_checkpoint(tmp_path / "run.npz", nested_state())
    data = path.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else cut
    path.write_bytes(data[:n])
    with pytest.raises(CheckpointError, match="run.npz"):
        load_checkpoint(path)


def test_every_flipped_byte_is_detected(tmp_path):
    """Flip bytes all over the file (headers, data, JSON, directory): each damaged file is refused
    or, if the damage hit bytes nobody reads (zip padding), loads the exact original state."""
    state = {"w": np.random.default_rng(1).standard_normal((20, 10)), "epoch": 4, "lr": [0.1]}
    good = save_checkpoint(tmp_path / "good.npz", state).read_bytes()
    damaged, refused = tmp_path / "bad.npz", 0
    for position in range(0, len(good), max(1, len(good) // 300)):
        data = bytearray(good)
        data[position] ^= 0x5A
        damaged.write_bytes(bytes(data))
        try:
            loaded = load_checkpoint(damaged)
        except CheckpointError:
            refused += 1
            continue
        assert_same(loaded, state)
    assert refused > 250


def test_other_files_are_refused(tmp_path):
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="single array"):
        load_checkpoint(tmp_path / "array.npy")
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(CheckpointError, match="not a tinytorch checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="text.npz"):
        load_checkpoint(tmp_path / "text.npz")


class Boom:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_is_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "evil.npz")
    path = save_checkpoint(tmp_path / "run.npz", {"epoch": 1})
    with zipfile.ZipFile(path, "a") as z:   # an object array smuggled into a real checkpoint
        with z.open("extra.npy", "w") as f:
            np.lib.format.write_array(f, np.array([Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_tampered_entries_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "run.npz", {"w": np.ones(4), "epoch": 2})
    # a consistent zip whose array was replaced: the zip's own CRCs agree, our SHA-256 does not
    with np.load(path) as npz:
        entries = {k: npz[k] for k in npz.files}
    entries["w"] = np.full(4, 2.0)
    np.savez(tmp_path / "swapped.npz", **entries)
    with pytest.raises(CheckpointError, match="'w'"):
        load_checkpoint(tmp_path / "swapped.npz")
    entries["w"] = np.ones(4)
    entries["x"] = np.ones(1)
    np.savez(tmp_path / "extra.npz", **entries)
    with pytest.raises(CheckpointError, match="x"):
        load_checkpoint(tmp_path / "extra.npz")
    meta = json.loads(str(entries.pop("__checkpoint__")[()]))
    meta["version"] = 99
    np.savez(tmp_path / "future.npz", __checkpoint__=np.array(json.dumps(meta)), w=np.ones(4))
    with pytest.raises(CheckpointError, match="99"):
        load_checkpoint(tmp_path / "future.npz")
