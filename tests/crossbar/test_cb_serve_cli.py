"""``pivotsim serve``'s bad arguments: one line each and a documented exit status.

0 a clean stop (Ctrl-C, SIGTERM); 1 cannot listen (address in use, unknown host); 2 bad
options or input files (port, seed, state); never a traceback (docs/crossbar.md).
"""

from __future__ import annotations

import hashlib
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cb_support import serve_process
from flask import Flask

from pivotsim.cli import main
from pivotsim.crossbar import crossbar_of
from pivotsim.crossbar.cli import add_serve_arguments, build_app

ROOT = Path(__file__).resolve().parents[2]


def serve(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(["serve", "--quiet", *argv])
    err = capsys.readouterr().err
    return rc, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return err.strip()


def test_malformed_seed_yaml_is_exit_2_with_file_line_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("accounts:\n  - name: Tutorial\n    users: [john:12345\n")
    rc, err = serve(capsys, "--seed", str(seed), "--port", "0")
    assert rc == 2
    line = one_line(err)
    assert f"{seed}:4:1: invalid YAML" in line


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"- just\n- a list\n"])
def test_other_bad_seed_files_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_bytes(content)
    rc, err = serve(capsys, "--seed", str(seed), "--port", "0")
    assert rc == 2 and str(seed) in one_line(err)


@pytest.mark.parametrize("kind", ["directory", "missing directory", "not sqlite"])
def test_a_bad_state_file_is_exit_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    if kind == "directory":
        path, why = tmp_path, "it is a directory"
    elif kind == "missing directory":
        path, why = tmp_path / "nope" / "state.db", "its directory does not exist"
    else:
        path, why = tmp_path / "notes.txt", "file is not a database"
        path.write_text("these are my notes, not a database\n" * 20)
    rc, err = serve(capsys, "--state", str(path), "--port", "0")
    assert rc == 2
    line = one_line(err)
    assert f"--state {path}:" in line and why in line


def test_a_foreign_sqlite_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE docs (x INTEGER)")
    rc, err = serve(capsys, "--state", str(path), "--port", "0")
    assert rc == 2 and f"--state {path}:" in one_line(err)


@pytest.mark.parametrize("port", ["-1", "99999", "65536"])
def test_a_port_outside_0_to_65535_is_exit_2(capsys: pytest.CaptureFixture[str], port: str) -> None:
    rc, err = serve(capsys, f"--port={port}")
    assert rc == 2 and f"--port: {port} is not a TCP port" in one_line(err)


def test_a_port_in_use_is_exit_1_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc, err = serve(capsys, "--port", str(port))
    assert rc == 1
    assert one_line(err) == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"


@pytest.mark.parametrize("host", ["256.1.1.1", "no-such-host.invalid"])
def test_an_unknown_host_is_exit_1_in_one_line(capsys: pytest.CaptureFixture[str], host: str) -> None:
    rc, err = serve(capsys, "--host", host, "--port", "0")
    assert rc == 1
    assert one_line(err).startswith(f"error: cannot listen on {host}:0: unknown host")


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    with serve_process() as served:
        yield served


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_sigterm_is_a_clean_stop_exit_0(served: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, _ = served
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and b"Traceback" not in err


def test_rerunning_with_a_new_password_updates_it(tmp_path: Path) -> None:
    """With --state the user exists already: the password on the command line is the intent."""
    import argparse

    state = str(tmp_path / "kazoo.db")

    def app_with(password: str) -> Flask:
        parser = argparse.ArgumentParser()
        add_serve_arguments(parser)
        return build_app(parser.parse_args(["--state", state, "--account", "A", "--user", f"u:{password}"]))

    def login(app: Flask, password: str) -> int:
        creds = hashlib.md5(f"u:{password}".encode()).hexdigest()
        resp = app.test_client().put("/v2/user_auth", json={"data": {"credentials": creds, "account_name": "A"}})
        return int(resp.status_code)

    first = app_with("oldpw")
    assert login(first, "oldpw") == 201
    crossbar_of(first).store.close()
    second = app_with("newpw")
    assert login(second, "newpw") == 201
    assert login(second, "oldpw") == 401
    # Only one user, and re-running with the same password changes nothing.
    cb = crossbar_of(second)
    (acct,) = [a for a in cb.store.of_type("accounts", "account")]
    (user,) = cb.store.of_type(f"account/{acct['_id']}", "user")
    cb.store.close()
    third = app_with("newpw")
    cb3 = crossbar_of(third)
    (again,) = cb3.store.of_type(f"account/{acct['_id']}", "user")
    assert again["_rev"] == user["_rev"]
    cb3.store.close()


@pytest.mark.parametrize("script", ["12x", "nope"])
def test_a_bad_caller_on_the_command_line_names_the_option(capsys: pytest.CaptureFixture[str], script: str) -> None:
    rc, err = serve(capsys, "--caller", f"+12223334444={script}", "--port", "0")
    assert rc == 2
    line = one_line(err)
    assert line.startswith(f"error: --caller +12223334444={script}: not a DTMF digit"), line
    assert "seed" not in line
