"""The seam between the simulated Kazoo and the Pivot server under test.

The engine builds an :class:`HTTPRequest` and hands it to a transport; nothing
in the core opens a socket. Three transports ship: real HTTP through requests,
an in-process WSGI app, and a plain callable (handy for canned replies).
"""

from __future__ import annotations

import io
import json as _json
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = [
    "HTTPRequest",
    "HTTPResponse",
    "TransportError",
    "BaseTransport",
    "HTTPTransport",
    "WSGITransport",
    "CallableTransport",
    "parse_connect_to",
]

MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass
class HTTPRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout_ms: int


@dataclass
class HTTPResponse:
    status: int
    headers: dict[str, str]  # names lower-cased, as Kazoo normalises them
    body: bytes
    elapsed_ms: float = 0.0
    note: str | None = None  # e.g. "the app raised ValueError: ..."
    #: pivotsim stopped reading at its size cap: ``body`` is only the first part.
    truncated: bool = False

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class TransportError(Exception):
    """The request got no HTTP response. ``kind`` tells Kazoo's cases apart.

    Kinds: ``timeout``, ``connect`` (refused/reset), ``dns``, ``invalid_url``.
    (A body over the size cap is not an error: it comes back ``truncated``.)
    """

    def __init__(self, kind: str, message: str, elapsed_ms: float = 0.0) -> None:
        super().__init__(message)
        self.kind = kind
        self.elapsed_ms = elapsed_ms


def _caused_by(exc: BaseException, cls: type[BaseException] | tuple[type[BaseException], ...],
               depth: int = 6) -> bool:
    """Whether ``cls`` is somewhere in what requests wrapped (args, cause, context)."""
    if isinstance(exc, cls):
        return True
    if depth == 0:
        return False
    inner = [a for a in exc.args if isinstance(a, BaseException)] + [exc.__cause__, exc.__context__]
    return any(_caused_by(e, cls, depth - 1) for e in inner if e is not None)


def _capped(chunks: list[bytes], limit: int) -> bytes:
    body = b"".join(chunks)
    return body[:limit] if len(body) > limit else body


class BaseTransport:
    def handle(self, request: HTTPRequest) -> HTTPResponse:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


def parse_connect_to(specs: Iterable[str]) -> dict[tuple[str, int], tuple[str, int]]:
    """``HOST1:PORT1:HOST2:PORT2`` as in curl; an empty HOST1 or PORT1 matches any."""
    out: dict[tuple[str, int], tuple[str, int]] = {}
    for spec in specs:
        parts = spec.rsplit(":", 3) if spec.count(":") >= 3 else []
        if len(parts) != 4:
            raise ValueError(f"--connect-to wants HOST1:PORT1:HOST2:PORT2, got {spec!r}")
        h1, p1, h2, p2 = parts
        try:
            port1 = int(p1) if p1 else 0
            port2 = int(p2)
        except ValueError:
            raise ValueError(f"--connect-to ports must be numbers, got {spec!r}") from None
        if not (0 < port2 < 65536 and (not p1 or 0 < port1 < 65536)):
            raise ValueError(f"--connect-to ports must be 1-65535, got {spec!r}")
        if not h2:
            raise ValueError(f"--connect-to needs the host to connect to (HOST2), got {spec!r}")
        out[(h1.lower(), port1)] = (h2, port2)
    return out


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


def _short(exc: BaseException, kind: str) -> str:
    """requests' messages repeat the whole URL; keep the reason a person needs."""
    text = str(exc)
    found = _ERRNO.findall(text)
    if found:
        return found[-1].strip()
    if kind == "timeout":
        return "timed out"
    return text if len(text) <= 200 else text[:197] + "..."


def _default_port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        port = None
    return port or (443 if parts.scheme == "https" else 80)


