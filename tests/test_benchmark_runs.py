"""The optimizer-step benchmark is not a test of speed (speed targets live in its output), but it
must keep running: a quick run on small sizes prints every row, the bandwidth and the summary."""
import re
import subprocess
import sys

import pytest
from helpers import ROOT


@pytest.mark.slow
@pytest.mark.torch
def test_benchmark_quick_run_prints_the_whole_table():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_optimizer_step.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # Two cases (1 and 10 tensors), each with 1 and with 2 threads.
    assert out.count("== 65,536 float32 parameters") == 4
    assert len(re.findall(r"== 65,536 float32 parameters in 10? tensors?, [12] thread\(s\) ==", out)) == 4, out
    assert out.count("bandwidth at this size") == 4
    for optimizer, bytes_per_param in [("sgd", 12), ("momentum", 20), ("adam", 28), ("adamw", 28)]:
        rows = re.findall(rf"^{optimizer} +{bytes_per_param} +[\d.]+ \|.*$", out, re.M)
        assert len(rows) == 4, (optimizer, out)
        for row in rows:   # five timings, three ratios marked against their targets, GB/s and floor, peak memory
            assert len(re.findall(r"[\d.]+ ±", row)) == 5, row
            assert len(re.findall(r"[\d.]+ (?:ok|MISS \+\d+%)", row)) == 4, row
            assert re.search(r"\| +[\d.]+ +[\d.]+ \| +\d+ (?:ok|MISS)", row), row
    assert re.search(r"targets .*: \d+/64 met", out), out
    assert re.search(r"noise: spread median \d+%, worst \d+%; load average", out), out
