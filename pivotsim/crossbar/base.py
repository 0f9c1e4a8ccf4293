"""What every Crossbar module shares: the parsed route, and generic document CRUD.

A module declares which methods its path arguments allow (an empty list is Kazoo's
404 ``not_found``, a missing method its 405), whether the request may skip
authentication, and handles the request. DocEndpoint is crossbar_doc: create with
201 and ``Location``, POST as a full replace keeping private fields, PATCH as a merge
validated like a POST, DELETE as a soft delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import envelope, errors, listing
from .envelope import Reply
from .request import RequestContext
from .util import deep_merge, gregorian, new_id, public_fields, strip_private

if TYPE_CHECKING:
    from .api import Crossbar

GET, PUT, POST, PATCH, DELETE = "GET", "PUT", "POST", "PATCH", "DELETE"


@dataclass
class Route:
    """The request's nouns: the last one handles it; ``accounts`` gives the target account."""

    name: str
    args: list[str]
    account_id: str | None = None
    account: dict[str, Any] | None = None
    nouns: list[tuple[str, list[str]]] = field(default_factory=list)


def account_db(account_id: str) -> str:
    return f"account/{account_id}"


class Endpoint:
    """One Crossbar module (cb_<name>)."""

    name = ""
    #: Only meaningful under ``/accounts/{ACCOUNT_ID}/``.
    needs_account = True
    #: Also answers at the top level (``/v2/<name>``) without an account.
    top_level = False

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        return []

    def is_public(self, cb: Crossbar, ctx: RequestContext, route: Route) -> bool:
        """True when no credential is needed (user_auth, api_auth, unauthenticated connect)."""
        return False

    def authorize(self, cb: Crossbar, ctx: RequestContext, route: Route) -> None:
        """Raise 403 for module-specific rules; account-tree checks are done by the pipeline."""

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:  # pragma: no cover
        raise errors.not_found()


def require_object(ctx: RequestContext) -> dict[str, Any]:
    """Documents are JSON objects; an array or scalar ``data`` is a 400 type error."""
    if not isinstance(ctx.data, dict):
        raise errors.single_validation(
            "data",
            "type",
            {"message": "Value did not match type(s): object", "target": "object", "value": ctx.data},
        )
    return ctx.data


