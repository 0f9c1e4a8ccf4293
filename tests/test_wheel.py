"""The wheel carries schemas/ and places a call from a fresh virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_into_a_fresh_venv_and_places_a_call(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, timeout=300)
    wheel = next(dist.glob("pivotsim-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    code = (
        "import pathlib, pivotsim;"
        "root = pathlib.Path(pivotsim.__file__).parent;"
        "assert (root / 'schemas' / 'callflow' / 'tts.json').is_file();"
        "assert (root / 'schemas' / 'transcript.schema.json').is_file();"
        "print(root)"
    )
    where = subprocess.run([str(py), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert str(env_dir) in where.stdout
    proc = subprocess.run(
        [str(bindir / "pivotsim"), "call", "pivotsim.examples.bank:app", "--press", "1234", "--press", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Your balance is 1,234.56 dollars" in proc.stdout
