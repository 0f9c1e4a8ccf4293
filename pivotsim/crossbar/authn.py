"""cb_user_auth, cb_api_auth and cb_token_auth: getting a token, and asking who it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import envelope, errors
from .accounts import ACCOUNTS_DB, live_accounts, normalize_account_name
from .base import DELETE, GET, PUT, Endpoint, Route, account_db, require_object
from .envelope import Reply
from .request import RequestContext
from .util import normalize_number
from .validation import API_AUTH, USER_AUTH, check

if TYPE_CHECKING:
    from .api import Crossbar


def auth_response(cb: Crossbar, account: dict[str, Any], owner_id: str | None) -> dict[str, Any]:
    """crossbar_util response_auth: what a login answers (apps and ui_config left empty)."""
    master = cb.master_account_id()
    data: dict[str, Any] = {"account_id": account["_id"]}
    if owner_id:
        data["owner_id"] = owner_id
    data.update(
        {
            "account_name": account.get("name"),
            "apps": [],
            "language": account.get("language", "en-US"),
            "is_reseller": False,
            "reseller_id": master,
            "is_master_account": account["_id"] == master,
            "capabilities": {"voicemail": {"transcription": {"available": False, "default": False}}},
            "ui_config": {},
        }
    )
    return data


def _candidate_accounts(cb: Crossbar, data: dict[str, Any]) -> list[dict[str, Any]]:
    """cb_user_auth find_account: phone number, then realm, then name (every match, in turn)."""
    out: list[dict[str, Any]] = []
    accounts = sorted(live_accounts(cb), key=lambda a: a["_id"])
    phone = data.get("phone_number")
    if isinstance(phone, str):
        owner = cb.number_owner(normalize_number(phone))
        out.extend(a for a in accounts if a["_id"] == owner)
    realm = data.get("account_realm", data.get("realm"))
    if isinstance(realm, str):
        low = realm.lower()
        out.extend(a for a in accounts if str(a.get("realm", "")).lower() == low)
    name = data.get("account_name")
    if isinstance(name, str):
        norm = normalize_account_name(name)
        out.extend(a for a in accounts if normalize_account_name(str(a.get("name", ""))) == norm)
    return out


class UserAuth(Endpoint):
    name = "user_auth"
    needs_account = False
    top_level = True

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        if route.account_id is None and not route.args:
            return [PUT]
        if len(route.args) == 1:
            return [GET]
        return []

    def is_public(self, cb: Crossbar, ctx: RequestContext, route: Route) -> bool:
        return not route.args and ctx.verb == PUT

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        if route.args:
            return self._read_token(cb, ctx, route)
        data, errs = check(USER_AUTH, require_object(ctx))
        errs.raise_if_any()
        field = "pvt_md5_auth" if data["method"] == "md5" else "pvt_sha1_auth"
        for account in _candidate_accounts(cb, data):
            for user in cb.store.of_type(account_db(account["_id"]), "user"):
                if user.get("pvt_deleted") or user.get("enabled") is False:
                    continue
                if user.get(field) == data["credentials"]:
                    if account.get("enabled") is False:
                        raise errors.single_validation("account", "disabled", {"message": "account disabled"})
                    claims = {"account_id": account["_id"], "owner_id": user["_id"], "method": "cb_user_auth"}
                    return cb.login(ctx, claims, auth_response(cb, account, user["_id"]))
        raise errors.invalid_credentials()

    def _read_token(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        """``GET user_auth/{token}``: the same token must be sent; a different account is 403."""
        if ctx.token != route.args[0] or ctx.claims is None:
            raise errors.invalid_credentials()
        if route.account_id is None or route.account_id != ctx.auth_account_id:
            raise errors.forbidden()
        account = cb.store.get(ACCOUNTS_DB, route.account_id)
        assert account is not None
        return envelope.success(ctx, {**ctx.claims, **auth_response(cb, account, ctx.auth_owner_id)})


class ApiAuth(Endpoint):
    name = "api_auth"
    needs_account = False
    top_level = True

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        return [PUT] if route.account_id is None and not route.args else []

    def is_public(self, cb: Crossbar, ctx: RequestContext, route: Route) -> bool:
        return True

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        data, errs = check(API_AUTH, require_object(ctx))
        errs.raise_if_any()
        key = data["api_key"]
        for account in sorted(live_accounts(cb), key=lambda a: a["_id"]):
            if account.get("pvt_api_key") == key:
                claims = {"account_id": account["_id"], "method": "cb_api_auth"}
                return cb.login(ctx, claims, auth_response(cb, account, None))
        raise errors.unknown_api_key(key)


class TokenAuth(Endpoint):
    name = "token_auth"
    needs_account = False
    top_level = True

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        return [GET, DELETE] if route.account_id is None and not route.args else []

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        assert ctx.claims is not None
        if ctx.verb == DELETE:
            # Only legacy token documents can be deleted; a JWT stays valid until it expires.
            return envelope.success(ctx, {})
        account = cb.store.get(ACCOUNTS_DB, ctx.auth_account_id or "")
        if account is None:
            raise errors.invalid_credentials()
        data = {**ctx.claims, **auth_response(cb, account, ctx.auth_owner_id), "id": None}
        return envelope.success(ctx, data)
