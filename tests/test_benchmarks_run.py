"""The benchmark scripts still run (tiny sizes, no targets checked: speed is not tested here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "script, args",
    [
        ("bench_engine.py", ["--rounds", "1", "--no-check"]),
        ("bench_twiml.py", ["--rounds", "1", "--inner", "2", "--no-check"]),
        ("bench_crossbar.py", ["--rounds", "5", "--repeat", "1"]),
        ("bench_scenarios.py", ["-n", "4", "--repeat", "1"]),
    ],
)
def test_benchmark_script_runs(script: str, args: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=300, cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\d+\.\d+x", proc.stdout), proc.stdout  # every script prints ratios such as "1.10x"
