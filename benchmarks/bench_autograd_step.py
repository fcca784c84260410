"""Time one training step of a small MLP in tinytorch and in PyTorch (CPU), in the same run.

One step = forward of an MLP 64-128-10 (ReLU) on a batch of 32, cross-entropy, zero_grad,
backward, and a plain SGD update `p.data -= lr * p.grad.data`. float32, as in training.

    .venv/bin/python benchmarks/bench_autograd_step.py [--steps 2000] [--threads 1]

Prints the median time per step of each framework and their ratio (tinytorch / PyTorch).
Both run on the same number of BLAS threads (1 by default, so the figures are stable on a
shared machine).
"""
import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=2000, help="timed steps per framework")
parser.add_argument("--warmup", type=int, default=100)
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


def median_step_seconds(step, steps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


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
    model = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2]))
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
    ours = median_step_seconds(tinytorch_step_fn(x, y), args.steps, args.warmup)
    theirs = median_step_seconds(torch_step_fn(x, y), args.steps, args.warmup)
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, cross-entropy + SGD step, float32, "
          f"{args.threads} thread(s), median of {args.steps} steps")
    print(f"  tinytorch  {ours * 1e6:9.1f} us/step")
    print(f"  torch CPU  {theirs * 1e6:9.1f} us/step   (torch {torch.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]})")
    print(f"  ratio tinytorch / torch: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
