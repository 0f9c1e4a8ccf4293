"""cb_clicktocall: CRUD, ``connect`` (GET or POST) and ``history``.

``connect`` skips authentication when the document says ``auth_required: false``; the
contact comes from ``data``, the query string or the envelope, is URL-encoded and then
normalised as Kazoo does, and must match the whitelist (unanchored). Non-blocking
answers the originate request; ``blocking: true`` answers the history item.
"""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any

from . import envelope, errors, listing
from .base import GET, POST, DocEndpoint, Route
from .calls import PlannedCall, parse_script, place_safely
from .envelope import Reply
from .request import RequestContext
from .util import normalize_contact, public_fields, regex_search, to_bool
from .validation import CLICKTOCALL, check

if TYPE_CHECKING:
    from .api import Crossbar

#: Query-string keys that are Crossbar's own, not custom application variables.
RESERVED_QS = frozenset(
    {"auth_token", "verb", "accept", "pretty_print", "jsonp", "blocking", "auto_answer", "pivotsim_caller"}
)


class Clicktocall(DocEndpoint):
    name = "clicktocall"
    pvt_type = "click2call"

    def validate(
        self, cb: Crossbar, ctx: RequestContext, route: Route, data: dict[str, Any], doc_id: str | None
    ) -> dict[str, Any]:
        doc, errs = check(CLICKTOCALL, data)
        errs.raise_if_any()
        return doc

    def list_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc["_id"]}
        for key in ("name", "extension"):
            if key in doc:
                row[key] = doc[key]
        return row

    def sub_methods(self, args: list[str]) -> list[str] | None:
        if len(args) == 2 and args[1] == "connect":
            return [GET, POST]
        if len(args) == 2 and args[1] == "history":
            return [GET]
        return None

    def is_public(self, cb: Crossbar, ctx: RequestContext, route: Route) -> bool:
        """``connect`` on a document with ``auth_required: false`` needs no token."""
        if len(route.args) != 2 or route.args[1] != "connect" or route.account_id is None:
            return False
        doc = cb.store.peek(self.db(cb, route), route.args[0])
        return (
            doc is not None
            and doc.get("pvt_type") == self.pvt_type
            and not doc.get("pvt_deleted")
            and doc.get("auth_required") is False
        )

    def handle_sub(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        if route.args[1] == "history":
            return self.history(cb, ctx, route)
        return self.connect(cb, ctx, route)

    # -- history ----------------------------------------------------------------------

    def history(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        c2c_id = route.args[0]
        self.load(cb, route, c2c_id)
        frm, to = listing.time_range(ctx)
        keep = listing.build_filter(ctx.query, time_keys=False)
        rows = []
        for doc in cb.store.of_type(self.db(cb, route), "c2c_history"):
            if doc.get("clicktocall_id") != c2c_id or not frm <= doc.get("pvt_created", 0) <= to:
                continue
            if keep is not None and not keep(doc):
                continue
            row = public_fields(doc)
            row.pop("clicktocall_id", None)
            rows.append(([doc.get("pvt_created", 0), doc["_id"]], row))
        page, extra = listing.paginate(ctx, rows)
        return envelope.success(ctx, page, extra=extra, etag_list=True)

    # -- connect ----------------------------------------------------------------------

    def connect(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        assert route.account_id is not None and route.account is not None
        c2c = self.load(cb, route, route.args[0])
        raw = ctx.req_value("contact")
        if isinstance(raw, bool) or raw is None or raw == "" or isinstance(raw, (dict, list)):
            raise errors.single_validation(
                "contact",
                "required",
                {"message": "The contact extension for this click to call has not been set"},
            )
        contact_raw = str(raw)
        contact = normalize_contact(contact_raw)
        whitelist = c2c.get("whitelist")
        if (
            isinstance(whitelist, list)
            and whitelist
            and not any(isinstance(r, str) and regex_search(r, contact) for r in whitelist)
        ):
            raise errors.bad_request("Contact doesn't match whitelist", contact)
        warnings: list[tuple[str, str]] = []
        blocking_raw = ctx.req_value("blocking")
        blocking = to_bool(blocking_raw) is True
        if blocking_raw is not None and not isinstance(blocking_raw, bool):
            # Kazoo has no clause for a non-boolean here and crashes (a 500); pivotsim carries on.
            warnings.append(
                ("X-Pivotsim-Warning", "Kazoo would answer 500: blocking must be a JSON boolean in the body")
            )
        given = ctx.req_value("pivotsim_caller")
        if given is not None:
            source, chosen = "pivotsim_caller", given
        else:
            source, chosen = cb.caller_for(contact, contact_raw)
            if source == "none" and cb.callers:
                warnings.append(("X-Pivotsim-Warning", f"no caller script for contact {contact}: it answers silently"))
        try:
            script = parse_script(chosen)
        except ValueError as exc:
            raise errors.single_validation("pivotsim_caller", "invalid", {"message": str(exc)}) from None
        auto_answer = to_bool(ctx.query.get("auto_answer"))
        cavs = {
            k: v for k, v in ctx.query.items() if k not in RESERVED_QS and isinstance(v, str)
        }
        data_cavs = ctx.data.get("custom_application_vars") if isinstance(ctx.data, dict) else None
        if isinstance(data_cavs, dict):
            cavs.update(data_cavs)
        call_id = f"c2c-{c2c['_id']}-{secrets.token_hex(5)}"
        realm = str(route.account.get("realm", ""))
        plan = PlannedCall(
            account_id=route.account_id,
            realm=realm,
            c2c=c2c,
            contact=contact,
            contact_raw=contact_raw,
            call_id=call_id,
            cavs=cavs,
            script=script,
            created=ctx.now,
            script_source=source,
        )
        if blocking:
            with cb.unlocked():
                history = place_safely(cb, plan)
            return envelope.success(ctx, public_fields(history), headers=warnings)
        originate = originate_request(plan, auto_answer is not False)
        if cb.background_calls:
            thread = threading.Thread(target=cb.place_quietly, args=(plan,), name=f"pivotsim-{call_id}", daemon=True)
            cb.track(thread)
            thread.start()
        else:
            with cb.unlocked():
                cb.place_quietly(plan)
        return envelope.success(ctx, originate, headers=warnings)


def originate_request(plan: PlannedCall, auto_answer: bool) -> dict[str, Any]:
    """The originate request Kazoo publishes (and answers), AMQP headers removed."""
    c2c = plan.c2c
    extension = str(c2c.get("extension", ""))
    dial_first = c2c.get("dial_first") if c2c.get("dial_first") in ("extension", "contact") else "extension"
    first, second = (extension, plan.contact) if dial_first == "extension" else (plan.contact, extension)
    number = c2c.get("caller_id_number") if isinstance(c2c.get("caller_id_number"), str) else None
    raw_media = c2c.get("media")
    media: dict[str, Any] = raw_media if isinstance(raw_media, dict) else {}
    realm = plan.realm
    out: dict[str, Any] = {
        "application_name": "transfer",
        "application_data": {"route": second},
        "call_id": plan.call_id,
        "outbound_call_id": plan.call_id,
        "origination_call_id": plan.call_id,
        "endpoints": [{"invite_format": "loopback", "route": first, "to_did": first, "to_realm": realm}],
        "timeout": c2c.get("timeout") if isinstance(c2c.get("timeout"), int) else 30,
        "ignore_early_media": media.get("ignore_early_media", True),
        "dial_endpoint_method": "single",
        "continue_on_fail": True,
        "outbound_caller_id_name": str(c2c.get("name", "")),
        "outbound_caller_id_number": number or plan.contact_raw,
        "outbound_callee_id_name": c2c.get("outbound_callee_id_name") or first,
        "outbound_callee_id_number": c2c.get("outbound_callee_id_number") or first,
        "custom_channel_vars": {
            "account_id": plan.account_id,
            "auto_answer_loopback": auto_answer,
            "authorizing_id": c2c["_id"],
            "authorizing_type": "clicktocall",
            "loopback_request_uri": f"{first}@{realm}",
            "from_uri": f"{second}@{realm}",
            "request_uri": f"{first}@{realm}",
            "inherit_codec": False,
            "retain_cid": True,
        },
        "custom_application_vars": dict(plan.cavs),
        "export_custom_channel_vars": [
            "Account-ID",
            "Authorizing-ID",
            "Authorizing-Type",
            "Loopback-Request-URI",
            "From-URI",
            "Request-URI",
        ],
        "simplify_loopback": False,
        "loopback_bowout": False,
        "start_control_process": False,
    }
    for key in ("bypass_media", "presence_id", "ringback", "custom_sip_headers"):
        if key in c2c:
            out[key] = c2c[key]
    moh = c2c.get("music_on_hold")
    if isinstance(moh, dict) and isinstance(moh.get("media_id"), str):
        out["hold_media"] = moh["media_id"]
    return out
