"""docs/scenarios.md is tested: its scenarios pass, its Python runs, its outputs are real."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from pivotsim.scenario import Runner, load_text
from pivotsim.scenario.source import read_documents
from pivotsim.scenario.testing import PivotServer, Pivotsim

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str, str, int]]:
    text = DOC.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2).strip(), m.group(3), text[: m.start()].count("\n") + 2)
            for m in FENCE.finditer(text)]


def _first_line(code: str) -> str:
    return next((ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")


RUNNABLE = [(code, line) for lang, info, code, line in blocks()
            if lang == "yaml" and not info and _first_line(code).startswith(("scenario:", "defaults:"))]
PYTHON = [(code, line) for lang, info, code, line in blocks() if lang == "python"]


def test_the_page_has_examples() -> None:
    assert len(RUNNABLE) >= 10 and len(PYTHON) >= 2


@pytest.mark.parametrize(("code", "line"), RUNNABLE, ids=[f"line{ln}" for _, ln in RUNNABLE])
def test_yaml_examples_pass(code: str, line: int) -> None:
    scenarios = load_text(code, f"docs/scenarios.md:{line}", base_dir=DOC.parent)
    runner = Runner()
    for scn in scenarios:
        r = runner.run(scn)
        bad = [f"{s.label} (line {s.loc.line}): {s.outcome.message}" for s in r.failures]
        assert r.status == "passed", (scn.test_name, r.error, bad)


def test_yaml_fragments_are_valid_yaml() -> None:
    for lang, info, code, line in blocks():
        if lang == "yaml" and not info.startswith("file=") and (code, line) not in RUNNABLE:
            read_documents(code, f"docs/scenarios.md:{line}")


@pytest.mark.parametrize(("code", "line"), PYTHON, ids=[f"line{ln}" for _, ln in PYTHON])
def test_python_examples_run(code: str, line: int) -> None:
    namespace: dict[str, object] = {}
    exec(compile(code, f"docs/scenarios.md:{line}", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    assert tests
    for fn in tests:
        params = inspect.signature(fn).parameters  # type: ignore[arg-type]
        with PivotServer() as server:
            fixtures = {"pivotsim": Pivotsim(), "pivot_server": server}
            fn(**{p: fixtures[p] for p in params})  # type: ignore[operator]


def test_the_documented_error_output_is_real(write, run_cli, tmp_path) -> None:
    files = {info.split("=", 1)[1]: code for lang, info, code, _ in blocks() if info.startswith("file=")}
    assert set(files) == {"bank.pivot.yaml", "menu.pivot.yaml"}
    for name, code in files.items():
        write(name, code)
    console = [code for lang, info, code, _ in blocks() if lang == "console" and "nothing was run" in code]
    expected = console[0].splitlines()[1:]
    r = run_cli("run", ".")
    assert r.code == 2
    assert r.err.splitlines() == expected


def test_every_top_level_key_and_step_kind_is_documented() -> None:
    from pivotsim.scenario.loader import schema

    text = DOC.read_text(encoding="utf-8")
    defs = schema()["$defs"]
    for key in defs["scenario"]["properties"]:
        assert f"`{key}`" in text, key
    for key in defs["step"]["oneOf"][1]["properties"]:
        assert f"`{key}" in text, key
    for key in defs["end"]["properties"]:
        assert f"`{key}`" in text, key
    for tag in ("!re", "!type", "!absent", "!any"):
        assert f"`{tag}" in text
