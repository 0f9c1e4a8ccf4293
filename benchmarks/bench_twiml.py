"""TwiML overhead: a 3-request TwiML call vs the same 3 requests made directly.

The call: ``<Gather><Say/></Gather>`` (the caller presses 1), then a ``<Redirect>``,
then ``<Hangup/>``, through ``Engine`` + ``WSGITransport``; the baseline sends the
same three requests (same URLs, methods, headers and bodies) with Flask's test
client. Both sides run interleaved in the same process, so the machine's speed
cancels out of the ratio. The target is at most 1.5x.

Run: ``python benchmarks/bench_twiml.py [--rounds N] [--no-check]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import compare  # noqa: E402
from flask import Flask, Response, request  # noqa: E402

from pivotsim._caller import Caller  # noqa: E402
from pivotsim._engine import Engine, pivot_flow  # noqa: E402
from pivotsim._transports import WSGITransport  # noqa: E402

VOICE_URL = "http://ivr.example/ivr/welcome.xml"
TARGET = 1.5


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--inner", type=int, default=40)
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()

    app = make_app()
    engine = Engine(WSGITransport(app))
    flow = pivot_flow(VOICE_URL, req_format="twiml")
    caller = Caller(["1"])

    t = engine.run(flow, caller=caller)
    assert [r.purpose for r in t.requests] == ["voice_url", "twiml_action", "redirect"], t.requests
    assert t.end is not None and t.end.reason == "hangup", t.end
    assert t.prompts[-1] == "Goodbye.", t.prompts
    reqs = [(r.method, r.url, r.headers, r.body_sent.encode()) for r in t.requests]
    client = app.test_client()

    def sim() -> None:
        engine.run(flow, caller=caller)

    def direct() -> None:
        for method, url, headers, body in reqs:
            client.open(url, method=method, headers=headers, data=body)

    sim(), direct()
    s, d = compare(sim, direct, args.rounds, args.inner)
    ratio = s / d
    print(f"{'comparison':44} {'pivotsim':>12} {'baseline':>12} {'ratio':>7} {'target':>7}")
    print(f"{'TwiML, in-process WSGI vs Flask test client':44} {s * 1e3:9.3f} ms {d * 1e3:9.3f} ms "
          f"{ratio:6.2f}x {TARGET:6.1f}x")
    return 0 if ratio <= TARGET or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
