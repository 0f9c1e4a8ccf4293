"""TwiML overhead: a 3-request TwiML call vs the same 3 requests made directly.

The call: ``<Gather><Say/></Gather>`` (the caller presses 1), then a ``<Redirect>``,
then ``<Hangup/>``. Two comparisons, each side interleaved with its baseline in the
same process so the machine's speed cancels out of the ratio:

* in-process: ``Engine`` + ``WSGITransport`` vs the same three requests (same URLs,
  methods, headers and bodies) through Flask's test client (target: at most 1.5x);
* loopback HTTP: ``Engine`` + ``HTTPTransport`` against the app served on 127.0.0.1
  vs the same requests with a plain ``requests.Session`` (target: at most 1.2x).

The timing loop and the quiet request handler come from ``bench_engine``.

Run: ``python benchmarks/bench_twiml.py [--rounds N] [--inner N] [--no-check]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from bench_engine import QuietHandler, compare, report  # noqa: E402
from flask import Flask, Response, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from pivotsim._caller import Caller  # noqa: E402
from pivotsim._engine import Engine, pivot_flow  # noqa: E402
from pivotsim._transcript import Transcript  # noqa: E402
from pivotsim._transports import HTTPTransport, WSGITransport  # noqa: E402

VOICE_URL = "http://ivr.example/ivr/welcome.xml"
PATH = "/ivr/welcome.xml"
IN_PROCESS_TARGET = 1.5
HTTP_TARGET = 1.2

Recorded = list[tuple[str, str, dict[str, str], bytes]]


def make_app() -> Flask:
    app = Flask("bench_twiml")

    def twiml(body: str) -> Response:
        return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                        mimetype="text/xml")

    @app.route("/ivr/welcome.xml", methods=["GET", "POST"])
    def welcome() -> Response:
        caller = request.values.get("CallerName", "caller")
        return twiml(f'<Gather numDigits="1" action="menu.xml" timeout="5">'
                     f"<Say>Hello {caller}. For sales press 1, for support press 2.</Say></Gather>"
                     "<Say>We did not get your choice.</Say>")

    @app.route("/ivr/menu.xml", methods=["POST"])
    def menu() -> Response:
        choice = {"1": "sales", "2": "support"}.get(request.values.get("Digits", ""), "nobody")
        return twiml(f"<Say>Connecting you to {choice}.</Say><Redirect>bye.xml</Redirect>")

    @app.route("/ivr/bye.xml", methods=["POST"])
    def bye() -> Response:
        return twiml("<Say>Goodbye.</Say><Hangup/>")

    return app


def checked(t: Transcript) -> Recorded:
    """The call went as intended; its requests, to replay as the baseline."""
    assert [r.purpose for r in t.requests] == ["voice_url", "twiml_action", "redirect"], t.requests
    assert t.end is not None and t.end.reason == "hangup", t.end
    assert t.prompts[-1] == "Goodbye.", t.prompts
    return [(r.method, r.url, r.headers, r.body_sent.encode()) for r in t.requests]


def bench_in_process(app: Flask, rounds: int, inner: int) -> tuple[float, float]:
    engine = Engine(WSGITransport(app))
    flow = pivot_flow(VOICE_URL, req_format="twiml")
    caller = Caller(["1"])
    reqs = checked(engine.run(flow, caller=caller))
    client = app.test_client()

    def sim() -> None:
        engine.run(flow, caller=caller)

    def direct() -> None:
        for method, url, headers, body in reqs:
            client.open(url, method=method, headers=headers, data=body)

    sim()
    direct()  # warm both up
    return compare(sim, direct, rounds, inner)


def bench_http(app: Flask, rounds: int, inner: int) -> tuple[float, float]:
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    transport = HTTPTransport()
    session = requests.Session()
    try:
        engine = Engine(transport)
        flow = pivot_flow(f"http://127.0.0.1:{server.server_port}{PATH}", req_format="twiml")
        caller = Caller(["1"])
        reqs = checked(engine.run(flow, caller=caller))

        def sim() -> None:
            engine.run(flow, caller=caller)

        def direct() -> None:
            for method, url, headers, body in reqs:
                _ = session.request(method, url, headers=headers, data=body or None).content

        sim()
        direct()  # warm both up
        return compare(sim, direct, rounds, inner)
    finally:
        session.close()
        transport.close()
        server.shutdown()
        server.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--inner", type=int, default=40, help="calls per batch in-process (HTTP: a quarter)")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()

    app = make_app()
    rows = [
        ("TwiML, in-process WSGI vs Flask test client", *bench_in_process(app, args.rounds, args.inner),
         IN_PROCESS_TARGET),
        ("TwiML, loopback HTTP vs requests.Session", *bench_http(app, args.rounds, max(1, args.inner // 4)),
         HTTP_TARGET),
    ]
    return 0 if report(rows) or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
