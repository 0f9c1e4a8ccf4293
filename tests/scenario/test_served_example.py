"""docs/examples/bank-http.pivot.yaml: connect_to against the bank served on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import make_server

from pivotsim.cli import main
from pivotsim.examples.bank import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "bank-http.pivot.yaml"


def test_served_example_passes_with_connect_to(capsys) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = main(["run", str(EXAMPLE), "--var", f"bank_port={server.server_port}", "--no-progress"])
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 passed" in out


def test_served_example_fails_when_nothing_listens(capsys) -> None:
    code = main(["run", str(EXAMPLE), "--var", "bank_port=9", "--no-progress"])
    assert code == 1, capsys.readouterr().out
