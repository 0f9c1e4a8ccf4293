"""cb_callflows: numbers normalised and unique per account, patterns, the ``flow`` validated.

The pipeline is cb_callflows validate_request: a non-list ``numbers`` or ``patterns``
stops at once; no number and no pattern stops at once; then the schema (the ``flow``
node through pivotsim's FlowValidator, with the localhost ``voice_url`` rejection when
the blacklist is on); only a valid document is checked for numbers and patterns used
by other callflows of the account, and for E.164 numbers owned by another account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .base import DocEndpoint, Route, account_db
from .errors import ValidationErrors
from .request import RequestContext
from .util import get_in, json_copy, normalize_number, regex_search
from .validation import CALLFLOW, check, fix_type

if TYPE_CHECKING:
    from .api import Crossbar


def _ne(value: Any) -> Any:
    """kz_json:get_ne_value with a default of []: empty strings, lists and objects count as absent."""
    return [] if value is None or value == "" or value == [] or value == {} else value


class Callflows(DocEndpoint):
    name = "callflows"
    pvt_type = "callflow"

    def validate(
        self, cb: Crossbar, ctx: RequestContext, route: Route, data: dict[str, Any], doc_id: str | None
    ) -> dict[str, Any]:
        numbers = _ne(data.get("numbers"))
        if numbers != []:
            if not isinstance(numbers, list):
                raise errors.single_validation(
                    "numbers", "type", {"message": "Value did not match type: array", "cause": numbers}
                )
            data = {**data, "numbers": [normalize_number(n) if isinstance(n, str) else n for n in numbers]}
        else:
            patterns = _ne(data.get("patterns"))
            if patterns == []:
                raise errors.single_validation(
                    "numbers",
                    "required",
                    {"message": "Callflows must be assigned at least one number or pattern"},
                )
            if not isinstance(patterns, list):
                raise errors.single_validation(
                    "patterns", "type", {"message": "Value did not match type: array", "cause": patterns}
                )
        doc, errs = check(CALLFLOW, data)
        if "flow" in data:
            node, flow_errors = validate_flow(cb, data["flow"])
            if flow_errors:
                errs.update(flow_errors)
            elif node is not None:
                doc["flow"] = node
        errs.raise_if_any()
        assert route.account_id is not None
        self._check_unique(cb, route.account_id, doc, doc_id)
        self._check_ownership(cb, route.account_id, doc)
        return doc

    def _check_unique(self, cb: Crossbar, account_id: str, doc: dict[str, Any], doc_id: str | None) -> None:
        errs = ValidationErrors()
        numbers = [n for n in doc.get("numbers", []) if isinstance(n, str)]
        patterns = [p for p in doc.get("patterns", []) if isinstance(p, str)]
        others = sorted(
            (d for d in cb.store.of_type(account_db(account_id), "callflow") if not d.get("pvt_deleted") and d["_id"] != doc_id),
            key=lambda d: d["_id"],
        )
        for word, mine, key in (("Number", numbers, "numbers"), ("Pattern", patterns, "patterns")):
            for item in mine:
                for other in others:
                    theirs = other.get(key) or []
                    if isinstance(theirs, list) and item in theirs:
                        label = other.get("name") if isinstance(other.get("name"), str) and other.get("name") else other["_id"]
                        errs.add(
                            (key,),
                            "unique",
                            {"message": f"{word} {item} exists in callflow {other['_id']} {label}", "cause": item},
                        )
        errs.raise_if_any()

    def _check_ownership(self, cb: Crossbar, account_id: str, doc: dict[str, Any]) -> None:
        """An E.164 number already routed by another account is that account's: 403 (number ownership)."""
        for number in doc.get("numbers", []):
            if not isinstance(number, str) or not number.startswith("+"):
                continue
            owner = cb.number_owner(number)
            if owner is not None and owner != account_id:
                raise errors.forbidden(f"unauthorized to use {number}")

    def list_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc["_id"]}
        for key in ("name", "type"):
            if key in doc:
                row[key] = doc[key]
        row["numbers"] = doc.get("numbers", [])
        row["patterns"] = doc.get("patterns", [])
        row["featurecode"] = doc.get("featurecode") or False
        for key in ("owner_id", "group_id"):
            if key in doc:
                row[key] = doc[key]
        row["modules"] = modules_in(doc.get("flow"))
        row["flags"] = doc.get("flags", [])
        return row

    def on_read(self, cb: Crossbar, route: Route, doc: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        out["metadata"] = self._metadata(cb, route, doc.get("flow"))
        return out

    def _metadata(self, cb: Crossbar, route: Route, flow: Any) -> dict[str, Any]:
        """For each ``id``/``*_id`` in a node's data, and each branch key: the referenced doc's summary."""
        meta: dict[str, Any] = {}
        db = self.db(cb, route)

        def visit(node: Any) -> None:
            if not isinstance(node, dict):
                return
            data = node.get("data")
            refs: list[str] = []
            if isinstance(data, dict):
                for key, value in data.items():
                    if isinstance(value, str) and value and (key == "id" or "_id" in key):
                        refs.append(value)
            children = node.get("children")
            if isinstance(children, dict):
                refs.extend(str(k) for k in children)
            for ref in refs:
                target = cb.store.peek(db, ref)
                if target is not None and not target.get("pvt_deleted"):
                    meta[ref] = {k: target[k] for k in ("name", "numbers", "pvt_type") if k in target}
            if isinstance(children, dict):
                for child in children.values():
                    visit(child)

        visit(flow)
        return meta


#: Schema types whose string values Kazoo converts before validating again (fix_js_types).
_FIXABLE = frozenset({"integer", "number", "boolean"})


def validate_flow(cb: Crossbar, flow: Any) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """The ``flow`` node through the engine's validator, as Crossbar validates a stored callflow.

    Two things differ from validating a Pivot reply, and are done here so the engine's
    reply validation stays strict (a reply with ``"486"`` as a code is dead air):
    strings such as ``"3000"`` or ``"true"`` where the schema wants an integer, number or
    boolean are converted and the node validated again (crossbar-facts 1.8,
    cb_context maybe_fix_js_types, which sees ``flow.data...`` errors like any other);
    and a ``required`` error's ``value`` is the parent object, not the field's name (1.8).
    Returns the defaulted node and the flat errors (keys under ``flow``).
    """
    from pivotsim._schemas import crossbar_errors

    work = json_copy(flow)
    for _ in range(8):  # each pass fixes every convertible error found; nesting needs few
        result = cb.flow_validator.validate_node(work)
        fixed = False
        for issue in result.errors:
            if issue.keyword == "type" and isinstance(issue.target, str) and issue.target in _FIXABLE:
                ok, value = fix_type(issue.value, issue.target)
                if ok and _set_in(work, issue.path, value):
                    fixed = True
        if not fixed:
            break
    if not result.errors:
        return result.node, {}
    out = crossbar_errors(result.errors, prefix="flow")
    for issue in result.errors:
        if issue.keyword == "required" and issue.path:
            key = ".".join(["flow", *(part.replace(".", "%2E") for part in issue.path)])
            detail = out.get(key, {}).get("required")
            if isinstance(detail, dict):
                parent = get_in(work, issue.path[:-1])
                detail["value"] = parent if isinstance(parent, dict) else {}
    return None, out


def _set_in(node: Any, path: tuple[str, ...], value: Any) -> bool:
    if not path:
        return False
    parent = get_in(node, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        parent[last] = value
        return True
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent[int(last)] = value
        return True
    return False


def modules_in(flow: Any) -> list[str]:
    """Unique module names in the tree, skipping nodes whose data has ``skip_module: true``."""
    out: list[str] = []

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        data = node.get("data")
        module = node.get("module")
        skipped = isinstance(data, dict) and data.get("skip_module") is True
        if isinstance(module, str) and not skipped and module not in out:
            out.append(module)
        children = node.get("children")
        if isinstance(children, dict):
            for child in children.values():
                visit(child)

    visit(flow)
    return out


def find_callflow(cb: Crossbar, account_id: str, number: str) -> dict[str, Any] | None:
    """The callflow that routes ``number``: an exact number first, then a matching pattern."""
    docs = sorted(
        (d for d in cb.store.of_type(account_db(account_id), "callflow") if not d.get("pvt_deleted")),
        key=lambda d: d["_id"],
    )
    wanted = {number, normalize_number(number)}
    for doc in docs:
        nums = doc.get("numbers") or []
        if isinstance(nums, list) and wanted.intersection(n for n in nums if isinstance(n, str)):
            return doc
    for doc in docs:
        pats = doc.get("patterns") or []
        if isinstance(pats, list) and any(isinstance(p, str) and regex_search(p, number) for p in pats):
            return doc
    return None
