"""What the ``fake_kazoo`` pytest fixture yields: a fake Kazoo your code provisions and dials.

``fake_kazoo.url`` is a real server on 127.0.0.1 (for code that uses ``requests``),
``fake_kazoo.client`` the same app in-process. Calls placed by ``connect`` go to the
``voice_url`` over HTTP unless ``fake_kazoo.pivot(app)`` routes them to a WSGI app
in-process (every ``voice_url``, whatever its host). ``connect`` runs the call before it
answers. Time is virtual: ``fake_kazoo.advance(3601)`` expires the tokens issued so far.
The default account is ``pivotsim`` with the user ``john``/``12345``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

from .api import Crossbar
from .app import create_app, crossbar_of
from .base import account_db
from .calls import parse_script
from .seed import apply_seed
from .util import Clock, normalize_contact, system_clock

DEFAULT_ACCOUNT = "pivotsim"
DEFAULT_USER = ("john", "12345")
_VERSIONED = re.compile(r"/?v[12](?:[/?]|$)")


class FakeKazoo:
    """One fake Kazoo: the Flask app, a live server, and helpers for the common steps."""

    def __init__(
        self,
        *,
        seed: dict[str, Any] | None = None,
        pivot: Any = None,
        state: str | None = None,
        clock: Clock | None = None,
        token_ttl: int = 3600,
        blacklist_strict: bool = False,
        serve: bool = True,
    ) -> None:
        self._target = pivot
        self.blacklist_strict = blacklist_strict
        self._offset = 0.0
        base = clock or system_clock

        def virtual_clock() -> float:
            return base() + self._offset

        if seed is None:
            seed = {
                "accounts": [
                    {"name": DEFAULT_ACCOUNT, "users": [{"username": DEFAULT_USER[0], "password": DEFAULT_USER[1]}]}
                ]
            }
        self.app = create_app(
            state,
            engine_factory=self._engine,
            seed=seed,
            clock=virtual_clock,
            token_ttl=token_ttl,
            blacklist_strict=blacklist_strict,
        )
        self.crossbar: Crossbar = crossbar_of(self.app)
        self.client = self.app.test_client()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        if serve:
            self._start()

    # -- lifecycle --------------------------------------------------------------------

    def _start(self) -> None:
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-kazoo", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.crossbar.wait_for_calls(5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.crossbar.store.close()

    # -- the simulated world ----------------------------------------------------------

    def _engine(self) -> Any:
        from pivotsim import Engine, HTTPTransport, Options, make_validator, resolve_target

        transport = HTTPTransport() if self._target is None else resolve_target(self._target)[1]
        return Engine(
            transport,
            validator=make_validator(strict_blacklist=self.blacklist_strict),
            options=Options(strict_blacklist=self.blacklist_strict),
        )

    def pivot(self, target: Any) -> None:
        """Send calls' Pivot requests to ``target`` (a WSGI app, ``fn(request)``, a transport, a URL)."""
        self._target = target

    def caller(self, contact: str, script: Any) -> None:
        """What ``contact`` does when dialled: ``["1234", ""]``, ``"busy"``, ``{"outcome": ...}``."""
        self.crossbar.callers[normalize_contact(contact)] = parse_script(script)
        self.crossbar.callers[contact] = parse_script(script)

    def seed(self, data: dict[str, Any]) -> None:
        """Add more accounts, users, documents or caller scripts (the seed-file format)."""
        apply_seed(self.crossbar, data)

    # -- virtual time -----------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: tokens expire, token buckets refill, timestamps move."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += seconds

    def now(self) -> float:
        """The fake's current Unix time (the real clock plus every ``advance``)."""
        return self.crossbar.clock()

    @property
    def token_ttl(self) -> int:
        """Lifetime in seconds of tokens issued from now on (default 3600, as Kazoo); settable."""
        return int(self.crossbar.tokens.ttl)

    @token_ttl.setter
    def token_ttl(self, seconds: int) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise ValueError("token_ttl is a positive number of seconds")
        self.crossbar.tokens.ttl = seconds

    # -- shortcuts --------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        master = self.crossbar.master_account_id()
        assert master is not None, "the fake has no account"
        return master

    def account(self, name: str) -> dict[str, Any]:
        for acct in self.crossbar.store.of_type("accounts", "account"):
            if acct.get("name") == name and not acct.get("pvt_deleted"):
                return dict(acct)
        raise KeyError(name)

    def api_key(self, account_id: str | None = None) -> str:
        acct = self.crossbar.account(account_id or self.account_id)
        assert acct is not None
        return str(acct["pvt_api_key"])

    @staticmethod
    def credentials(username: str = DEFAULT_USER[0], password: str = DEFAULT_USER[1]) -> str:
        """What ``echo -n 'user:pass' | md5sum`` prints."""
        return hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()

    def token(
        self, username: str = DEFAULT_USER[0], password: str = DEFAULT_USER[1], account_name: str = DEFAULT_ACCOUNT
    ) -> str:
        """Log in with user_auth and return the token."""
        body = {"data": {"credentials": self.credentials(username, password), "account_name": account_name}}
        resp = self.client.put("/v2/user_auth", json=body)
        if resp.status_code != 201:
            raise AssertionError(f"user_auth failed: {resp.status_code} {resp.get_data(as_text=True)}")
        return str(resp.get_json()["auth_token"])

    def api(self, method: str, path: str, data: Any = None, *, token: str | None = None, **kw: Any) -> Any:
        """One Crossbar call in-process; returns the parsed envelope (``.status_code`` is not kept).

        ``path`` may start with ``/v2`` or not: ``"/accounts/{A}/callflows"`` and
        ``"/v2/accounts/{A}/callflows"`` are the same request (``/v1/...`` is kept, a 410).
        """
        if not _VERSIONED.match(path):
            path = "/v2/" + path.lstrip("/")
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("X-Auth-Token", token or self.token())
        body = None if data is None else json.dumps({"data": data})
        resp = self.client.open(path, method=method, data=body, headers=headers, content_type="application/json", **kw)
        return resp.get_json()

    def calls(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Transcripts of the calls placed in an account, oldest first."""
        docs = self.crossbar.store.of_type(account_db(account_id or self.account_id), "pivotsim_call")
        return [d["transcript"] for d in sorted(docs, key=lambda d: d.get("pvt_created", 0))]