class DocEndpoint(Endpoint):
    """crossbar_doc CRUD over one ``pvt_type`` in the account database."""

    pvt_type = ""
    shallow_patch = False

    # -- hooks ------------------------------------------------------------------------

    def db(self, cb: Crossbar, route: Route) -> str:
        assert route.account_id is not None
        return account_db(route.account_id)

    def location(self, route: Route, doc_id: str) -> str:
        return f"/v2/accounts/{route.account_id}/{self.name}/{doc_id}"

    def validate(
        self, cb: Crossbar, ctx: RequestContext, route: Route, data: dict[str, Any], doc_id: str | None
    ) -> dict[str, Any]:
        """Return the document to store (public fields, defaults filled) or raise a 400."""
        raise NotImplementedError

    def list_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["_id"]}

    def on_read(self, cb: Crossbar, route: Route, doc: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        return out

    def on_saved(self, cb: Crossbar, route: Route, doc: dict[str, Any]) -> None:
        """After a create, update or delete (e.g. to drop a cache)."""

    def sub_methods(self, args: list[str]) -> list[str] | None:
        """Methods for paths deeper than ``/{id}``; None means none exist."""
        return None

    def handle_sub(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:  # pragma: no cover
        raise errors.not_found()

    # -- Endpoint ---------------------------------------------------------------------

    def methods(self, cb: Crossbar, ctx: RequestContext, route: Route) -> list[str]:
        args = route.args
        if not args:
            return [GET, PUT]
        if len(args) == 1:
            return [GET, POST, PATCH, DELETE]
        return self.sub_methods(args) or []

    def handle(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        args, verb = route.args, ctx.verb
        if len(args) > 1:
            return self.handle_sub(cb, ctx, route)
        if not args:
            return self.create(cb, ctx, route) if verb == PUT else self.list(cb, ctx, route)
        doc_id = args[0]
        if verb == GET:
            return self.read(cb, ctx, route, doc_id)
        if verb == POST:
            return self.update(cb, ctx, route, doc_id)
        if verb == PATCH:
            return self.patch(cb, ctx, route, doc_id)
        return self.remove(cb, ctx, route, doc_id)

    # -- helpers ----------------------------------------------------------------------

    def load(self, cb: Crossbar, route: Route, doc_id: str) -> dict[str, Any]:
        """The stored document (read-only), or 404 ``bad_identifier`` (missing, deleted or another type)."""
        doc = cb.store.peek(self.db(cb, route), doc_id)
        if doc is None or doc.get("pvt_type") != self.pvt_type or doc.get("pvt_deleted"):
            raise errors.bad_identifier(doc_id)
        return doc

    def stamp(self, cb: Crossbar, ctx: RequestContext, route: Route, doc: dict[str, Any], created: bool) -> None:
        """crossbar_doc update_pvt_parameters: the private fields every save writes."""
        now = gregorian(ctx.now)
        doc["pvt_type"] = self.pvt_type
        doc["pvt_vsn"] = "1"
        if route.account_id:
            doc["pvt_account_id"] = route.account_id
            doc["pvt_account_db"] = self.db(cb, route)
        if created or "pvt_created" not in doc:
            doc["pvt_created"] = now
        doc["pvt_modified"] = now
        doc["pvt_request_id"] = ctx.request_id
        doc["pvt_is_authenticated"] = ctx.authenticated
        if ctx.auth_account_id:
            doc["pvt_auth_account_id"] = ctx.auth_account_id
        if ctx.auth_owner_id:
            doc["pvt_auth_user_id"] = ctx.auth_owner_id
        name = doc.get("name")
        if isinstance(name, str):
            doc["pvt_alphanum_name"] = "".join(c for c in name.lower() if c.isalnum())

    def clean_input(self, ctx: RequestContext) -> dict[str, Any]:
        data = strip_private(require_object(ctx))
        data.pop("id", None)
        return data

    # -- CRUD -------------------------------------------------------------------------

    def create(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        data = self.clean_input(ctx)
        doc = self.validate(cb, ctx, route, data, None)
        doc["_id"] = new_id()
        self.stamp(cb, ctx, route, doc, created=True)
        saved = cb.store.save(self.db(cb, route), doc)
        self.on_saved(cb, route, saved)
        return envelope.success(
            ctx,
            public_fields(saved),
            status=201,
            revision=saved["_rev"],
            headers=[("Location", self.location(route, saved["_id"]))],
        )

    def read(self, cb: Crossbar, ctx: RequestContext, route: Route, doc_id: str) -> Reply:
        doc = self.load(cb, route, doc_id)
        return envelope.success(ctx, self.on_read(cb, route, doc, public_fields(doc)), revision=doc.get("_rev"))

    def _replace(
        self, cb: Crossbar, ctx: RequestContext, route: Route, doc_id: str, data: dict[str, Any], stored: dict[str, Any] | None
    ) -> Reply:
        doc = self.validate(cb, ctx, route, data, doc_id)
        if stored is None:
            stored = self.load(cb, route, doc_id)
        # Stored private fields are merged back (crossbar_doc load_merge); private fields the
        # module itself derived from the request (e.g. password hashes) are newer and win.
        private = {k: v for k, v in stored.items() if k[:1] == "_" or k[:4] == "pvt_"}
        private.pop("_read_only", None)
        merged = {**private, **doc}
        self.stamp(cb, ctx, route, merged, created=False)
        saved = cb.store.save(self.db(cb, route), merged)
        self.on_saved(cb, route, saved)
        return envelope.success(ctx, public_fields(saved), revision=saved["_rev"])

    def update(self, cb: Crossbar, ctx: RequestContext, route: Route, doc_id: str) -> Reply:
        """POST: validate first (a bad body to an unknown id is still a 400), then load and replace."""
        return self._replace(cb, ctx, route, doc_id, self.clean_input(ctx), None)

    def patch(self, cb: Crossbar, ctx: RequestContext, route: Route, doc_id: str) -> Reply:
        """PATCH: load first, merge the request over the stored public fields, validate as a POST."""
        stored = self.load(cb, route, doc_id)
        current = public_fields(stored)
        current.pop("id", None)
        current.pop("_read_only", None)
        change = self.clean_input(ctx)
        merged = {**current, **change} if self.shallow_patch else deep_merge(current, change)
        return self._replace(cb, ctx, route, doc_id, merged, stored)

    def remove(self, cb: Crossbar, ctx: RequestContext, route: Route, doc_id: str) -> Reply:
        doc = dict(self.load(cb, route, doc_id))
        doc["pvt_deleted"] = True
        doc["pvt_modified"] = gregorian(ctx.now)
        saved = cb.store.save(self.db(cb, route), doc)
        self.on_saved(cb, route, saved)
        out = public_fields(saved)
        out["_read_only"] = {"deleted": True}
        return envelope.success(ctx, out, revision=saved["_rev"])

    def live_docs(self, cb: Crossbar, route: Route) -> list[dict[str, Any]]:
        return cb.store.of_type(self.db(cb, route), self.pvt_type)

    def list(self, cb: Crossbar, ctx: RequestContext, route: Route) -> Reply:
        docs = self.live_docs(cb, route)
        keep = listing.build_filter(ctx.query)
        rows = [(d["_id"], self.list_row(d)) for d in docs if keep is None or keep(d)]
        page, extra = listing.paginate(ctx, rows)
        return envelope.success(ctx, page, extra=extra, etag_list=True)
