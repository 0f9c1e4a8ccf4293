"""requests made to behave like Erlang's httpc as Kazoo's pivot_call drives it.

What differs from a stock ``requests`` call, and matters to a Pivot server or to pivotsim:

- httpc sends no ``User-Agent`` and no ``Accept-Encoding``; urllib3 adds both on its own
  unless told to skip them.
- httpc does not decompress: a body is the bytes on the wire (the transport reads it
  with ``decode_content=False``).
- httpc sends the URL as Kazoo built it, keys unencoded (``Parent[child]=v``); urllib3
  percent-encodes ``[``, ``]`` and spaces in the target, so the raw target is put back
  where the connection writes its request line. (Only bytes past ASCII are encoded:
  Python's HTTP client cannot write them raw.)
- httpc's ``{timeout, Ms}`` bounds the *whole* request. requests only bounds each socket
  operation, so a server that trickles a byte a second would hold pivotsim for ever. A
  watchdog shuts the request's socket down when the budget runs out.

Every transport on every thread shares one watchdog thread; a deadline only ever shuts
a connection it still owns, so a kept-alive connection handed to another thread's
request is safe from the first request's deadline.
"""

from __future__ import annotations

import heapq
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import quote

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER

__all__ = ["Deadline", "HttpcAdapter", "NO_CLIENT_HEADERS", "raw_target"]

#: Headers urllib3 would add by itself, suppressed: Kazoo sends only Content-Type.
NO_CLIENT_HEADERS = {"User-Agent": SKIP_HEADER, "Accept-Encoding": SKIP_HEADER}

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_current = threading.local()


def raw_target(url: str) -> str:
    """The request target (path and query) of ``url`` as built, without a fragment."""
    rest = url.split("://", 1)[-1].split("#", 1)[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i != -1), default=len(rest))
    target = rest[cut:]
    if not target.startswith("/"):
        target = "/" + target
    return _NON_ASCII.sub(lambda m: quote(m.group(), safe="", errors="surrogatepass"), target)


class _Watchdog:
    """One daemon thread for every deadline: a thread per request would cost more than
    the request itself over loopback."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = 0
        self._finished = 0  # entries in the heap whose request ended in time
        self._thread: threading.Thread | None = None

    def arm(self, deadline: Deadline) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (deadline.due, self._seq, deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pivotsim-httpc-deadline", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()  # the new one is due first

    def finished(self) -> None:
        """A request ended in time; drop such entries once they are most of the heap."""
        with self._cond:
            self._finished += 1
            if self._finished > 64 and 2 * self._finished > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                    self._finished = max(0, self._finished - 1)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, deadline = heapq.heappop(self._heap)
                deadline.expire()


_WATCHDOG = _Watchdog()


class Deadline:
    """One request on this thread: its whole-request budget and its raw target."""

    def __init__(self, seconds: float, *, target: str | None = None) -> None:
        self.target = target
        self.due = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._watched: list[tuple[Any, socket.socket]] = []
        self._lock = threading.Lock()
        self._outer: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        _WATCHDOG.arm(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self.done = True
            self._watched.clear()
        _current.deadline = self._outer
        _WATCHDOG.finished()

    def watch(self, conn: Any, sock: socket.socket | None) -> None:
        """``conn`` now serves this request: its socket is shut if the budget runs out."""
        if sock is None:
            return
        with self._lock:
            conn._pivotsim_deadline = self
            if self.expired:
                _shut(sock)
            else:
                self._watched.append((conn, sock))

    def release(self, conn: Any) -> None:
        """The pool took ``conn`` back: the next request that uses it is not ours."""
        with self._lock:
            if getattr(conn, "_pivotsim_deadline", None) is self:
                conn._pivotsim_deadline = None

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            for conn, sock in self._watched:
                if getattr(conn, "_pivotsim_deadline", None) is self:
                    _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed, or handed to a TLS wrapper


def _watch(conn: Any, sock: Any) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(conn, sock)


class _WatchedConn:
    """Registers the socket with the running request's deadline, fresh or reused."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(self, sock)  # before any TLS handshake, so connecting is bounded too
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self, getattr(self, "sock", None))  # the TLS socket, once wrapped

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        _watch(self, getattr(self, "sock", None))  # a kept-alive connection does not connect again
        deadline = getattr(_current, "deadline", None)
        if deadline is not None and deadline.target is not None:
            url = deadline.target
        super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class _ReleasingPool:
    def _put_conn(self, conn: Any) -> None:
        deadline = getattr(conn, "_pivotsim_deadline", None) if conn is not None else None
        if deadline is not None:
            deadline.release(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _Conn(_WatchedConn, HTTPConnection):
    pass


class _TLSConn(_WatchedConn, HTTPSConnection):
    pass


class _Pool(_ReleasingPool, HTTPConnectionPool):
    ConnectionCls = _Conn


class _TLSPool(_ReleasingPool, HTTPSConnectionPool):
    ConnectionCls = _TLSConn


class HttpcAdapter(HTTPAdapter):
    """An adapter whose connections answer to :class:`Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
