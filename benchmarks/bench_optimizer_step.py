"""Milliseconds per optimizer step: tinytorch (readable and fast) against PyTorch (default, foreach, fused).

Run it from the README's environment (`bash scripts/setup.sh --dev` creates `.venv`):

    .venv/bin/python benchmarks/bench_optimizer_step.py            # the full run (a few minutes)
    .venv/bin/python benchmarks/bench_optimizer_step.py --quick    # small sizes, to check it works

For 2^20 and 2^24 float32 parameters, in one tensor and in 100 tensors, it times a step of SGD,
SGD with momentum, Adam and AdamW five ways: tinytorch's readable optimizers, tinytorch's fast path
(`fused=True`, see modules/03_optimizers/fused.ipynb), and torch.optim's default (a for-loop on
CPU), foreach and fused implementations. It measures the memory bandwidth at each size (copy and
triad, with NumPy blocks and with torch), the floor that implies for each optimizer (bytes it must
move per step / bandwidth), and prints the ratios the fast path is held to: no slower than torch's
default and foreach paths, and within 2x of torch's fused path.

Timings on a shared machine are noisy (`--threads 1` is steadier there: a thread waiting for a
core that someone else holds stalls the other one, in torch's OpenMP loops as in our blocks). Within each repetition every implementation is timed once,
in a rotating order, so a burst of load from elsewhere hits all of them alike; the tables show the
median of the repetitions and, for each figure, its spread (half the interquartile range, in %
of the median), and the summary reports the load average before and after the run.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

from tinytorch.core import fused
from tinytorch.core.optimizers import SGD, Adam, AdamW
from tinytorch.core.tensor import Tensor

# name: (tinytorch class, torch class, hyperparameters, what it moves per parameter)
OPTIMIZERS = {
    "sgd": (SGD, torch.optim.SGD, dict(lr=1e-3), "sgd"),
    "momentum": (SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9), "momentum"),
    "adam": (Adam, torch.optim.Adam, dict(lr=1e-3), "adam"),
    "adamw": (AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2), "adamw"),
}
IMPLEMENTATIONS = ["tt readable", "tt fast", "torch default", "torch foreach", "torch fused"]
TARGETS = {"torch default": 1.0, "torch foreach": 1.0, "torch fused": 2.0}   # fast / torch must be <= this


def tensor_sizes(total: int, count: int) -> list[int]:
    "`count` sizes adding up to `total`, as equal as possible."
    base, extra = divmod(total, count)
    return [base + (i < extra) for i in range(count)]


def make_steps(optimizer: str, sizes: list[int], seed: int = 0) -> dict:
    "One `step()` per implementation, each over its own copy of the same parameters and gradients."
    tt_class, torch_class, hyperparameters, _ = OPTIMIZERS[optimizer]
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    grads = [(1e-2 * rng.standard_normal(n)).astype(np.float32) for n in sizes]

    def tinytorch_params():
        params = [Tensor(v) for v in values]
        for p, g in zip(params, grads):
            p.grad = Tensor(g)
        return params

    def torch_params():
        params = [torch.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        return params

    return {
        "tt readable": tt_class(tinytorch_params(), **hyperparameters).step,
        "tt fast": tt_class(tinytorch_params(), **hyperparameters, fused=True).step,
        "torch default": torch_class(torch_params(), **hyperparameters).step,
        "torch foreach": torch_class(torch_params(), **hyperparameters, foreach=True).step,
        "torch fused": torch_class(torch_params(), **hyperparameters, fused=True).step,
    }


def time_in_turn(steps: dict, repeats: int, warmup: int = 2) -> dict:
    "Seconds per call of each step, `repeats` times, the implementations interleaved in a rotating order."
    for step in steps.values():
        for _ in range(warmup):   # creates the optimizer state, warms caches and page tables
            step()
    seconds = {name: [] for name in steps}
    order = list(steps)
    for _ in range(repeats):
        order = order[1:] + order[:1]
        for name in order:
            start = time.perf_counter()
            steps[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def median_and_spread(samples) -> tuple[float, float]:
    "The median, and half the interquartile range as a fraction of it."
    median = statistics.median(samples)
    if len(samples) < 4:
        return median, (max(samples) - min(samples)) / 2 / median
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return median, (q3 - q1) / 2 / median


def torch_bandwidth(n: int, repeats: int) -> dict:
    "Copy and triad GB/s with torch's (multithreaded, single-pass) kernels, one figure per run."
    a, b, c = torch.zeros(n), torch.ones(n), torch.full((n,), 2.0)
    result = {"copy": [], "triad": []}
    for kind, run, arrays in (("copy", lambda: a.copy_(b), 2),
                              ("triad", lambda: torch.add(b, c, alpha=3.0, out=a), 3)):
        run()
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            result[kind].append(arrays * n * 4 / (time.perf_counter() - start) / 1e9)
    return result


def format_ms(samples) -> str:
    median, spread = median_and_spread(samples)
    return f"{1e3 * median:8.3f} ±{100 * spread:3.0f}%"


def run_case(total: int, count: int, repeats: int, report: list) -> None:
    sizes = tensor_sizes(total, count)
    numpy_bw = fused.measure_bandwidth(total, repeats)
    torch_bw = torch_bandwidth(total, repeats)
    best_bw = max(max(v) for v in (*numpy_bw.values(), *torch_bw.values()))
    print(f"\n== {total:,} float32 parameters in {count} tensor{'s' * (count > 1)} ==")
    print("bandwidth at this size, best (median) GB/s:  "
          + "  ".join(f"{src} {kind} {max(v):.1f} ({statistics.median(v):.1f})"
                      for src, bw in (("numpy", numpy_bw), ("torch", torch_bw)) for kind, v in bw.items()))
    header = (f"{'optimizer':<9} {'B/param':>7} {'floor ms':>9} | "
              + " | ".join(f"{name:>14}" for name in IMPLEMENTATIONS)
              + " | fast/default fast/foreach fast/fused fast GB/s")
    print(header)
    print("-" * len(header))
    for optimizer in OPTIMIZERS:
        per_param = fused.bytes_per_param(OPTIMIZERS[optimizer][3])
        floor_ms = 1e3 * per_param * total / (best_bw * 1e9)
        seconds = time_in_turn(make_steps(optimizer, sizes), repeats)
        medians = {name: statistics.median(s) for name, s in seconds.items()}
        ratios = {name: medians["tt fast"] / medians[name] for name in TARGETS}
        marks = {name: ("ok" if ratios[name] <= limit else "MISS") for name, limit in TARGETS.items()}
        achieved = per_param * total / medians["tt fast"] / 1e9
        print(f"{optimizer:<9} {per_param:>7} {floor_ms:>9.3f} | "
              + " | ".join(format_ms(seconds[name]) for name in IMPLEMENTATIONS)
              + " | " + "  ".join(f"{ratios[name]:6.2f} {marks[name]:<4}" for name in TARGETS)
              + f" {achieved:7.1f}")
        report.append(dict(case=f"{total >> 20}M/{count}", optimizer=optimizer, ratios=ratios, marks=marks,
                           spreads=[median_and_spread(s)[1] for s in seconds.values()]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions: check that it runs")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per implementation (default 9)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for tinytorch's fast path and for torch (default: every usable core); "
                             "1 gives steadier figures on a busy machine")
    args = parser.parse_args(argv)
    if args.threads is not None:
        fused.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (5 if args.quick else 9)
    cases = [(1 << 16, 1), (1 << 16, 10)] if args.quick else [(1 << 20, 1), (1 << 20, 100), (1 << 24, 1), (1 << 24, 100)]

    load_before = os.getloadavg()
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} cores; threads: "
          f"tinytorch fast {fused.num_threads()}, torch {torch.get_num_threads()}; fast-path block "
          f"{fused.block_elements():,} elements; {repeats} timed steps each; "
          f"load average {load_before[0]:.1f}")
    print("ms per step: median ±spread (half the interquartile range). torch default = its for-loop on CPU.")
    print("floor = bytes the optimizer must move per step / best bandwidth measured at that size")
    torch_bandwidth(1 << 20, 3)   # start torch's thread pool before anything is timed
    report = []
    for total, count in cases:
        run_case(total, count, repeats, report)

    load_after = os.getloadavg()
    spreads = [s for row in report for s in row["spreads"]]
    misses = [f"{row['case']} {row['optimizer']} vs {name} ({row['ratios'][name]:.2f}x)"
              for row in report for name, mark in row["marks"].items() if mark == "MISS"]
    checks = sum(len(row["marks"]) for row in report)
    print(f"\ntargets (fast <= 1x torch default and foreach, <= 2x torch fused): "
          f"{checks - len(misses)}/{checks} met" + (f"; missed: {'; '.join(misses)}" if misses else ""))
    print(f"noise: spread median {100 * statistics.median(spreads):.0f}%, worst {100 * max(spreads):.0f}%; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores"
          + (" (a busy machine: rerun when it is quieter for steadier figures)"
             if max(load_before[0], load_after[0]) > (os.cpu_count() or 1) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
