"""`python -m aigc bench` prints one table, the machine at its top."""

import re
import subprocess
import sys

import pytest

from aigc.paths import ROOT

pytestmark = pytest.mark.slow  # the bench in its own process: torch, the model, its timed runs


def test_bench_prints_the_machine_and_one_row_per_measure():
    out = subprocess.run([sys.executable, "-m", "aigc", "bench", "text", "--runs", "1"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert re.search(r"^Machine: .+ threads \(CPU\)|^Machine: .+\(CUDA\)", out, re.M)
    rate = re.search(r"\| text shakespeare-gpt: streamed tokens/s[^|]*\| (\d+)", out)
    first = re.search(r"\| text shakespeare-gpt: time to first token[^|]*\| (\d+) ms", out)
    assert rate and int(rate.group(1)) > 0 and first
