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


def test_bench_serve_measures_the_app_as_its_clients_reach_it():
    out = subprocess.run([sys.executable, "-m", "aigc", "bench", "serve", "--seconds", "3", "--engines", "local",
                          "--work", "dcgan"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
    capacity = re.search(r"\| serve DCGAN pages \(16 images\), local: capacity[^|]*\| ([\d.]+)(.*)\|", out)
    latency = re.search(r"\| serve DCGAN pages \(16 images\), local: p50 / p95 latency[^|]*\| (\d+) / (\d+) ms", out)
    assert capacity and float(capacity.group(1)) > 0 and "failed" not in capacity.group(2), out
    assert latency and 0 < int(latency.group(1)) <= int(latency.group(2)), out


@pytest.mark.parametrize("p, expected", [(50, 10), (95, 19), (100, 20), (0, 1)])
def test_a_percentile_is_a_value_that_was_measured(p, expected):
    from aigc.serving.benchmark import _percentile

    assert _percentile(list(range(20, 0, -1)), p) == expected
