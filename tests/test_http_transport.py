"""The HTTP transport against raw sockets on 127.0.0.1: what goes on the wire, and httpc's rules.

A raw server sees the bytes a real Pivot server would, which no WSGI test can: the headers
urllib3 would add by itself, a body the server compresses unasked, a reply that trickles.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from pivot_apps import HANGUP, tts

import pivotsim

FAILURE = tts("failure branch", HANGUP)
OK_JSON = b'{"module": "tts", "data": {"text": "hello"}}'


class RawServer:
    """One thread per connection; ``handler(conn, request_bytes)`` answers it."""

    def __init__(self, handler: Callable[[socket.socket, bytes], None]) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.stopping = threading.Event()  # tricklers wait on it, so closing ends them at once
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:  # keep-alive: as many requests as the client sends
                head = b""
                while b"\r\n\r\n" not in head:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:  # the handler or close() shut it
                        return
                    if not chunk:
                        return
                    head += chunk
                self.requests.append(head)
                try:
                    self.handler(conn, head)
                except OSError:
                    return

    def close(self) -> None:
        self.stopping.set()
        for sock in [self.sock, *self._conns]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() or recv()
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@contextmanager
def raw_server(handler: Callable[[socket.socket, bytes], None]) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.close()


def reply(conn: socket.socket, body: bytes, *headers: str) -> None:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def run(url: str, call: pivotsim.CallProperties | None = None, **kw) -> pivotsim.Transcript:
    with closing(pivotsim.HTTPTransport()) as transport:
        return pivotsim.Engine(transport).run(pivotsim.pivot_flow(url, children={"_": FAILURE}, **kw), call=call)


def header_names(head: bytes) -> set[str]:
    return {line.split(b":", 1)[0].decode().lower() for line in head.split(b"\r\n")[1:] if b":" in line}


def test_only_what_kazoo_sends_goes_on_the_wire() -> None:
    with raw_server(lambda conn, head: reply(conn, OK_JSON)) as srv:
        t = run(srv.url + "/ivr", method="post")
    names = header_names(srv.requests[0])
    assert "user-agent" not in names and "accept-encoding" not in names  # urllib3 would add both
    assert "accept" not in names and "connection" not in names
    assert names >= {"host", "content-type", "content-length"}
    assert t.requests[0].headers == {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_get_sends_no_header_of_kazoo_s_own() -> None:
    with raw_server(lambda conn, head: reply(conn, OK_JSON)) as srv:
        t = run(srv.url + "/ivr")
    assert header_names(srv.requests[0]) == {"host"}
    assert t.requests[0].headers == {} and t.prompts == ["hello"]


class Trickle:
    """A server handler that sends its reply a byte at a time, noting whether the client hung up."""

    def __init__(self, total: int, every_s: float, *, headers_first: bool) -> None:
        self.total, self.every_s, self.headers_first = total, every_s, headers_first
        self.client_gone = self.finished = False
        self.over = threading.Event()

    def __call__(self, conn: socket.socket, head: bytes) -> None:
        out = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {self.total}"
               "\r\n\r\n").encode()
        if self.headers_first:
            conn.sendall(out)
            out = b""
        out += b" " * self.total
        try:
            for i in range(len(out)):
                conn.sendall(out[i:i + 1])
                time.sleep(self.every_s)
            self.finished = True
        except OSError:
            self.client_gone = True
        finally:
            self.over.set()


def test_a_reply_that_trickles_its_headers_is_cut_at_req_timeout_ms() -> None:
    # Each byte comes well within a socket read timeout, so only a whole-request deadline
    # (httpc's) stops it; without one the client would read for the full 6 s.
    trickle = Trickle(60, 0.1, headers_first=False)
    with raw_server(trickle) as srv:
        t = run(srv.url + "/slow", req_timeout_ms=300)
        trickle.over.wait(10)
    assert trickle.client_gone and not trickle.finished
    assert t.requests[0].outcome == "no_reply" and t.requests[0].error.startswith("timeout")
    assert t.prompts == ["failure branch"]  # cf_pivot's 10 s wait, then _
    assert t.end.t_ms >= 10_000


def test_a_body_that_trickles_on_a_kept_alive_connection_is_cut_too() -> None:
    trickle = Trickle(60, 0.1, headers_first=True)

    def two_step(conn: socket.socket, head: bytes) -> None:
        if head.startswith(b"GET /first"):
            nested = b'{"module": "pivot", "data": {"voice_url": "http://127.0.0.1:%d/slow"}}' % conn.getsockname()[1]
            reply(conn, nested)
        else:
            trickle(conn, head)

    with raw_server(two_step) as srv:
        t = run(srv.url + "/first", req_timeout_ms=300)
        trickle.over.wait(10)
    assert len(srv.requests) == 2
    assert trickle.client_gone and not trickle.finished
    assert t.requests[1].outcome == "no_reply" and t.requests[1].error.startswith("timeout")


def test_a_broken_chunked_body_is_a_failed_request_not_a_pivotsim_failure() -> None:
    def broken(conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"zz\r\nnot a chunk\r\n")
        conn.close()

    with raw_server(broken) as srv:
        t = run(srv.url + "/broken")
    assert "pivotsim.internal" not in t.diagnostic_codes()
    assert t.requests[0].outcome == "no_reply"
    assert t.prompts == ["failure branch"]


def test_a_body_compressed_unasked_is_read_as_the_bytes_on_the_wire() -> None:
    import gzip

    packed = gzip.compress(OK_JSON)
    with raw_server(lambda conn, head: reply(conn, packed, "Content-Encoding: gzip")) as srv:
        t = run(srv.url + "/gz")
    assert t.end.reason == "hangup" and t.prompts == []  # not UTF-8: invalid JSON to Kazoo
    [diag] = [d for d in t.diagnostics if d.code == "reply.json_error"]
    assert "Content-Encoding: gzip" in diag.message
    assert t.requests[0].body_bytes == len(packed)


def test_keys_go_on_the_wire_unencoded_exactly_as_the_transcript_records_them() -> None:
    # urllib3 would send Custom-Application-Vars%5Bplan%5D; Kazoo's encoder leaves keys raw.
    call = pivotsim.CallProperties(custom_application_vars={"plan": "gold card", "n": {"k": "ü"}})
    with raw_server(lambda conn, head: reply(conn, OK_JSON)) as srv:
        t = pivotsim.place_call(srv.url + "/ivr", call=call)
    sent_target = srv.requests[0].split(b"\r\n")[0].split(b" ")[1].decode()
    assert "Custom-Application-Vars[plan]=gold+card&Custom-Application-Vars[n][k]=%C3%BC" in sent_target
    assert srv.url + sent_target == t.requests[0].url


def test_a_key_with_a_space_cannot_go_on_a_request_line() -> None:
    call = pivotsim.CallProperties(custom_application_vars={"my key": "x"})
    with raw_server(lambda conn, head: reply(conn, OK_JSON)) as srv:
        t = run(srv.url + "/ivr", call=call)
    assert srv.requests == []
    assert t.requests[0].outcome == "invalid_url"
    assert "request.invalid_url" in t.diagnostic_codes()
    assert t.prompts == ["failure branch"] and t.end.t_ms < 10_000  # _ at once, no 10 s wait


def test_non_ascii_in_a_key_or_the_path_goes_out_percent_encoded() -> None:
    # Python's HTTP client writes the request line as ASCII; the UTF-8 bytes are %-encoded.
    call = pivotsim.CallProperties(custom_application_vars={"plän": "x"})
    with raw_server(lambda conn, head: reply(conn, OK_JSON)) as srv:
        t = run(srv.url + "/ümlaut", call=call)
    sent_target = srv.requests[0].split(b"\r\n")[0].split(b" ")[1].decode()
    assert sent_target.startswith("/%C3%BCmlaut?")
    assert "Custom-Application-Vars[pl%C3%A4n]=x" in sent_target
    assert t.prompts == ["hello"] and "pivotsim.internal" not in t.diagnostic_codes()


def test_a_deadline_never_shuts_a_connection_another_request_took_over() -> None:
    from pivotsim._httpc import Deadline

    class Conn:  # what urllib3's pool hands from one request to the next
        pass

    conn, (mine, peer) = Conn(), socket.socketpair()
    with mine, peer:
        first, second = Deadline(60), Deadline(60)
        first.watch(conn, mine)
        first.release(conn)  # back in the pool at the end of the first reply...
        second.watch(conn, mine)  # ...and taken by another thread's request
        first.expire()
        peer.sendall(b"x")
        assert mine.recv(1) == b"x"  # still open for the second request
        second.expire()
        assert mine.recv(1) == b""  # the owner's deadline does shut it


def test_finished_deadlines_do_not_pile_up_in_the_watchdog() -> None:
    from pivotsim._httpc import _WATCHDOG, Deadline

    for _ in range(500):
        with Deadline(60):
            pass
    assert len(_WATCHDOG._heap) < 200
