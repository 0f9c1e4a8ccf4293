"""cb_accounts and cb_users: the account tree (for 403s), api keys, and the users who log in.

Accounts live in the ``accounts`` database with ``pvt_tree`` listing their ancestors,
master first. A token may act on its own account and every descendant, never on an
ancestor or a sibling: that is the whole of cb_simple_authz, and what keeps two
accounts' data apart.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from . import envelope, errors
from .auth import credentials_hash, new_api_key
from .base import DELETE, GET, PATCH, POST, PUT, DocEndpoint, Endpoint, Route, require_object
from .envelope import Reply
from .errors import ValidationErrors
from .request import RequestContext
from .util import deep_merge, gregorian, new_id, public_fields, strip_private
from .validation import ACCOUNT, USER, check

if TYPE_CHECKING:
    from .api import Crossbar

ACCOUNTS_DB = "accounts"
_LISTS = ("children", "descendants", "parents")


def normalize_account_name(name: str) -> str:
    """kzd_accounts:normalize_name: lower-case, only ``[a-z0-9]`` kept ("My Co." is "myco")."""
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())


def new_realm() -> str:
    return f"{secrets.token_hex(4)}.sip.2600hz.com"


def live_accounts(cb: Crossbar) -> list[dict[str, Any]]:
    return [a for a in cb.store.of_type(ACCOUNTS_DB, "account") if not a.get("pvt_deleted")]


def create_account(
    cb: Crossbar,
    name: str,
    *,
    parent: dict[str, Any] | None,
    realm: str | None = None,
    account_id: str | None = None,
    api_key: str | None = None,
    superduper_admin: bool = False,
    extra: dict[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Store a new account below ``parent`` (None makes it a root: the master, normally)."""
    when = gregorian(cb.clock() if now is None else now)
    tree = [*parent.get("pvt_tree", []), parent["_id"]] if parent else []
    doc: dict[str, Any] = {
        **(extra or {}),
        "_id": account_id or new_id(),
        "name": name,
        "realm": realm or new_realm(),
        "pvt_type": "account",
        "pvt_vsn": "1",
        "pvt_tree": tree,
        "pvt_api_key": api_key or new_api_key(),
        "pvt_enabled": True,
        "pvt_superduper_admin": superduper_admin,
        "pvt_created": when,
        "pvt_modified": when,
    }
    doc["pvt_account_id"] = doc["_id"]
    doc["pvt_account_db"] = f"account/{doc['_id']}"
    return cb.store.save(ACCOUNTS_DB, doc)


def _realm_taken(cb: Crossbar, realm: Any, except_id: str | None) -> bool:
    if not isinstance(realm, str):
        return False
    low = realm.lower()
    return any(
        a["_id"] != except_id and str(a.get("realm", "")).lower() == low for a in live_accounts(cb)
    )


