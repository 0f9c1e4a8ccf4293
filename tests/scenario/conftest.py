"""Fixtures for the scenario tests: files in a temp folder, the CLI, small Pivot apps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: Any) -> None:
    # pytester for the plugin's tests. pytest only accepts `pytest_plugins` in the
    # top-level conftest, so the plugin is registered here, for these tests only.
    if not config.pluginmanager.hasplugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write("name.pivot.yaml", text)`` writes a file under tmp_path and returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


class CLIResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"<exit {self.code}>\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Callable[..., CLIResult]:
    """``run_cli("run", path, ...)``: pivotsim's CLI in-process, from tmp_path."""
    from pivotsim.cli import main

    def _run(*args: Any, cwd: Path | None = None) -> CLIResult:
        monkeypatch.chdir(cwd or tmp_path)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CLIResult(code, out, err)

    return _run


def make_app(routes: dict[str, Any]) -> Any:
    """A Flask app answering each path with a fixed reply: a node dict, TwiML text, or
    a callable ``fn(request) -> reply``."""
    from flask import Flask, Response, request

    app = Flask("scenario_test_app")
    app.seen = []  # type: ignore[attr-defined]

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
    def any_path(path: str) -> Any:
        app.seen.append((request.method, "/" + path, request.values.to_dict()))  # type: ignore[attr-defined]
        reply = routes.get("/" + path)
        if reply is None:
            return Response("not found", status=404)
        if callable(reply):
            reply = reply(request)
        if isinstance(reply, Response):
            return reply
        if isinstance(reply, str):
            return Response(reply, mimetype="text/xml")
        return Response(json.dumps(reply), mimetype="application/json")

    return app


@pytest.fixture
def pt(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run pytest in pytester's folder with only the pivotsim plugin (autoloading every
    installed plugin would cost seconds per run)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest("-p", "no:cacheprovider", "-p", "pivotsim.pytest_plugin", *args)

    run.pytester = pytester  # type: ignore[attr-defined]
    return run
