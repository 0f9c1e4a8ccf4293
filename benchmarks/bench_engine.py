"""Engine overhead: a 3-request IVR call vs the same 3 requests made directly.

Two comparisons, each measured in the same run so the machine's speed cancels out:

* in-process: ``pivotsim`` + ``WSGITransport`` against the bundled bank example,
  vs the same three requests through Flask's test client (target: at most 1.5x);
* loopback HTTP: ``pivotsim`` + ``HTTPTransport`` against the example served on
  127.0.0.1, vs the same requests with a plain ``requests.Session`` (target: at most 1.2x).

Run: ``python benchmarks/bench_engine.py [--rounds N]``. Prints a table; exits 1 if a
ratio misses its target (``--no-check`` to only report).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

import pivotsim  # noqa: E402
from pivotsim.examples.bank import app  # noqa: E402

CALLER = ["1234", "1"]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def compare(sim: Callable[[], Any], direct: Callable[[], Any], rounds: int, inner: int) -> tuple[float, float]:
    """Median seconds per call of each, over ``rounds`` interleaved batches of ``inner`` calls.

    Interleaving keeps both sides under the same machine load, so the ratio is stable
    even when the absolute times are not.
    """
    a, b = [], []
    for _ in range(rounds):
        for fn, acc in ((sim, a), (direct, b)):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            acc.append((time.perf_counter() - start) / inner)
    return statistics.median(a), statistics.median(b)


def recorded_requests(target: Any, voice_url: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    t = pivotsim.place_call(target, voice_url=voice_url, caller=CALLER)
    assert len(t.requests) == 3 and t.end.reason == "hangup", pivotsim.render_text(t)
    return [(r.method, r.url, r.headers, r.body_sent.encode()) for r in t.requests]


def bench_in_process(rounds: int, inner: int) -> tuple[float, float]:
    engine = pivotsim.Engine(pivotsim.WSGITransport(app))
    flow = pivotsim.pivot_flow("http://pivot.example/")
    caller = pivotsim.Caller(CALLER)
    reqs = recorded_requests(app, "http://pivot.example/")
    client = app.test_client()

    def sim() -> None:
        engine.run(flow, caller=caller)

    def direct() -> None:
        for method, url, headers, body in reqs:
            client.open(url, method=method, headers=headers, data=body)

    sim(), direct()
    return compare(sim, direct, rounds, inner)


def bench_http(rounds: int, inner: int) -> tuple[float, float]:
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        transport = pivotsim.HTTPTransport()
        engine = pivotsim.Engine(transport)
        flow = pivotsim.pivot_flow(base)
        caller = pivotsim.Caller(CALLER)
        reqs = recorded_requests(base, base)
        session = requests.Session()

        def sim() -> None:
            engine.run(flow, caller=caller)

        def direct() -> None:
            for method, url, headers, body in reqs:
                _ = session.request(method, url, headers=headers, data=body or None).content

        sim(), direct()
        return compare(sim, direct, rounds, inner)
    finally:
        server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    rows = []
    sim, direct = bench_in_process(args.rounds, 40)
    rows.append(("in-process WSGI vs Flask test client", sim, direct, 1.5))
    sim, direct = bench_http(args.rounds, 10)
    rows.append(("loopback HTTP vs requests.Session", sim, direct, 1.2))
    return 0 if report(rows) or args.no_check else 1


def report(rows: list[tuple[str, float, float, float]]) -> bool:
    """Print ``(name, pivotsim s, baseline s, target ratio)`` rows; whether every target holds."""
    width = max(len(name) for name, *_ in rows) + 2
    print(f"{'comparison':{width}} {'pivotsim':>12} {'baseline':>12} {'ratio':>7} {'target':>7}")
    ok = True
    for name, sim, base, target in rows:
        ratio = sim / base
        ok &= ratio <= target
        print(f"{name:{width}} {sim * 1e3:9.3f} ms {base * 1e3:9.3f} ms {ratio:6.2f}x {target:6.1f}x")
    return ok


if __name__ == "__main__":
    sys.exit(main())
