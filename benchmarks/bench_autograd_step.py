"""Time one training step of a small MLP in tinytorch and in PyTorch (CPU), in the same run.

One step = forward of an MLP 64-128-10 (ReLU) on a batch of 32, cross-entropy, zero_grad,
backward, and a plain SGD update `p.data -= lr * p.grad.data`. float32, as in training.

    .venv/bin/python benchmarks/bench_autograd_step.py [--steps 2000] [--rounds 5] [--threads 1]

The two frameworks take turns: each round times `steps / rounds` steps of tinytorch, then as
many of PyTorch, so that a burst of load on a shared machine hits both sides rather than one.
Each framework's figure is the smallest of its per-round medians (the round it was least
disturbed in); the ratio (tinytorch / PyTorch) is printed against its target, 1.0x. Both run
on the same number of BLAS threads (1 by default, so the figures are stable on a shared
machine), on the same float32 batch, with the same zero_grad (set_to_none) and update.
"""
import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=2000, help="timed steps per framework")
parser.add_argument("--warmup", type=int, default=100)
parser.add_argument("--rounds", type=int, default=5, help="turns each framework takes (steps are split among them)")
parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both frameworks")
args = parser.parse_args()
# The thread count must be fixed before NumPy and PyTorch load their BLAS libraries.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tinytorch.core.autograd import no_grad  # noqa: E402
from tinytorch.core.nn import CrossEntropyLoss, Linear, ReLU, Sequential  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402

BATCH, SIZES, LR = 32, (64, 128, 10), 0.01
TARGET = 1.0  # tinytorch / torch (issue 15, item 4)


def median_step_seconds(step, steps):
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def interleaved_medians(steps_by_name, steps, rounds, warmup):
    "{name: [median seconds per step of each round]}, the frameworks taking turns in every round."
    for step in steps_by_name.values():
        for _ in range(warmup):
            step()
    per_round = max(1, steps // rounds)
    medians = {name: [] for name in steps_by_name}
    for _ in range(rounds):
        for name, step in steps_by_name.items():
            medians[name].append(median_step_seconds(step, per_round))
    return medians


def tinytorch_step_fn(x, y):
    model = Sequential(Linear(SIZES[0], SIZES[1], rng=0), ReLU(), Linear(SIZES[1], SIZES[2], rng=1))
    criterion = CrossEntropyLoss()
    inputs = Tensor(x)

    def step():
        loss = criterion(model(inputs), y)
        model.zero_grad()
        loss.backward()
        with no_grad():
            for p in model.parameters():
                p.data -= LR * p.grad.data
    return step


def torch_step_fn(x, y):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
                                torch.nn.Linear(SIZES[1], SIZES[2]))
    criterion = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = criterion(model(inputs), targets)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.data -= LR * p.grad.data
    return step


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    medians = interleaved_medians({"tinytorch": tinytorch_step_fn(x, y), "torch": torch_step_fn(x, y)},
                                  args.steps, args.rounds, args.warmup)
    ours, theirs = min(medians["tinytorch"]), min(medians["torch"])
    # The ratio of each round, both sides measured within seconds of each other: its spread
    # says how much the machine's load moved the figures.
    round_ratios = [a / b for a, b in zip(medians["tinytorch"], medians["torch"])]
    ratio = ours / theirs
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, cross-entropy + SGD step, float32, "
          f"{args.threads} thread(s), {args.rounds} interleaved rounds of {max(1, args.steps // args.rounds)} steps, "
          f"best round's median")
    print(f"  tinytorch  {ours * 1e6:9.1f} us/step")
    print(f"  torch CPU  {theirs * 1e6:9.1f} us/step   (torch {torch.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]})")
    print(f"  ratio tinytorch / torch: {ratio:.2f}x   target <= {TARGET:.2f}x: "
          f"{'ok' if ratio <= TARGET else f'MISS +{(ratio / TARGET - 1) * 100:.0f}%'}")
    print(f"  per-round ratios: {' '.join(f'{r:.2f}' for r in round_ratios)} (median {np.median(round_ratios):.2f}x); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
