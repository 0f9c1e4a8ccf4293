"""The README's examples run: its scenario file passes and its pytest examples pass."""

from __future__ import annotations

import re
from pathlib import Path

from pivotsim.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_scenario_passes(tmp_path, capsys) -> None:
    blocks = [b for b in _blocks("yaml") if "scenario:" in b]
    assert blocks
    for i, block in enumerate(blocks):
        path = tmp_path / f"readme{i}.pivot.yaml"
        path.write_text(block)
        assert main(["run", str(path), "--no-progress"]) == 0, capsys.readouterr().out


def test_readme_pytest_examples_pass(pivotsim, pivot_server) -> None:
    block = next(b for b in _blocks("python") if "def test_balance(pivotsim)" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    namespace["test_balance"](pivotsim)
    namespace["test_canned_replies"](pivot_server, pivotsim)


def test_readme_quickstart_is_two_commands() -> None:
    quick = README[README.index("## Quickstart"):]
    first = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert first is not None
    lines = [line for line in first.group(1).splitlines() if line.strip()]
    assert lines == ["python3 -m pip install . && pivotsim run scenarios", "python3 -m pip install tox && tox"]
