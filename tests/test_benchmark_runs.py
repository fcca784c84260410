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
    assert out.count("== 65,536 float32 parameters") == 2
    assert out.count("bandwidth at this size") == 2
    for optimizer, bytes_per_param in [("sgd", 12), ("momentum", 20), ("adam", 28), ("adamw", 28)]:
        rows = re.findall(rf"^{optimizer} +{bytes_per_param} +[\d.]+ \|.*$", out, re.M)
        assert len(rows) == 2, (optimizer, out)
        for row in rows:   # five timings, then three ratios each marked against its target
            assert len(re.findall(r"[\d.]+ ±", row)) == 5, row
            assert len(re.findall(r"[\d.]+ (?:ok|MISS)", row)) == 3, row
    assert re.search(r"targets .*: \d+/24 met", out), out
    assert re.search(r"noise: spread median \d+%, worst \d+%; load average", out), out
