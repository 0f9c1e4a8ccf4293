"""Helpers for the fake Crossbar's tests: an app with three accounts, a fake clock, a Pivot stub."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pivotsim import CallableTransport, Engine, HTTPRequest, make_validator
from pivotsim.crossbar import create_app, crossbar_of

NODE_RE = r"^[A-Za-z0-9_-]{22}$"

# Master (root, super-duper admin) with two sibling sub-accounts that must never see each other.
SEED: dict[str, Any] = {
    "accounts": [
        {"name": "Master", "users": [{"username": "admin", "password": "admin"}]},
        {"name": "Alpha", "realm": "alpha.sip.example.com", "users": [{"username": "john", "password": "12345"}]},
        {"name": "Beta", "realm": "beta.sip.example.com", "users": [{"username": "Jane", "password": "Secret"}]},
    ]
}


class Clock:
    """A settable Unix clock: tokens expire on it."""

    def __init__(self, t: float = 1_780_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class PivotStub:
    """The Pivot server under test, in-process: records each request, answers ``reply``."""

    def __init__(self) -> None:
        self.requests: list[HTTPRequest] = []
        self.reply: Any = {"module": "tts", "data": {"text": "Hello from pivot"}}

    def __call__(self, request: HTTPRequest) -> Any:
        self.requests.append(request)
        return self.reply(request) if callable(self.reply) else self.reply


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def data(self) -> Any:
        return self.body["data"]


class Kz:
    """A test client speaking Crossbar: ``kz.call("GET", path, token=...)``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cb = crossbar_of(app)
        self.client = app.test_client()

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        token: str | None = None,
        envelope: Any = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str | None = "application/json",
        query: str = "",
    ) -> Resp:
        hdrs = dict(headers or {})
        if token:
            hdrs["X-Auth-Token"] = token
        if raw is not None:
            body: bytes | str | None = raw
        elif envelope is not None:
            body = json.dumps(envelope)
        elif data is not None:
            body = json.dumps({"data": data})
        else:
            body = None
        url = path + (("?" + query) if query else "")
        kw: dict[str, Any] = {"method": method, "headers": hdrs}
        if body is not None:
            kw["data"] = body
        if content_type is not None and body is not None:
            kw["content_type"] = content_type
        resp = self.client.open(url, **kw)
        raw_body = resp.get_data()
        parsed = json.loads(raw_body) if raw_body and resp.mimetype == "application/json" else None
        return Resp(resp.status_code, parsed, {k.lower(): v for k, v in resp.headers.items()}, raw_body)

    def login(self, username: str = "john", password: str = "12345", account: str = "Alpha") -> tuple[str, str]:
        creds = hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()
        r = self.call("PUT", "/v2/user_auth", {"credentials": creds, "account_name": account})
        assert r.status == 201, r.body
        return r.body["auth_token"], r.body["data"]["account_id"]


def assert_error(resp: Resp, status: int, message: str, data: Any = ...) -> None:
    """Kazoo's error envelope exactly: ``error`` is the code as a string, no ``revision``."""
    assert resp.status == status, (resp.status, resp.body)
    body = resp.body
    assert isinstance(body, dict), resp.raw
    assert body["status"] == "error"
    assert body["error"] == str(status)
    assert body["message"] == message, body
    assert "revision" not in body
    for key in ("node", "request_id", "timestamp", "data"):
        assert key in body, key
    assert resp.headers["x-request-id"] == body["request_id"]
    if data is not ...:
        assert body["data"] == data, body["data"]


def assert_success(resp: Resp, status: int = 200) -> Any:
    assert resp.status == status, (resp.status, resp.body)
    assert resp.body["status"] == "success"
    assert "error" not in resp.body
    assert resp.headers["x-request-id"] == resp.body["request_id"]
    return resp.body["data"]

def make_app(clock: Clock, pivot: PivotStub, **kw: Any) -> Any:
    kw.setdefault("seed", SEED)
    return create_app(
        clock=clock,
        engine_factory=lambda: Engine(CallableTransport(pivot), validator=make_validator()),
        **kw,
    )


RESOURCE = {
    "name": "Flowroute",
    "rules": [r"^\+?1?\d{10}$"],
    "gateways": [{"server": "us-west-or.sip.flowroute.com", "username": "u", "password": "p", "codecs": ["PCMU"]}],
}


def pivot_callflow(url: str = "https://pivot.example.com/cf", number: str = "1", **data: Any) -> dict[str, Any]:
    return {"name": "My Pivot", "numbers": [number], "flow": {"module": "pivot", "data": {"voice_url": url, **data}}}


@contextmanager
def serve_process(*args: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``pivotsim serve ARGS`` as a real process on a free 127.0.0.1 port, once it listens."""
    root = Path(__file__).resolve().parents[2]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "pivotsim", "serve", "--port", str(port), "--quiet", *args],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    _, err = proc.communicate(timeout=5)
                    raise AssertionError(f"pivotsim serve did not start: {err.decode()}") from None
                time.sleep(0.05)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait()
