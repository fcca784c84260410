"""Time one optimizer step of tinytorch against torch.optim, and the memory traffic it implies.

Module 03 teaches that an optimizer step is bound by memory traffic: per float32 parameter
SGD must move at least 12 bytes, momentum 20, Adam 28. This prints, for each optimizer, the
step time of tinytorch (NumPy, one temporary array per operation) and of torch.optim (its
default CPU path, one thread like NumPy), both measured here in the same run, and the bandwidth
each achieves if it moved only those minimum bytes.

    .venv/bin/python benchmarks/optimizer_step.py [number of parameters, default 4M]
"""
import sys
import time

import numpy as np
import torch

from tinytorch.core.optimizers import SGD, Adam, AdamW
from tinytorch.core.tensor import Tensor

MIN_BYTES = {"SGD": 12, "SGD momentum": 20, "Adam": 28, "AdamW": 28}
CASES = {"SGD": (SGD, torch.optim.SGD, dict(lr=0.01)),
         "SGD momentum": (SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9)),
         "Adam": (Adam, torch.optim.Adam, dict(lr=1e-3)),
         "AdamW": (AdamW, torch.optim.AdamW, dict(lr=1e-3))}


def best_time(step, repeats=7):
    step()  # state is created on the first step: not timed
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n):
    torch.set_num_threads(1)   # NumPy's elementwise operations use one core: compare like with like
    shapes = [(n // 4,), (n // 4,), (n // 2,)]          # three tensors, n numbers in all
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    print(f"{n:,} float32 parameters in {len(shapes)} tensors; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'optimizer':<14}{'tinytorch ms':>13}{'torch ms':>10}{'ratio':>7}{'min bytes':>10}{'tinytorch GB/s':>16}{'torch GB/s':>12}")
    for name, (ours_cls, torch_cls, options) in CASES.items():
        ours = [Tensor(v) for v in values]
        for p, g in zip(ours, grads):
            p.grad = Tensor(g)
        our_opt = ours_cls(ours, **options)
        theirs = [torch.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g)
        their_opt = torch_cls(theirs, **options)
        t_ours, t_theirs = best_time(our_opt.step), best_time(their_opt.step)
        traffic = MIN_BYTES[name] * n / 1e9
        print(f"{name:<14}{t_ours * 1e3:>13.2f}{t_theirs * 1e3:>10.2f}{t_ours / t_theirs:>7.2f}{MIN_BYTES[name]:>10}"
              f"{traffic / t_ours:>16.1f}{traffic / t_theirs:>12.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4 * 2**20)
