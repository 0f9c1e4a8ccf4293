"""Credentials and tokens: user/api-key hashes, JWT-shaped expiring tokens, token buckets.

Kazoo's tokens are JWTs checked by signature and ``exp``, never stored. pivotsim signs
with HMAC-SHA256 and a secret kept in the store, so with ``--state`` a restart keeps
every issued token valid until it expires, as Kazoo's would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from .util import Clock

JWT_ISSUER = "kazoo"

#: Kazoo's default per-client bucket (crossbar.token_buckets): 100 tokens, 10 refilled a second.
BUCKET_MAX = 100
BUCKET_FILL_PER_S = 10
AUTH_COST = 35  # user_auth and api_auth cost more (cb_user_auth ?USER_AUTH_TOKENS)


def credentials_hash(username: str, password: str, method: str = "md5") -> str:
    """Lower-case hex md5 or sha1 of ``"<username lower-cased>:<password>"``."""
    text = f"{username.lower()}:{password}".encode()
    return (hashlib.md5(text) if method == "md5" else hashlib.sha1(text)).hexdigest()


def new_api_key() -> str:
    """An account's ``pvt_api_key``: 64 hex characters."""
    return secrets.token_hex(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenService:
    """Issues and checks tokens. ``check`` answers ``ok``, ``expired``, ``bad`` or ``unknown``.

    ``expired`` and ``unknown`` are Kazoo's early 401; ``bad`` (a JWT whose signature
    does not verify) is treated as no token at all, which becomes a later 401.
    """

    def __init__(self, secret: bytes, clock: Clock, ttl: int = 3600) -> None:
        self._secret = secret
        self._clock = clock
        self.ttl = ttl
        self._kid = hashlib.sha256(secret).hexdigest()[:16]
        self._verified: dict[str, dict[str, Any]] = {}
        self._header = _b64(
            json.dumps({"alg": "HS256", "typ": "JWT", "kid": self._kid}, separators=(",", ":")).encode()
        )

    def issue(self, claims: dict[str, Any]) -> str:
        body = {**claims, "iss": JWT_ISSUER, "exp": int(self._clock()) + int(self.ttl)}
        body.setdefault(
            "identity_sig",
            hmac.new(self._secret, f"{claims.get('account_id')}:{claims.get('owner_id')}".encode(), "sha256").hexdigest()[:32],
        )
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        signing = f"{self._header}.{payload}".encode()
        sig = _b64(hmac.new(self._secret, signing, hashlib.sha256).digest())
        return f"{self._header}.{payload}.{sig}"

    def check(self, token: str) -> tuple[str, dict[str, Any] | None]:
        claims = self._verified.get(token)
        if claims is not None:  # the signature was checked before; only the clock can change the answer
            return ("ok", claims) if claims["exp"] > int(self._clock()) else ("expired", None)
        status, claims = self._check(token)
        if status == "ok" and claims is not None:
            if len(self._verified) >= 4096:
                self._verified.clear()
            self._verified[token] = claims
        return status, claims

    def _check(self, token: str) -> tuple[str, dict[str, Any] | None]:
        parts = token.split(".")
        if len(parts) != 3:
            # Not a JWT: Kazoo looks it up as a legacy token document; pivotsim issues none.
            return "unknown", None
        head, payload, sig = parts
        try:
            expected = _b64(hmac.new(self._secret, f"{head}.{payload}".encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, sig):
                return "bad", None
            claims = json.loads(_unb64(payload))
        except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
            return "bad", None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            return "bad", None
        if claims["exp"] <= int(self._clock()):
            return "expired", None
        return "ok", claims


class Buckets:
    """Per-client token buckets keyed ``ip/account``; reported in the envelope's ``tokens``.

    pivotsim reports consumption but never answers 429: a fake that throttled its own
    test suite would be worse than one that does not.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def consume(self, key: str, cost: int) -> tuple[int, int]:
        now = self._clock()
        level, at = self._buckets.get(key, (float(BUCKET_MAX), now))
        level = min(float(BUCKET_MAX), level + (now - at) * BUCKET_FILL_PER_S)
        level = max(0.0, level - cost)
        self._buckets[key] = (level, now)
        return cost, int(level)
