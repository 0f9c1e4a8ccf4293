"""Kazoo's TwiML runtime (kzt_twiml). Placeholder until the TwiML issue lands."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from ._flow import HardStop, Next

if TYPE_CHECKING:
    from ._pivot import PivotSession, Reply


def recognize(text: str) -> tuple[Any, str]:
    """``(root, "")`` when xmerl would parse a ``<Response>``, else ``(None, why)``."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None, "the document declares a DOCTYPE/entities, which pivotsim refuses to expand"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return None, f"it is not well-formed XML ({exc})"
    if root.tag != "Response":
        return None, f"its root element is <{root.tag}>, not <Response>"
    return root, ""


def run_session(session: PivotSession, reply: Reply) -> Next:
    ctx = session.ctx
    ctx.diag("error", "twiml.unsupported", "TwiML replies are not simulated yet")
    return HardStop(ctx.end("error", "TwiML not simulated yet"))
