"""requests made to behave like Erlang's httpc as Kazoo's pivot_call drives it.

Two differences matter to a Pivot server, and a third to pivotsim itself:

- httpc sends no ``User-Agent`` and no ``Accept-Encoding``; urllib3 adds both on its own
  unless told to skip them.
- httpc does not decompress: a body is the bytes on the wire (the transport reads it
  with ``decode_content=False``).
- httpc sends the URL as Kazoo built it, keys unencoded (``Parent[child]=v``); urllib3
  percent-encodes ``[``, ``]`` and spaces in the target, so the raw target is put back
  where the connection writes its request line.
- httpc's ``{timeout, Ms}`` bounds the *whole* request. requests only bounds each socket
  operation, so a server that trickles a byte a second would hold pivotsim for ever. A
  watchdog shuts the request's socket down when the budget runs out.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER

__all__ = ["Deadline", "HttpcAdapter", "NO_CLIENT_HEADERS", "raw_target"]

#: Headers urllib3 would add by itself, suppressed: Kazoo sends only Content-Type.
NO_CLIENT_HEADERS = {"User-Agent": SKIP_HEADER, "Accept-Encoding": SKIP_HEADER}

_current = threading.local()


class _Watchdog:
    """One daemon thread for every deadline: a thread per request would cost more than
    the request itself over loopback."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = 0
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

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)  # finished in time: forget it
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


def raw_target(url: str) -> str:
    """The request target (path and query) of ``url``, byte for byte, without a fragment."""
    rest = url.split("://", 1)[-1].split("#", 1)[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i != -1), default=len(rest))
    target = rest[cut:]
    return target if target.startswith("/") else "/" + target


class Deadline:
    """One request on this thread: its whole-request budget and its raw target."""

    def __init__(self, seconds: float, *, target: str | None = None) -> None:
        self.target = target
        self.due = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _WATCHDOG.arm(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self.done = True
            self._sockets.clear()
        _current.deadline = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watch(conn: Any) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(getattr(conn, "sock", None))


class _WatchedMixin:
    """Registers the socket with the running request's deadline, fresh or reused."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        _watch(self)  # a kept-alive connection does not connect again
        deadline = getattr(_current, "deadline", None)
        if deadline is not None and deadline.target is not None:
            url = deadline.target
        super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class _Conn(_WatchedMixin, HTTPConnection):
    pass


class _TLSConn(_WatchedMixin, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Conn


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConn


class HttpcAdapter(HTTPAdapter):
    """An adapter whose connections answer to :class:`Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
