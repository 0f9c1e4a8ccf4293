"""cb_resources: carrier gateways, account-local (``/accounts/{A}/resources``) or global.

Global resources (``/v2/resources``) live in the ``offnet`` database and need a
super-duper-admin token. Both kinds answer ``/collection`` for bulk PUT/POST. The
``rules`` are what ``connect`` uses to decide whether a contact can be reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import envelope, errors
from .base import POST, PUT, DocEndpoint, Route
from .envelope import Reply
from .errors import CrossbarError
from .request import RequestContext
from .util import new_id, public_fields, regex_search, strip_private
from .validation import RESOURCE, check

if TYPE_CHECKING:
    from .api import Crossbar

OFFNET_DB = "offnet"


class Resources(DocEndpoint):
    name = "resources"
    pvt_type = "resource"
    shallow_patch = True  # cb_resources validate_patch: kz_json:merge_jobjs, one level
    top_level = True

    def db(self, cb: Crossbar, route: Route) -> str:
        return OFFNET_DB if route.account_id is None else super().db(cb, route)

    def location(self, route: Route, doc_id: str) -> str:
        if route.account_id is None:
            return f"/v2/resources/{doc_id}"
        return super().location(route, doc_id)

    def authorize(self, cb: Crossbar, ctx: RequestContext, route: Route) -> None:
        if route.account_id is None and not cb.is_superduper(ctx):
            raise errors.forbidden()

    def validate(
        self, cb: Crossbar, ctx: RequestContext, route: Route, data: dict[str, Any], doc_id: str | None
    ) -> dict[str, Any]:
        doc, errs = check(RESOURCE, data)
        errs.raise_if_any()
        return doc

    def list_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc["_id"]}
        for key in ("name", "enabled", "weight_cost", "template_name", "classifiers"):
            if key in doc:
                row[key] = doc[key]
        return row

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        if route.args == ["collection"]:
            return [PUT, POST]
        return super().methods(cb, ctx, route)

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        if route.args == ["collection"]:
            return self.collection(cb, ctx, route)
        return super().handle(cb, ctx, route)

    def collection(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        """Bulk create (PUT) or replace (POST): ``{"success": {id: doc}, "errors": {id: error}}``."""
        items = ctx.data
        if not isinstance(items, list):
            raise errors.single_validation(
                "data", "type", {"message": "Value did not match type(s): array", "target": "array", "value": items}
            )
        success: dict[str, Any] = {}
        failed: dict[str, Any] = {}
        db = self.db(cb, route)
        for index, item in enumerate(items):
            key = str(item.get("id")) if isinstance(item, dict) and item.get("id") else str(index)
            try:
                if not isinstance(item, dict):
                    raise errors.single_validation(
                        "data", "type", {"message": "Value did not match type(s): object", "target": "object", "value": item}
                    )
                data = strip_private(item)
                doc_id = data.pop("id", None)
                if ctx.verb == POST:
                    if not isinstance(doc_id, str):
                        raise errors.single_validation("id", "required", {"message": "Field is required but missing", "value": item})
                    doc = self.validate(cb, ctx, route, data, doc_id)
                    stored = self.load(cb, route, doc_id)
                    doc.update({k: v for k, v in stored.items() if k[:1] == "_" or k[:4] == "pvt_"})
                    self.stamp(cb, ctx, route, doc, created=False)
                else:
                    doc = self.validate(cb, ctx, route, data, None)
                    doc["_id"] = new_id()
                    self.stamp(cb, ctx, route, doc, created=True)
                saved = cb.store.save(db, doc)
                success[saved["_id"]] = public_fields(saved)
            except CrossbarError as exc:
                failed[key] = {"error": str(exc.code), "message": exc.message, "data": exc.data}
        return envelope.success(ctx, {"success": success, "errors": failed})


def routable(cb: Crossbar, account_id: str, number: str) -> dict[str, Any] | None:
    """The first enabled resource whose ``rules`` match ``number``: local first, then global."""
    candidates: list[dict[str, Any]] = []
    for db in (f"account/{account_id}", OFFNET_DB):
        docs = [
            d
            for d in cb.store.of_type(db, "resource")
            if not d.get("pvt_deleted") and d.get("enabled", True) is not False
        ]
        docs.sort(key=lambda d: (d.get("weight_cost", 50) if isinstance(d.get("weight_cost"), int) else 50, d["_id"]))
        candidates.extend(docs)
    for doc in candidates:
        rules = doc.get("rules") or []
        if isinstance(rules, list) and any(isinstance(r, str) and regex_search(r, number) for r in rules):
            return doc
    return None