class HTTPTransport(BaseTransport):
    """Real HTTP through a ``requests.Session``, sending only the headers Kazoo sends.

    ``connect_to`` sends a URL's host and port somewhere else while the request
    keeps its production URL and ``Host`` header, so replies may carry real URLs.
    Redirects are not followed here: the engine follows them with httpc's rules.
    """

    def __init__(
        self,
        *,
        connect_to: Iterable[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
        session: Any = None,
    ) -> None:
        import requests

        from ._httpc import HttpcAdapter

        self._requests = requests
        self.session = session or requests.Session()
        self.session.headers.clear()  # no User-Agent/Accept: Kazoo's httpc sends none
        self.session.trust_env = False
        adapter = HttpcAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.connect_to = parse_connect_to(connect_to)
        self.max_body_bytes = max_body_bytes

    def _route(self, url: str, headers: dict[str, str]) -> str:
        if not self.connect_to:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = _default_port(parts)
        target = self.connect_to.get((host, port)) or self.connect_to.get((host, 0))
        if target is None:
            target = self.connect_to.get(("", port)) or self.connect_to.get(("", 0))
        if target is None:
            return url
        headers.setdefault("Host", parts.netloc.rpartition("@")[2])
        return parts._replace(netloc=f"{target[0]}:{target[1]}").geturl()

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        from urllib3.exceptions import HTTPError as Urllib3Error

        from ._httpc import NO_CLIENT_HEADERS, Deadline, raw_target

        headers = {**NO_CLIENT_HEADERS, **request.headers}
        url = self._route(request.url, headers)
        timeout = request.timeout_ms / 1000.0
        start = time.perf_counter()
        deadline = Deadline(timeout, target=raw_target(request.url))
        try:
            with deadline:
                resp = self.session.request(
                    request.method,
                    url,
                    data=request.body or None,
                    headers=headers,
                    timeout=(timeout, timeout),
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    chunks: list[bytes] = []
                    size = 0
                    truncated = False
                    # httpc does not decompress: the body is the bytes on the wire.
                    for chunk in resp.raw.stream(65536, decode_content=False):
                        size += len(chunk)
                        chunks.append(chunk)
                        if size > self.max_body_bytes:
                            truncated = True
                            break
                finally:
                    resp.close()
        except Exception as exc:
            elapsed = (time.perf_counter() - start) * 1000
            if deadline.expired:  # whatever the socket said once it was shut
                raise TransportError("timeout", f"no complete reply within {request.timeout_ms} ms",
                                     elapsed) from None
            if isinstance(exc, Urllib3Error):  # a broken reply: the connection, as httpc sees it
                raise TransportError("connect", _short(exc, "connect"), elapsed) from None
            raise self._error(exc, elapsed) from None
        elapsed = (time.perf_counter() - start) * 1000
        if elapsed > request.timeout_ms:
            raise TransportError("timeout", f"no complete reply within {request.timeout_ms} ms", elapsed)
        hdrs = {k.lower(): v for k, v in resp.headers.items()}
        return HTTPResponse(resp.status_code, hdrs, _capped(chunks, self.max_body_bytes), elapsed,
                            truncated=truncated)

    def _error(self, exc: Exception, elapsed: float) -> Exception:
        """requests' failure as one of Kazoo's cases."""
        import http.client

        req = self._requests
        if _caused_by(exc, (http.client.InvalidURL, UnicodeError)):  # a space or control character
            return TransportError("invalid_url", "the URL holds a space or control character, which "
                                  "cannot go on an HTTP request line")
        if isinstance(exc, (req.exceptions.ConnectTimeout, req.exceptions.ReadTimeout)):
            return TransportError("timeout", _short(exc, "timeout"), elapsed)
        if isinstance(exc, req.exceptions.ConnectionError):
            text = str(exc)
            kind = "dns" if ("NameResolution" in text or "getaddrinfo" in text) else "connect"
            return TransportError(kind, _short(exc, kind), elapsed)
        if isinstance(exc, (req.exceptions.InvalidURL, req.exceptions.MissingSchema, req.exceptions.InvalidSchema)):
            return TransportError("invalid_url", _short(exc, "invalid_url"))
        if isinstance(exc, req.exceptions.RequestException):
            return TransportError("connect", _short(exc, "connect"), elapsed)
        return exc

    def close(self) -> None:
        self.session.close()


class WSGITransport(BaseTransport):
    """Run a WSGI app (Flask, Django, ...) in-process: no sockets, no server.

    An exception in the app becomes a 500, as a real server would answer, with the
    exception noted in the transcript. A reply slower than the request timeout is
    reported as a timeout after the fact (the app cannot be interrupted).
    """

    def __init__(self, app: Callable[..., Any], *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError("invalid_url", f"not an absolute http(s) URL: {request.url!r}")
        port = _default_port(parts)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(parts.path or "/", "latin-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": parts.netloc.rpartition("@")[2],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme,
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: captured.setdefault("written", []).append(data)

        start = time.perf_counter()
        note = None
        truncated = False
        try:
            result = self.app(environ, start_response)
            try:
                chunks = list(captured.pop("written", []))
                size = sum(len(c) for c in chunks)
                for chunk in result:
                    size += len(chunk)
                    chunks.append(chunk)
                    if size > self.max_body_bytes:
                        break
                truncated = size > self.max_body_bytes
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status = int(str(captured.get("status", "500")).split(" ", 1)[0])
            headers = {k.lower(): v for k, v in captured.get("headers", [])}
            body = _capped(chunks, self.max_body_bytes)
        except Exception as exc:  # the app crashed: a real server answers 500
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
            note = f"the app raised {type(exc).__name__}: {exc}{where}"
            status, headers, body = 500, {"content-type": "text/plain"}, note.encode()
        elapsed = (time.perf_counter() - start) * 1000
        if elapsed > request.timeout_ms:
            raise TransportError("timeout", f"the app took {elapsed:.0f} ms, over {request.timeout_ms} ms", elapsed)
        return HTTPResponse(status, headers, body, elapsed, note, truncated=truncated)


@dataclass
class CallableTransport(BaseTransport):
    """Answer requests with a function: ``fn(request) -> HTTPResponse | dict | str | tuple``.

    A dict is sent as ``application/json``, a string starting with ``<`` as
    ``text/xml``, and a tuple is ``(status, headers, body)``. Raise
    :class:`TransportError` to play a network failure; any other exception is the
    target crashing, which a server answers with a 500.
    """

    fn: Callable[[HTTPRequest], Any]
    calls: list[HTTPRequest] = field(default_factory=list)

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        self.calls.append(request)
        start = time.perf_counter()
        try:
            out = self.fn(request)
            return coerce_response(out, (time.perf_counter() - start) * 1000)
        except TransportError:
            raise  # the function simulates the network failing
        except Exception as exc:  # the target crashed, as a WSGI app can: a server answers 500
            note = f"the target raised {type(exc).__name__}: {exc}"
            return HTTPResponse(500, {"content-type": "text/plain"}, note.encode(),
                                (time.perf_counter() - start) * 1000, note)


def coerce_response(out: Any, elapsed: float = 0.0) -> HTTPResponse:
    if isinstance(out, HTTPResponse):
        return out
    if isinstance(out, tuple):
        status, headers, body = out
        if isinstance(body, str):
            body = body.encode()
        return HTTPResponse(int(status), {k.lower(): v for k, v in dict(headers).items()}, body, elapsed)
    if isinstance(out, (dict, list)):
        return HTTPResponse(200, {"content-type": "application/json"}, _json.dumps(out).encode(), elapsed)
    if isinstance(out, str):
        ctype = "text/xml" if out.lstrip().startswith("<") else "application/json"
        return HTTPResponse(200, {"content-type": ctype}, out.encode(), elapsed)
    if isinstance(out, bytes):
        return HTTPResponse(200, {}, out, elapsed)
    raise TypeError(f"a callable target returned {type(out).__name__}; return a dict, str, tuple or HTTPResponse")
