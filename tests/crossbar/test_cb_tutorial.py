"""The tutorial in docs/crossbar.md, run verbatim with curl against a real ``pivotsim serve``.

The shell blocks between the ``tutorial:begin`` and ``tutorial:end`` markers are joined
into one bash script, unchanged. The test only adds ``KAZOO`` and ``PIVOT_URL`` (what
the tutorial's set-up block exports), a marker after each block to split the output,
and, after ``connect``, a poll for the call, so a slow machine does not fail the test
(``pivotsim serve`` answers before it dials, as Kazoo does). The docs' own step 6 waits
too (``sleep``), since pasted without a wait it would show ``"data":[]``; that is checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cb_support import serve_process
from flask import Flask, Response, request
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "crossbar.md"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "md5sum", "python3")),
    reason="the tutorial needs bash, curl, md5sum and python3",
)


def tutorial_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("<!-- tutorial:begin -->", 1)[1].split("<!-- tutorial:end -->", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.fixture
def pivot_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The developer's Pivot server: records each request, answers a Kazoo JSON node."""
    seen: list[dict[str, Any]] = []
    app = Flask("tutorial-pivot")

    @app.route("/pivot", methods=["GET", "POST"])
    def pivot() -> Response:
        seen.append({"method": request.method, "args": request.args.to_dict()})
        return Response(json.dumps({"module": "tts", "data": {"text": "Welcome to the tutorial"}}),
                        content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/pivot", seen
    finally:
        server.shutdown()


@pytest.fixture
def kazoo() -> Iterator[str]:
    """``pivotsim serve --account tutorial --user john:12345`` on a free port, as a real process."""
    with serve_process("--account", "tutorial", "--user", "john:12345") as (_, port):
        yield f"http://127.0.0.1:{port}"


WAIT_FOR_CALL = """
for i in $(seq 1 100); do
  curl -s "$KAZOO/accounts/$ACCOUNT_ID/pivotsim/calls" -H "X-Auth-Token: $AUTH_TOKEN" | grep -q '"call_id"' && break
  sleep 0.1
done
"""


def json_values(text: str) -> list[Any]:
    """Every JSON document in a block's output (curl prints them back to back)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    text = text.strip()
    while i < len(text):
        value, end = decoder.raw_decode(text, i)
        out.append(value)
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
    return out


def test_the_tutorial_runs_verbatim(kazoo: str, pivot_server: tuple[str, list[dict[str, Any]]]) -> None:
    pivot_url, seen = pivot_server
    blocks = tutorial_blocks()
    assert len(blocks) == 6
    assert "echo -n 'john:12345' | md5sum" in blocks[0]
    # Step 6, pasted right after step 5, must wait for the background call before reading its results.
    assert blocks[5].splitlines()[0].startswith("sleep "), blocks[5]
    script = "set -euo pipefail\n"
    for i, block in enumerate(blocks):
        script += block + f"\necho; echo '<<<block {i}>>>'\n"
        if "/connect?" in block:
            script += WAIT_FOR_CALL
    env = {**os.environ, "KAZOO": kazoo + "/v2", "PIVOT_URL": pivot_url}
    run = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    outputs = [json_values(part) for part in re.split(r"<<<block \d+>>>", run.stdout)[:-1]]
    auth, resource, callflow, c2c, connect, after = outputs
    assert auth == [] and c2c == []  # those blocks only set variables
    (res,) = resource
    assert res["status"] == "success" and res["data"]["name"] == "Flowroute"
    assert res["data"]["gateways"][0]["invite_format"] == "route"  # Kazoo's defaults
    (cf,) = callflow
    assert cf["status"] == "success" and cf["data"]["numbers"] == ["1"]
    assert cf["data"]["flow"]["data"] == {"voice_url": pivot_url, "req_format": "kazoo", "debug": True,
                                          "method": "get", "req_body_format": "form"}
    (conn,) = connect
    assert conn["status"] == "success"
    call_id = conn["data"]["call_id"]
    assert re.match(r"^c2c-[0-9a-f]{32}-[0-9a-f]{10}$", call_id)
    # The Pivot server received Kazoo's first request for the call.
    assert seen and seen[0]["method"] == "GET"
    args = seen[0]["args"]
    assert args["Call-ID"] == call_id and args["Caller-ID-Name"] == "call_1"
    assert args["Caller-ID-Number"] == "12223334444" and args["To"] == "1" and args["Api-Version"] == "4.x"
    debug, history, calls = after
    assert [row["call_id"] for row in debug["data"]] == [call_id]
    assert debug["data"][0]["status_code"] == "200"
    assert [(h["result"], h["call_id"]) for h in history["data"]] == [("success", call_id)]
    assert calls["data"][0]["call_id"] == call_id and calls["data"][0]["end_reason"] == "hangup"
