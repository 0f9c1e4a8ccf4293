"""requests made to behave like Erlang's httpc as Kazoo's pivot_call drives it.

Two differences matter to a Pivot server, and a third to pivotsim itself:

- httpc sends no ``User-Agent`` and no ``Accept-Encoding``; urllib3 adds both on its own
  unless told to skip them.
- httpc does not decompress: a body is the bytes on the wire (the transport reads it
  with ``decode_content=False``).
- httpc's ``{timeout, Ms}`` bounds the *whole* request. requests only bounds each socket
  operation, so a server that trickles a byte a second would hold pivotsim for ever. A
  watchdog shuts the request's socket down when the budget runs out.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER

__all__ = ["Deadline", "HttpcAdapter", "NO_CLIENT_HEADERS"]

#: Headers urllib3 would add by itself, suppressed: Kazoo sends only Content-Type.
NO_CLIENT_HEADERS = {"User-Agent": SKIP_HEADER, "Accept-Encoding": SKIP_HEADER}

_current = threading.local()


class Deadline:
    """The whole-request budget of one request on this thread."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
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

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)  # a kept-alive connection does not connect again
        super().request(*args, **kwargs)  # type: ignore[misc]


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
