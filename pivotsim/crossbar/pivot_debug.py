"""cb_pivot's debug listing, and pivotsim's read-only call transcripts.

``GET /accounts/{A}/pivot/debug`` lists one row per call (its first-iteration request
and response merged); ``/pivot/debug/{CALL_ID}`` or ``/{YYYYMM-CALL_ID}`` returns the
raw debug documents. ``/accounts/{A}/pivotsim/calls[/{CALL_ID}]`` is pivotsim's own
path: the transcript of every call placed by ``connect``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import envelope, errors, listing
from .base import GET, Endpoint, Route, account_db
from .envelope import NODE, Reply
from .request import RequestContext
from .util import gregorian, public_fields

if TYPE_CHECKING:
    from .api import Crossbar

_MODB_ID = re.compile(r"^(\d{6})-(.+)$")
MONTH = 31 * 86400


def _debug_doc(doc: dict[str, Any]) -> dict[str, Any]:
    out = public_fields(doc)
    out["created"] = doc.get("pvt_created")
    out["node"] = doc.get("pvt_node", NODE)
    out["debug_id"] = f"{doc.get('pvt_modb', '')}-{doc.get('call_id', '')}"
    return out


class PivotDebug(Endpoint):
    name = "pivot"

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        args = route.args
        if args and args[0] == "debug" and len(args) <= 2:
            return [GET]
        return []

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        assert route.account_id is not None
        docs = cb.store.of_type(account_db(route.account_id), "pivot_debug")
        if len(route.args) == 2:
            return self._read(ctx, docs, route.args[1])
        return self._list(ctx, docs)

    def _list(self, ctx: RequestContext, docs: list[dict[str, Any]]) -> Reply:
        frm, to = listing.time_range(ctx)
        calls: dict[str, dict[str, Any]] = {}
        for doc in sorted(docs, key=lambda d: (d.get("pvt_created", 0), d.get("pvt_seq", 0))):
            if doc.get("iteration") != 1 or not frm <= doc.get("pvt_created", 0) <= to:
                continue
            call_id = str(doc.get("call_id", ""))
            row = calls.get(call_id)
            if row is None:
                row = calls[call_id] = {
                    "call_id": call_id,
                    "created": doc.get("pvt_created"),
                    "node": doc.get("pvt_node", NODE),
                    "iteration": 1,
                    "has_schema_errors": False,
                    "has_json_errors": False,
                    "debug_id": f"{doc.get('pvt_modb', '')}-{call_id}",
                }
            if "uri" in doc and "uri" not in row:
                row["uri"] = doc["uri"]
            if "resp_status_code" in doc and "status_code" not in row:
                row["status_code"] = doc["resp_status_code"]
            row["has_schema_errors"] = row["has_schema_errors"] or "schema_errors" in doc
            row["has_json_errors"] = row["has_json_errors"] or "json_errors" in doc
        rows = [([r["created"], r["call_id"]], r) for r in calls.values()]
        page, extra = listing.paginate(ctx, rows)
        return envelope.success(ctx, page, extra=extra, etag_list=True)

    def _read(self, ctx: RequestContext, docs: list[dict[str, Any]], wanted: str) -> Reply:
        m = _MODB_ID.match(wanted)
        if m:
            modb, call_id = m.group(1), m.group(2)
            found = [d for d in docs if d.get("call_id") == call_id and d.get("pvt_modb") == modb]
            reverse = True
        else:
            since = gregorian(ctx.now) - MONTH
            found = [d for d in docs if d.get("call_id") == wanted and d.get("pvt_created", 0) >= since]
            reverse = False
        found.sort(key=lambda d: (d.get("pvt_created", 0), d.get("pvt_seq", 0)), reverse=reverse)
        return envelope.success(ctx, [_debug_doc(d) for d in found], etag_list=True)


class Transcripts(Endpoint):
    """pivotsim-specific and read-only: ``GET /v2/accounts/{A}/pivotsim/calls[/{CALL_ID}]``."""

    name = "pivotsim"

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        args = route.args
        if args and args[0] == "calls" and len(args) <= 2:
            return [GET]
        return []

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        assert route.account_id is not None
        db = account_db(route.account_id)
        if len(route.args) == 2:
            doc = cb.store.get(db, route.args[1])
            if doc is None or doc.get("pvt_type") != "pivotsim_call":
                raise errors.bad_identifier(route.args[1])
            return envelope.success(ctx, doc["transcript"], revision=doc.get("_rev"))
        keep = listing.build_filter(ctx.query)
        rows = []
        for doc in cb.store.of_type(db, "pivotsim_call"):
            if keep is not None and not keep(doc):
                continue
            row = {k: v for k, v in public_fields(doc).items() if k != "transcript"}
            row["created"] = doc.get("pvt_created")
            rows.append(([doc.get("pvt_created", 0), doc["_id"]], row))
        page, extra = listing.paginate(ctx, rows)
        return envelope.success(ctx, page, extra=extra, etag_list=True)
