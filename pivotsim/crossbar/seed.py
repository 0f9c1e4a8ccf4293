"""Seed files: accounts, users and documents a test or ``pivotsim serve --seed`` starts with.

Documents are created through the fake's own pipeline (a PUT with a token for the
account), so a seeded callflow is validated, normalised and defaulted exactly like one
created over HTTP. Format (YAML or a dict)::

    accounts:                      # the first is the master account (unless there is one); the rest its children
      - name: Tutorial
        id: 0123456789abcdef0123456789abcdef   # optional; likewise realm, api_key
        users: [{username: john, password: "12345"}]
        resources: [{name: Flowroute, rules: ["^\\\\+?1?\\\\d{10}$"], gateways: [{server: gw.example.com}]}]
        callflows: [{numbers: ["1"], flow: {module: pivot, data: {voice_url: "http://..."}}}]
        clicktocall: [{name: call_1, extension: "1", auth_required: false}]
        accounts: []               # sub-accounts, same shape
    global_resources: []           # in the offnet database (the master must be a super-duper admin)
    callers: {"+12223334444": ["1234", ""], "+13334445555": busy}
    default_caller: ["1"]          # for contacts not listed
    fixtures: {}                   # pivotsim Fixtures for modules the engine simulates

With ``--state`` an account already present (same name, same parent) is reused and its
seeded documents are not added again, so restarting with the same seed is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .accounts import (
    ACCOUNTS_DB,
    create_account,
    live_accounts,
    normalize_account_name,
    set_user_credentials,
)
from .base import account_db
from .calls import parse_script
from .request import HTTPInput
from .util import gregorian, new_id

if TYPE_CHECKING:
    from .api import Crossbar

_TOP_KEYS = {"accounts", "global_resources", "callers", "default_caller", "fixtures"}
_ACCOUNT_KEYS = {
    "name", "id", "realm", "api_key", "superduper_admin", "users", "resources", "callflows",
    "clicktocall", "accounts", "language", "timezone",
}


class SeedError(ValueError):
    """The seed file asks for something the fake would refuse; the message says what."""


def load_seed_file(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise SeedError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SeedError(f"{path}{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed file is a mapping (accounts:, callers:, ...)")
    return data


def apply_seed(cb: Crossbar, seed: Mapping[str, Any]) -> None:
    unknown = sorted(set(seed) - _TOP_KEYS)
    if unknown:
        raise SeedError(f"unknown seed key {unknown[0]!r}; known: {', '.join(sorted(_TOP_KEYS))}")
    if "fixtures" in seed:
        from pivotsim import Fixtures

        try:
            fixtures = dict(seed["fixtures"] or {})
            Fixtures.from_dict(fixtures)  # fail early on unknown keys
        except (TypeError, ValueError) as exc:
            raise SeedError(f"fixtures: {exc}") from None
        cb.fixtures = fixtures
    callers = seed.get("callers") or {}
    if not isinstance(callers, Mapping):
        raise SeedError("callers: a mapping of contact to caller script")
    for number, script in callers.items():  # checked in full: a bad script stops the start
        try:
            cb.callers[str(number)] = parse_script(script)
        except ValueError as exc:
            raise SeedError(f"callers[{number!r}]: {exc}") from None
    if seed.get("default_caller") is not None:
        try:
            cb.default_caller = parse_script(seed["default_caller"])
        except ValueError as exc:
            raise SeedError(f"default_caller: {exc}") from None
    accounts = seed.get("accounts") or []
    if not isinstance(accounts, list):
        raise SeedError("accounts: a list of accounts")
    # Kazoo has one master account: the first seeded account becomes it, unless there is one
    # already (a restart with --state, or a second seed), whose sub-accounts the others become.
    master_id = cb.master_account_id()
    master = cb.store.get(ACCOUNTS_DB, master_id) if master_id else None
    for spec in accounts:
        name = spec.get("name") if isinstance(spec, Mapping) else None
        is_master = master is None or (
            isinstance(name, str) and normalize_account_name(name) == normalize_account_name(str(master.get("name", "")))
        )
        doc = _seed_account(cb, spec, None if is_master else master, default_admin=master is None)
        if master is None:
            master = doc
    for i, res in enumerate(seed.get("global_resources") or []):
        if master is None or not master.get("pvt_superduper_admin"):
            raise SeedError("global_resources need a super-duper admin master account")
        _put(cb, master["_id"], "/v2/resources", res, f"global_resources[{i}]")


def _seed_account(cb: Crossbar, spec: Any, parent: dict[str, Any] | None, *, default_admin: bool) -> dict[str, Any]:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise SeedError(f"each account needs a name: {spec!r}")
    unknown = sorted(set(spec) - _ACCOUNT_KEYS)
    if unknown:
        raise SeedError(f"account {spec['name']!r}: unknown key {unknown[0]!r}")
    name = spec["name"]
    existing = _find_existing(cb, name, parent, spec.get("id"))
    if existing is not None:
        account = existing
        fresh = False
    else:
        extra = {k: spec[k] for k in ("language", "timezone") if k in spec}
        account = create_account(
            cb,
            name,
            parent=parent,
            realm=spec.get("realm"),
            account_id=spec.get("id"),
            api_key=spec.get("api_key"),
            superduper_admin=bool(spec.get("superduper_admin", default_admin)),
            extra=extra,
        )
        fresh = True
    for user in spec.get("users") or []:
        add_user(cb, account["_id"], user)
    if fresh:
        for noun in ("resources", "callflows", "clicktocall"):
            for i, doc in enumerate(spec.get(noun) or []):
                _put(cb, account["_id"], f"/v2/accounts/{account['_id']}/{noun}", doc, f"{name}.{noun}[{i}]")
    for child in spec.get("accounts") or []:
        _seed_account(cb, child, account, default_admin=False)
    return account


def _find_existing(cb: Crossbar, name: str, parent: dict[str, Any] | None, wanted_id: Any) -> dict[str, Any] | None:
    if isinstance(wanted_id, str):
        doc = cb.account(wanted_id)
        return cb.store.get(ACCOUNTS_DB, wanted_id) if doc else None
    tree = [*parent.get("pvt_tree", []), parent["_id"]] if parent else []
    norm = normalize_account_name(name)
    for acct in live_accounts(cb):
        if normalize_account_name(str(acct.get("name", ""))) == norm and acct.get("pvt_tree", []) == tree:
            return acct
    return None


def add_user(cb: Crossbar, account_id: str, spec: Any) -> dict[str, Any]:
    """A login for ``user_auth``: ``{"username": ..., "password": ...}`` plus optional fields."""
    if isinstance(spec, str):
        username, _, password = spec.partition(":")
        spec = {"username": username, "password": password}
    if not isinstance(spec, Mapping) or not spec.get("username") or "password" not in spec:
        raise SeedError(f"a user needs username and password: {spec!r}")
    username = str(spec["username"]).lower()
    db = account_db(account_id)
    for other in cb.store.of_type(db, "user"):
        if other.get("username") == username and not other.get("pvt_deleted"):
            # The user exists (a restart with --state): the password given now is the intent,
            # so `--user john:newpw` logs in with newpw, not silently with the old one.
            updated = dict(other)
            set_user_credentials(updated, str(spec["password"]))
            if (updated.get("pvt_md5_auth"), updated.get("pvt_sha1_auth")) == (
                other.get("pvt_md5_auth"),
                other.get("pvt_sha1_auth"),
            ):
                return other
            updated["pvt_modified"] = gregorian(cb.clock())
            return cb.store.save(db, updated)
    now = gregorian(cb.clock())
    doc: dict[str, Any] = {
        "_id": str(spec.get("id") or new_id()),
        "username": username,
        "first_name": str(spec.get("first_name", username)),
        "last_name": str(spec.get("last_name", "pivotsim")),
        "priv_level": str(spec.get("priv_level", "admin")),
        "enabled": bool(spec.get("enabled", True)),
        "pvt_type": "user",
        "pvt_vsn": "1",
        "pvt_account_id": account_id,
        "pvt_account_db": db,
        "pvt_created": now,
        "pvt_modified": now,
    }
    for key in ("email",):
        if key in spec:
            doc[key] = spec[key]
    set_user_credentials(doc, str(spec["password"]))
    return cb.store.save(db, doc)


def _put(cb: Crossbar, account_id: str, path: str, doc: Any, where: str) -> dict[str, Any]:
    """Create one document through the real pipeline; a refusal is a SeedError with Kazoo's answer."""
    if not isinstance(doc, Mapping):
        raise SeedError(f"{where}: a document is a mapping")
    body = dict(doc)
    wanted_id = body.pop("id", None)
    token = cb.tokens.issue({"account_id": account_id, "method": "pivotsim_seed"})
    reply = cb.handle(
        HTTPInput(
            "PUT",
            path,
            headers={"content-type": "application/json", "x-auth-token": token},
            body=json.dumps({"data": body}).encode(),
        )
    )
    answer = reply.json() or {}
    if reply.status != 201:
        raise SeedError(f"{where}: Kazoo would refuse it: {reply.status} {answer.get('message')} {json.dumps(answer.get('data'))}")
    created = answer["data"]
    if isinstance(wanted_id, str) and wanted_id != created["id"]:
        db = "offnet" if path == "/v2/resources" else account_db(account_id)
        stored = cb.store.get(db, created["id"])
        assert stored is not None
        cb.store.delete(db, created["id"])
        stored["_id"] = wanted_id
        stored.pop("_rev", None)
        cb.store.save(db, stored)
        created["id"] = wanted_id
    return dict(created)
