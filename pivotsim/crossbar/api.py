"""The fake Crossbar itself: one request in, one Reply out, checks in Kazoo's order.

The order decides which error a bad request gets (crossbar-facts 1.2): the body is
parsed first (400), an expired or unknown token is refused early (401), then the path
(404 ``not_found``) and the method (405), the account id (404), authentication (401),
the account tree (403), the content type (415), and only then the module's own
validation. Nothing here knows about Flask; :mod:`pivotsim.crossbar.app` adapts it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from . import envelope, errors
from .accounts import ACCOUNTS_DB, Accounts, Users, live_accounts
from .auth import AUTH_COST, Buckets, TokenService
from .authn import ApiAuth, TokenAuth, UserAuth
from .base import PATCH, POST, PUT, Endpoint, Route, account_db
from .callflows import Callflows
from .calls import EngineFactory, PlannedCall, default_engine_factory, place_safely
from .clicktocall import Clicktocall
from .envelope import Reply
from .errors import CrossbarError
from .pivot_debug import PivotDebug, Transcripts
from .request import ACCEPTED_CONTENT_TYPES, HTTPInput, RequestContext, parse_body, split_path
from .resources import Resources
from .util import Clock, new_id, public_fields, system_clock

log = logging.getLogger("pivotsim.crossbar")

SYSTEM_DB = "system"
_RFC2616 = ("X-RFC2616", "Section 14.17 (Try it, you'll like it)")


class Crossbar:
    """An in-memory (or SQLite-backed) Kazoo Crossbar. Thread-safe; one instance per app."""

    def __init__(
        self,
        state: str | None = None,
        *,
        engine_factory: EngineFactory | None = None,
        seed: dict[str, Any] | None = None,
        clock: Clock | None = None,
        token_ttl: int = 3600,
        blacklist_strict: bool = False,
        background_calls: bool = False,
    ) -> None:
        from .store import Store

        self.clock: Clock = clock or system_clock
        self.store = Store(state)
        self.lock = threading.Lock()
        self.blacklist_strict = blacklist_strict
        self.engine_factory: EngineFactory = engine_factory or default_engine_factory(blacklist_strict)
        self.background_calls = background_calls
        self.callers: dict[str, Any] = {}
        self.default_caller: Any = None
        self.fixtures: dict[str, Any] = {}
        self._flow_validator: Any = None
        self._threads: list[threading.Thread] = []
        self.tokens = TokenService(self._secret(), self.clock, token_ttl)
        self.buckets = Buckets(self.clock)
        self.endpoints: dict[str, Endpoint] = {
            e.name: e
            for e in (
                Accounts(),
                Users(),
                UserAuth(),
                ApiAuth(),
                TokenAuth(),
                Resources(),
                Callflows(),
                Clicktocall(),
                PivotDebug(),
                Transcripts(),
            )
        }
        if seed:
            from .seed import apply_seed

            apply_seed(self, seed)

    # -- state helpers ---------------------------------------------------------------

    def _secret(self) -> bytes:
        """The token-signing secret, kept in the store so ``--state`` tokens survive restarts."""
        doc = self.store.get(SYSTEM_DB, "token_secret")
        if doc is None:
            doc = self.store.save(SYSTEM_DB, {"_id": "token_secret", "pvt_type": "secret", "secret": secrets.token_hex(32)})
        return bytes.fromhex(doc["secret"])

    @property
    def flow_validator(self) -> Any:
        if self._flow_validator is None:
            from pivotsim import make_validator

            self._flow_validator = make_validator(strict_blacklist=self.blacklist_strict)
        return self._flow_validator

    def master_account_id(self) -> str | None:
        roots = sorted(
            (a for a in live_accounts(self) if not a.get("pvt_tree")), key=lambda a: a.get("pvt_created", 0)
        )
        return roots[0]["_id"] if roots else None

    def account(self, account_id: str) -> dict[str, Any] | None:
        doc = self.store.peek(ACCOUNTS_DB, account_id)
        if doc is None or doc.get("pvt_type") != "account" or doc.get("pvt_deleted"):
            return None
        return doc

    def is_superduper(self, ctx: RequestContext) -> bool:
        acct = self.account(ctx.auth_account_id or "")
        return bool(acct and acct.get("pvt_superduper_admin"))

    def number_owner(self, number: str) -> str | None:
        """The account whose callflows route ``number`` (pivotsim's stand-in for number management)."""
        for acct in sorted(live_accounts(self), key=lambda a: a["_id"]):
            for cf in self.store.of_type(account_db(acct["_id"]), "callflow"):
                nums = cf.get("numbers")
                if not cf.get("pvt_deleted") and isinstance(nums, list) and number in nums:
                    return acct["_id"]
        return None

    def engine_fixtures(self, account_id: str) -> dict[str, Any]:
        """What the engine may look up during the call: the account's callflows and users."""
        out: dict[str, Any] = {k: v for k, v in self.fixtures.items()}
        db = account_db(account_id)
        callflows = dict(out.get("callflows") or {})
        for doc in self.store.of_type(db, "callflow"):
            if not doc.get("pvt_deleted"):
                callflows.setdefault(doc["_id"], public_fields(doc))
        users = dict(out.get("users") or {})
        for doc in self.store.of_type(db, "user"):
            if not doc.get("pvt_deleted"):
                users.setdefault(doc["_id"], public_fields(doc))
        out["callflows"] = callflows
        out["users"] = users
        return out

    def caller_for(self, contact: str, raw: str) -> tuple[str, Any]:
        """The caller script for a contact and where it came from: ``callers[KEY]``,
        ``default_caller``, or ``none`` (no script: the contact answers and stays silent)."""
        for key in (contact, raw):
            if key in self.callers:
                return f"callers[{key}]", self.callers[key]
        if self.default_caller is not None:
            return "default_caller", self.default_caller
        if self.callers:
            log.warning(
                "pivotsim: no caller script for contact %s (sent as %r); scripts exist only for %s",
                contact, raw, ", ".join(sorted(self.callers)),
            )
        return "none", None

    def login(self, ctx: RequestContext, claims: dict[str, Any], data: dict[str, Any]) -> Reply:
        """Issue a token: it goes in the envelope (not in ``data``), and the reply is 201."""
        token = self.tokens.issue(claims)
        ctx.issued_token = token
        ok, full = self.tokens.check(token)
        ctx.claims = full
        return envelope.success(ctx, data, status=201)

    # -- calls -----------------------------------------------------------------------

    @contextlib.contextmanager
    def unlocked(self) -> Iterator[None]:
        """Release the request lock while a call runs: the Pivot server may call us back."""
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()

    def place_quietly(self, plan: PlannedCall) -> dict[str, Any] | None:
        """Run a call in the background: a failure is recorded in history, never raised."""
        try:
            return place_safely(self, plan)
        except Exception:  # even recording failed: the API must stay up
            log.exception("pivotsim: recording call %s failed", plan.call_id)
            return None

    def track(self, thread: threading.Thread) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)

    def wait_for_calls(self, timeout: float = 30.0) -> bool:
        """Join background calls; True when none is still running."""
        for t in list(self._threads):
            t.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    # -- the pipeline ----------------------------------------------------------------

    def handle(self, http: HTTPInput) -> Reply:
        """Answer one HTTP request. Never raises: every failure is Kazoo's error envelope."""
        rid = http.headers.get("x-request-id", "")
        if not (rid and rid.isascii() and rid.isprintable() and len(rid) <= 255):
            rid = new_id()  # adopted as sent, unless it could not be echoed in a header
        ctx = RequestContext(http, rid, self.clock())
        try:
            with self.lock:
                reply = self._pipeline(ctx, http)
        except CrossbarError as exc:
            reply = envelope.error(ctx, exc)
        except Exception:
            log.exception("pivotsim crossbar: unhandled error for %s %s", http.method, http.path)
            reply = envelope.error(ctx, errors.unknown_failure())
        if ctx.method == PUT and "content-type" not in http.headers:
            reply.headers.append(_RFC2616)
        return reply

    def _find_token(self, ctx: RequestContext) -> str | None:
        token = ctx.headers.get("x-auth-token")
        if not token:
            value = ctx.req_value("auth_token")
            token = value if isinstance(value, str) else None
        if not token:
            auth = ctx.headers.get("authorization", "")
            scheme, _, rest = auth.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                token = rest.strip()
        return token or None

    def _parse_nouns(self, tokens: list[str]) -> list[tuple[str, list[str]]] | None:
        """api_util parse_path_tokens: a module name starts a noun; what follows are its args."""
        if not tokens or tokens[0] not in self.endpoints:
            return None
        nouns: list[tuple[str, list[str]]] = []
        for tok in tokens:
            if tok in self.endpoints:
                nouns.append((tok, []))
            else:
                nouns[-1][1].append(tok)
        return nouns

    def _route(self, nouns: list[tuple[str, list[str]]]) -> Route:
        first_name, first_args = nouns[0]
        if len(nouns) == 1:
            account_id = first_args[0] if first_name == "accounts" and first_args else None
            return Route(first_name, first_args, account_id, nouns=nouns)
        if len(nouns) == 2 and first_name == "accounts" and len(first_args) == 1:
            name, args = nouns[1]
            if self.endpoints[name].needs_account or name == "user_auth":
                return Route(name, args, first_args[0], nouns=nouns)
        raise errors.not_found()

    def _check_account(self, route: Route) -> None:
        """malformed_request: the id's length, then its existence."""
        raw = route.account_id
        assert raw is not None
        if raw == "":
            raise errors.missing_account_id()
        if len(raw.encode()) != 32:
            raise errors.invalid_account_id(raw)
        acct = self.account(raw)
        if acct is None:
            raise errors.bad_identifier(raw)
        route.account = acct  # the stored document: read-only

    def _authorize_tree(self, ctx: RequestContext, route: Route) -> None:
        """cb_simple_authz: the token's account must be the target account or an ancestor."""
        assert route.account is not None
        auth = ctx.auth_account_id
        if auth is None or (auth != route.account["_id"] and auth not in route.account.get("pvt_tree", [])):
            raise errors.forbidden()

    def _pipeline(self, ctx: RequestContext, http: HTTPInput) -> Reply:
        segs = split_path(http.path)
        if segs and segs[0] == "":
            segs = segs[1:]
        if segs and segs[-1] == "":
            segs = segs[:-1]
        if segs and segs[0] == "v1":
            raise errors.gone_v1()
        guess = segs[2] if len(segs) > 2 and segs[1] == "accounts" else ""
        ctx.bucket = self.buckets.consume(
            f"{ctx.remote_addr}/{guess}",
            AUTH_COST if ctx.method == PUT and len(segs) == 2 and segs[1] in ("user_auth", "api_auth") else 1,
        )
        if not segs or segs[0] != "v2":
            raise errors.not_found()
        parse_body(ctx, http)
        # The token is checked before anything about the path: expired or unknown is an early 401.
        token = self._find_token(ctx)
        if token:
            ctx.token = token
            status, claims = self.tokens.check(token)
            if status in ("expired", "unknown"):
                raise errors.token_rejected()
            if status == "ok" and claims is not None and self.account(str(claims.get("account_id"))):
                ctx.claims = claims
        tokens = segs[1:]
        if tokens and tokens[0] == "account":
            if ctx.claims is None:
                raise errors.token_rejected()
            tokens = ["accounts", str(ctx.auth_account_id), *tokens[1:]]
        nouns = self._parse_nouns(tokens)
        if nouns is None:
            raise errors.invalid_credentials() if ctx.claims is None else errors.not_found()
        route = self._route(nouns)
        endpoint = self.endpoints[route.name]
        if route.account_id is None and not endpoint.top_level:
            raise errors.not_found()
        allowed = endpoint.methods(self, ctx, route)
        if ctx.method == POST:
            verb = ctx.req_value("verb")
            if isinstance(verb, str) and verb:
                ctx.verb = verb.upper()
                if ctx.verb != POST:
                    allowed = [POST, *allowed] if ctx.verb in allowed else [m for m in allowed if m != POST]
        ctx.allowed = list(allowed)
        if not allowed:
            raise errors.not_found()
        preflight = ctx.method == "OPTIONS"
        if not preflight and ctx.method not in allowed:
            raise errors.invalid_method()
        if route.account_id is not None:
            self._check_account(route)
        if preflight:
            # CORS preflight: Cowboy answers it after malformed_request; authentication is skipped.
            return Reply(200, b"", [("X-Request-ID", ctx.request_id), *envelope.ctx_cors_headers(ctx)], None)
        public = endpoint.is_public(self, ctx, route)
        if not public:
            if ctx.claims is None:
                raise errors.invalid_credentials()
            if route.account is not None:
                self._authorize_tree(ctx, route)
            endpoint.authorize(self, ctx, route)
        if ctx.method in (PUT, POST, PATCH) and ctx.content_type and ctx.content_type not in ACCEPTED_CONTENT_TYPES:
            raise errors.unsupported_media_type()
        return endpoint.handle(self, ctx, route)
