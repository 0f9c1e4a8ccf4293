"""Crossbar CRUD round trips through the fake's WSGI app vs a bare Flask route, in one run.

A round trip is the five requests a provisioning script makes for one document:
create (PUT), read (GET), replace (POST), list (GET) and delete (DELETE), here on
click-to-call documents with a real token. The baseline is a bare Flask app whose routes
return the very same JSON envelopes (serialised per request) without doing anything
else. Both go through Flask's test client, so the ratio is what the fake's own work
costs on top of Flask. Target: at most 2x.

    python benchmarks/bench_crossbar.py [--rounds N] [--repeat R]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, Response  # noqa: E402

from pivotsim.crossbar import create_app  # noqa: E402

SEED = {"accounts": [{"name": "Bench", "users": [{"username": "bench", "password": "bench"}]}]}
C2C = {"name": "call_1", "extension": "1", "caller_id_number": "+15550001111", "timeout": 30}
C2C_NEW = {"name": "call_2", "extension": "2", "whitelist": ["^\\+1"]}


def crossbar_client() -> tuple[Any, dict[str, str], str]:
    app = create_app(seed=SEED)
    client = app.test_client()
    creds = hashlib.md5(b"bench:bench").hexdigest()
    auth = client.put("/v2/user_auth", json={"data": {"credentials": creds, "account_name": "Bench"}}).get_json()
    return client, {"X-Auth-Token": auth["auth_token"]}, auth["data"]["account_id"]


def round_trip(client: Any, headers: dict[str, str], base: str, bodies: tuple[bytes, bytes]) -> list[Any]:
    """create, read, replace, list, delete: returns the five responses' JSON."""
    created = client.put(base, data=bodies[0], headers=headers, content_type="application/json")
    doc_id = created.get_json()["data"]["id"]
    url = f"{base}/{doc_id}"
    read = client.get(url, headers=headers)
    replaced = client.post(url, data=bodies[1], headers=headers, content_type="application/json")
    listed = client.get(base, headers=headers)
    deleted = client.delete(url, headers=headers)
    out = [r.get_json() for r in (created, read, replaced, listed, deleted)]
    assert [r.status_code for r in (created, read, replaced, listed, deleted)] == [201, 200, 200, 200, 200], out
    return out


def bare_app(payloads: list[Any]) -> Flask:
    """Routes that return the same envelopes and nothing more: Flask's own cost."""
    app = Flask("bare")
    create, read, replace, listing, delete = payloads

    def send(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json")

    @app.route("/v2/accounts/<acct>/clicktocall", methods=["PUT"])
    def put(acct: str) -> Response:
        return send(create, 201)

    @app.route("/v2/accounts/<acct>/clicktocall", methods=["GET"])
    def get_list(acct: str) -> Response:
        return send(listing)

    @app.route("/v2/accounts/<acct>/clicktocall/<doc>", methods=["GET"])
    def get_one(acct: str, doc: str) -> Response:
        return send(read)

    @app.route("/v2/accounts/<acct>/clicktocall/<doc>", methods=["POST"])
    def post(acct: str, doc: str) -> Response:
        return send(replace)

    @app.route("/v2/accounts/<acct>/clicktocall/<doc>", methods=["DELETE"])
    def delete_one(acct: str, doc: str) -> Response:
        return send(delete)

    return app


def timed(fn: Any, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=400, help="round trips per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="measurements; the median is reported")
    args = parser.parse_args(argv)

    client, headers, acct = crossbar_client()
    base = f"/v2/accounts/{acct}/clicktocall"
    bodies = (json.dumps({"data": C2C}).encode(), json.dumps({"data": C2C_NEW}).encode())
    # One document stays in the list, so "list" returns a row as a real account would.
    client.put(base, data=json.dumps({"data": {"name": "keep", "extension": "9"}}), headers=headers,
               content_type="application/json")
    payloads = round_trip(client, headers, base, bodies)
    bare = bare_app(payloads).test_client()

    def fake() -> None:
        round_trip(client, headers, base, bodies)

    def baseline() -> None:
        round_trip(bare, headers, base, bodies)

    for fn in (fake, baseline):  # warm up
        timed(fn, max(1, args.rounds // 10))
    fake_times, bare_times = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        fake_times.append(timed(fake, args.rounds))
        bare_times.append(timed(baseline, args.rounds))
    fake_t, bare_t = statistics.median(fake_times), statistics.median(bare_times)
    ratio = fake_t / bare_t
    print(f"crossbar CRUD round trip (5 requests): {fake_t * 1e6:8.1f} us  ({fake_t * 1e6 / 5:6.1f} us/request)")
    print(f"bare Flask, same JSON:                 {bare_t * 1e6:8.1f} us  ({bare_t * 1e6 / 5:6.1f} us/request)")
    print(f"ratio: {ratio:.2f}x (target <= 2.00x) {'OK' if ratio <= 2.0 else 'OVER TARGET'}")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
