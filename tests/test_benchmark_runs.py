"""The benchmarks are not tests of speed (speed targets live in their output), but they must keep
running: a quick run of the optimizer-step benchmark on small sizes prints every row, the
bandwidth and the summary; a short run of the autograd-step benchmark prints both frameworks,
the ratio against its target and the per-round ratios."""
import re
import subprocess
import sys

import pytest
from helpers import ROOT


@pytest.mark.slow
@pytest.mark.torch
def test_benchmark_quick_run_prints_the_whole_table():
    # 3 repetitions: enough for the spread (an interquartile range), and the run stays short
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_optimizer_step.py"), "--quick",
                           "--repeats", "3"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # Two cases (1 and 10 tensors), each with 1 and with 2 threads.
    assert out.count("== 65,536 float32 parameters") == 4
    assert len(re.findall(r"== 65,536 float32 parameters in 10? tensors?, [12] thread\(s\) ==", out)) == 4, out
    assert out.count("bandwidth at this size") == 4
    # torch has no fused RMSprop and no Lion: those cells say n/a, and have no target.
    with_torch = {"sgd": 3, "momentum": 3, "adam": 3, "adamw": 3, "rmsprop": 2, "adagrad": 3, "lion": 0}
    for optimizer, bytes_per_param in [("sgd", 12), ("momentum", 20), ("adam", 28), ("adamw", 28), ("rmsprop", 20),
                                       ("adagrad", 20), ("lion", 20)]:
        rows = re.findall(rf"^{optimizer} +{bytes_per_param} +[\d.]+ \|.*$", out, re.M)
        assert len(rows) == 4, (optimizer, out)
        n_torch = with_torch[optimizer]
        for row in rows:   # the timings, the ratios marked against their targets, GB/s and floor, peak memory
            assert len(re.findall(r"[\d.]+ ±", row)) == 2 + n_torch, row
            assert len(re.findall(r"[\d.]+ (?:ok|MISS \+\d+%)", row)) == n_torch + 1, row
            assert row.count("n/a") == 3 * (3 - n_torch), row   # the timing, the ratio and its verdict
            assert re.search(r"\| +[\d.]+ +[\d.]+ \| +\d+ (?:ok|MISS)", row), row
    # The closing summary: one line per case, thread count and optimizer, then the counts per thread count.
    summary = out[out.index("\nsummary:"):]
    assert len(re.findall(r"^64K/10? +[12] [a-z]+ +\|", summary, re.M)) == 2 * 2 * 7, summary
    for threads in (1, 2):
        assert re.search(rf"^{threads} thread\(s\): \d+/48 targets met", summary, re.M), summary
    assert re.search(r"targets .*: \d+/96 met", out), out
    assert re.search(r"noise: spread median \d+%, worst \d+%; load average", out), out


@pytest.mark.slow
@pytest.mark.torch
def test_autograd_step_benchmark_prints_both_frameworks_and_the_target():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_autograd_step.py"),
                           "--steps", "40", "--warmup", "5", "--rounds", "2"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^  tinytorch +[\d.]+ us/step$", out, re.M), out
    assert re.search(r"^  torch CPU +[\d.]+ us/step", out, re.M), out
    assert re.search(r"ratio tinytorch / torch: [\d.]+x   target <= 1\.00x: (?:ok|MISS \+\d+%)", out), out
    assert re.search(r"per-round ratios: [\d.]+ [\d.]+ \(median [\d.]+x\)", out), out