class Accounts(Endpoint):
    name = "accounts"
    needs_account = False
    top_level = True

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        args = route.args
        if not args:
            return [PUT]
        if len(args) == 1:
            return [GET, PUT, POST, PATCH, DELETE]
        if len(args) == 2 and args[1] == "api_key":
            return [GET, PUT]
        if len(args) == 2 and args[1] in _LISTS:
            return [GET]
        return []

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        args, verb = route.args, ctx.verb
        if not args:
            parent = cb.store.get(ACCOUNTS_DB, ctx.auth_account_id or "")
            if parent is None:
                raise errors.invalid_credentials()
            return self._create(cb, ctx, parent)
        assert route.account is not None
        account = dict(route.account)  # a copy: the handlers below change top-level keys
        if len(args) == 2 and args[1] == "api_key":
            return self._api_key(cb, ctx, account)
        if len(args) == 2:
            return self._related(cb, ctx, account, args[1])
        if verb == GET:
            return envelope.success(ctx, public_fields(account), revision=account.get("_rev"))
        if verb == PUT:
            return self._create(cb, ctx, account)
        if verb == DELETE:
            return self._delete(cb, ctx, account)
        data = strip_private(require_object(ctx))
        data.pop("id", None)
        if verb == PATCH:
            current = public_fields(account)
            current.pop("id", None)
            data = deep_merge(current, data)
        doc, errs = check(ACCOUNT, data)
        self._check_realm(cb, doc, account["_id"], errs)
        errs.raise_if_any()
        private = {k: v for k, v in account.items() if k[:1] == "_" or k[:4] == "pvt_"}
        merged = {**doc, **private, "pvt_modified": gregorian(ctx.now)}
        saved = cb.store.save(ACCOUNTS_DB, merged)
        return envelope.success(ctx, public_fields(saved), revision=saved["_rev"])

    def _check_realm(self, cb: Crossbar, doc: dict[str, Any], except_id: str | None, errs: ValidationErrors) -> None:
        if _realm_taken(cb, doc.get("realm"), except_id):
            errs.add(("realm",), "unique", {"message": "Account realm already in use", "cause": doc["realm"]})

    def _create(self, cb: Crossbar, ctx: RequestContext, parent: dict[str, Any]) -> Reply:
        data = strip_private(require_object(ctx))
        data.pop("id", None)
        doc, errs = check(ACCOUNT, data)
        self._check_realm(cb, doc, None, errs)
        errs.raise_if_any()
        name = doc.pop("name")
        realm = doc.pop("realm", None)
        saved = create_account(cb, name, parent=parent, realm=realm, extra=doc, now=ctx.now)
        return envelope.success(
            ctx,
            public_fields(saved),
            status=201,
            revision=saved["_rev"],
            headers=[("Location", f"/v2/accounts/{saved['_id']}")],
        )

    def _delete(self, cb: Crossbar, ctx: RequestContext, account: dict[str, Any]) -> Reply:
        if not account.get("pvt_tree"):
            raise errors.forbidden("the master account cannot be deleted")
        if any(account["_id"] in a.get("pvt_tree", []) for a in live_accounts(cb)):
            raise errors.CrossbarError(500, "account_has_descendants", {"message": "account has descendants"})
        account["pvt_deleted"] = True
        account["pvt_modified"] = gregorian(ctx.now)
        saved = cb.store.save(ACCOUNTS_DB, account)
        out = public_fields(saved)
        out["_read_only"] = {"deleted": True}
        return envelope.success(ctx, out, revision=saved["_rev"])

    def _api_key(self, cb: Crossbar, ctx: RequestContext, account: dict[str, Any]) -> Reply:
        if ctx.verb == PUT:
            account["pvt_api_key"] = new_api_key()
            account = cb.store.save(ACCOUNTS_DB, account)
            return envelope.success(ctx, {"api_key": account["pvt_api_key"]}, status=201)
        return envelope.success(ctx, {"api_key": account.get("pvt_api_key")})

    def _related(self, cb: Crossbar, ctx: RequestContext, account: dict[str, Any], what: str) -> Reply:
        aid = account["_id"]
        everyone = live_accounts(cb)
        if what == "parents":
            by_id = {a["_id"]: a for a in everyone}
            rows = [
                {"id": p, "name": by_id[p].get("name")}
                for p in account.get("pvt_tree", [])
                if p in by_id
            ]
            return envelope.success(ctx, rows)
        if what == "children":
            found = [a for a in everyone if (a.get("pvt_tree") or [None])[-1] == aid]
        else:
            found = [a for a in everyone if aid in a.get("pvt_tree", [])]
        rows = [
            {"id": a["_id"], "name": a.get("name"), "realm": a.get("realm"), "tree": a.get("pvt_tree", [])}
            for a in sorted(found, key=lambda a: a["_id"])
        ]
        return envelope.success(ctx, rows)


def set_user_credentials(doc: dict[str, Any], password: str | None) -> None:
    """kzd_users: store the md5/sha1 of ``username:password``; the password itself never."""
    username = doc.get("username")
    if isinstance(username, str) and isinstance(password, str):
        doc["pvt_md5_auth"] = credentials_hash(username, password, "md5")
        doc["pvt_sha1_auth"] = credentials_hash(username, password, "sha")


class Users(DocEndpoint):
    name = "users"
    pvt_type = "user"

    def validate(
        self, cb: Crossbar, ctx: RequestContext, route: Route, data: dict[str, Any], doc_id: str | None
    ) -> dict[str, Any]:
        doc, errs = check(USER, data)
        username = doc.get("username")
        if isinstance(username, str):
            doc["username"] = username = username.lower()
            for other in self.live_docs(cb, route):
                if other["_id"] != doc_id and other.get("username") == username:
                    errs.add(("username",), "unique", {"message": "Username must be unique", "cause": username})
        errs.raise_if_any()
        password = doc.pop("password", None)
        set_user_credentials(doc, password if isinstance(password, str) else None)
        return doc

    def list_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc["_id"]}
        for key in ("username", "email", "first_name", "last_name", "priv_level", "features", "presence_id"):
            if key in doc:
                row[key] = doc[key]
        return row
