"""TwiML documents as Kazoo's xmerl sees them, parsed without xmerl's risks.

xmerl keeps names exactly as written (no namespace processing), keeps
whitespace-only text, marks CDATA sections apart from text, and stops at the
end of the root element. This parser does the same on top of expat, and it
refuses what no test server should send: entity declarations (billion laughs),
external DTDs and entities, and documents too big or too deep.
"""

from __future__ import annotations

import xml.parsers.expat as expat
from dataclasses import dataclass, field

from ._urls import texts_trim

__all__ = ["Element", "Text", "parse", "MAX_BYTES", "MAX_DEPTH", "MAX_ELEMENTS"]

MAX_BYTES = 1_048_576  # a TwiML document over 1 MiB is refused
MAX_DEPTH = 64
MAX_ELEMENTS = 10_000

_JUNK = expat.errors.codes[expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT]
_MISPLACED_DECL = expat.errors.codes[expat.errors.XML_ERROR_MISPLACED_XML_PI]


@dataclass
class Text:
    value: str
    cdata: bool = False


@dataclass
class Element:
    """One element, with its children (elements and text nodes) in document order."""

    tag: str
    attrs: dict[str, str]
    line: int
    col: int
    children: list[Element | Text] = field(default_factory=list)
    trailing: str = ""  # root only: content after the root element that xmerl left unread

    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]

    def raw_text(self) -> str:
        """The direct text children (not CDATA), concatenated, untrimmed."""
        return "".join(c.value for c in self.children if isinstance(c, Text) and not c.cdata)

    def text(self) -> str:
        """kz_xml:texts_to_binary: direct text only, trimmed of spaces and newlines."""
        return texts_trim(self.raw_text())

    def has_cdata(self) -> bool:
        return any(isinstance(c, Text) and c.cdata and c.value for c in self.children)

    def outline(self) -> str:
        """``<Say voice="woman">`` for messages."""
        attrs = "".join(f' {k}="{v}"' for k, v in self.attrs.items())
        return f"<{self.tag}{attrs}>"


class _Refused(Exception):
    pass


class _Builder:
    def __init__(self, parser: expat.XMLParserType) -> None:
        self.p = parser
        self.stack: list[Element] = []
        self.root: Element | None = None
        self.count = 0
        self.in_cdata = False
        self.buf: list[str] = []

    def _flush(self) -> None:
        if self.buf and self.stack:
            self.stack[-1].children.append(Text("".join(self.buf), self.in_cdata))
        self.buf = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self._flush()
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _Refused(f"it has more than {MAX_ELEMENTS} elements")
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(f"it nests elements more than {MAX_DEPTH} deep")
        el = Element(name, dict(attrs), self.p.CurrentLineNumber, self.p.CurrentColumnNumber + 1)
        if self.stack:
            self.stack[-1].children.append(el)
        else:
            self.root = el
        self.stack.append(el)

    def end(self, name: str) -> None:
        self._flush()
        self.stack.pop()

    def chars(self, data: str) -> None:
        self.buf.append(data)

    def cdata_start(self) -> None:
        self._flush()
        self.in_cdata = True

    def cdata_end(self) -> None:
        self._flush()
        self.in_cdata = False

    def doctype(
        self, name: str, system_id: str | None, public_id: str | None, internal: int
    ) -> None:
        if system_id or public_id:
            raise _Refused(
                f"it declares an external DTD ({system_id or public_id}); pivotsim never fetches "
                "external DTDs or entities (Kazoo's xmerl might)"
            )

    def entity(self, name: str, *args: object) -> None:
        raise _Refused(
            f"it declares the entity {name!r}; pivotsim refuses entity declarations so a document "
            "cannot expand into gigabytes (billion laughs) or read files (external entities)"
        )

    def external_ref(self, *args: object) -> int:
        raise _Refused("it references an external entity, which pivotsim never resolves")


def parse(text: str) -> tuple[Element | None, str]:
    """``(root, "")`` or ``(None, why)``. ``root.trailing`` holds ignored trailing content."""
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        return None, (
            f"pivotsim refuses the document: it is {len(data)} bytes, over its {MAX_BYTES}-byte "
            "limit for TwiML"
        )
    parser = expat.ParserCreate(encoding="utf-8")
    b = _Builder(parser)
    parser.StartElementHandler = b.start
    parser.EndElementHandler = b.end
    parser.CharacterDataHandler = b.chars
    parser.StartCdataSectionHandler = b.cdata_start
    parser.EndCdataSectionHandler = b.cdata_end
    parser.StartDoctypeDeclHandler = b.doctype
    parser.EntityDeclHandler = b.entity
    parser.UnparsedEntityDeclHandler = b.entity
    parser.ExternalEntityRefHandler = b.external_ref
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        return None, f"pivotsim refuses the document: {exc}"
    except expat.ExpatError as exc:
        if exc.code == _JUNK and b.root is not None and not b.stack:
            # xmerl_scan:string/1 returns the root and the unread rest: Kazoo ignores it.
            line_start = sum(len(x) + 1 for x in text.split("\n")[: exc.lineno - 1])
            b.root.trailing = text[line_start + exc.offset :]
            return b.root, ""
        where = f"line {exc.lineno}, column {exc.offset + 1}"
        msg = expat.errors.messages[exc.code]
        hint = ""
        if exc.code == _MISPLACED_DECL:
            hint = (
                " (something, often a newline from a triple-quoted string, comes before "
                "<?xml ...?>; the declaration must be the very first characters)"
            )
        return None, f"it is not well-formed XML: {msg} at {where}{hint}"
    if b.root is None:  # pragma: no cover - expat reports "no element found"
        return None, "it has no root element"
    return b.root, ""
