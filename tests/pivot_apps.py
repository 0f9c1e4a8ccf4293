"""Small real Pivot servers for the tests: Flask apps that answer what a test scripts."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import make_server


def seen_request() -> dict[str, Any]:
    """What the server saw, through Flask's own parsing."""
    body = request.get_data(as_text=True)  # read before request.form, which consumes the stream
    return {
        "path": request.path,
        "method": request.method,
        "query": request.query_string.decode(),
        "args": request.args.to_dict(flat=False),
        "form": request.form.to_dict(flat=False),
        "json": request.get_json(silent=True),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": body,
    }


def scripted_app(handler: Callable[[dict[str, Any]], Any]) -> Flask:
    """A catch-all Flask app: ``handler(seen)`` returns a node dict, a str, or ``(body, status, headers)``.

    ``app.seen`` lists every request the app received.
    """
    app = Flask("scripted")
    app.seen = []  # type: ignore[attr-defined]

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT"])
    def catch_all(path: str) -> Any:
        seen = seen_request()
        app.seen.append(seen)  # type: ignore[attr-defined]
        out = handler(seen)
        if isinstance(out, Response):
            return out
        if isinstance(out, (dict, list)):
            return Response(json.dumps(out), content_type="application/json")
        return out

    return app


def replies(*answers: Any) -> Flask:
    """An app that gives these answers in order (the last one repeats)."""
    box = list(answers)

    def handler(seen: dict[str, Any]) -> Any:
        return box.pop(0) if len(box) > 1 else box[0]

    return scripted_app(handler)


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def tts(text: str, then: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"module": "tts", "data": {"text": text, **data}}
    if then is not None:
        node["children"] = {"_": then}
    return node


def pivot(url: str, failure: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"module": "pivot", "data": {"voice_url": url, **data}}
    if failure is not None:
        node["children"] = {"_": failure}
    return node


HANGUP: dict[str, Any] = {"module": "hangup"}
