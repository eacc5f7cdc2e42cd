"""The playground's HTTP server: static files from the package and a few JSON endpoints.

Bound to 127.0.0.1 only. Requests are checked before anything is built: bodies larger
than MAX_BODY_BYTES are refused unread, the Host header must name the loopback address
(so a web page elsewhere cannot reach the server through DNS rebinding), and POSTs must
be JSON (a cross-site form cannot send that without the browser asking first).
"""
from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from ._config import MAX_CSV_BYTES, parse_config
from ._presets import PRESETS
from ._session import Session

HOST = "127.0.0.1"
MAX_BODY_BYTES = MAX_CSV_BYTES + 16 * 1024
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}


class _Handler(BaseHTTPRequestHandler):
    server_version = "fastmlp-playground"
    timeout = 30                  # seconds a connection may stall (a body that never comes) before it is dropped
    session: Session              # set on the subclass made per server

    def log_message(self, format, *args):   # quiet: the terminal shows the URL, not every poll
        pass

    def do_GET(self):
        if not self._host_is_loopback():
            return
        path = self.path.split("?", 1)[0]
        if path in STATIC:
            name, content_type = STATIC[path]
            body = resources.files(__package__).joinpath("static", name).read_bytes()
            return self._send(HTTPStatus.OK, body, content_type)
        routes = {"/api/state": self.session.snapshot, "/api/data": self.session.data,
                  "/api/presets": lambda: PRESETS}
        if path in routes:
            return self._send_json(HTTPStatus.OK, routes[path]())
        if path == "/api/model.fmlp":
            return self._send(HTTPStatus.OK, self.session.model_file(), "application/octet-stream",
                              {"Content-Disposition": 'attachment; filename="playground.fmlp"'})
        self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path[:80]}"})

    def do_POST(self):
        if not self._host_is_loopback():
            return
        try:
            request = self._json_body()
            path = self.path.split("?", 1)[0]
            if path == "/api/configure":
                preset = request.pop("preset", None) if isinstance(request, dict) else None
                if preset is not None and preset not in PRESETS:
                    raise ValueError(f"unknown preset {preset!r:.40}; known: {', '.join(PRESETS)}")
                self.session.configure(parse_config(request), preset)
                return self._send_json(HTTPStatus.OK, self.session.data())
            if path == "/api/run":
                if not isinstance(request, dict) or not isinstance(request.get("running"), bool):
                    raise ValueError("send {\"running\": true} or {\"running\": false}")
                self.session.set_running(request["running"])
                return self._send_json(HTTPStatus.OK, {"running": request["running"]})
            if path == "/api/step":
                return self._send_json(HTTPStatus.OK, self.session.step())
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path[:80]}"})
        except ValueError as error:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)[:2000]})

    def _json_body(self):
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise ValueError("requests must be JSON (Content-Type: application/json)")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise ValueError("a request needs a Content-Length") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True          # the body is not read: drop the connection after answering
            raise ValueError(f"the request is larger than {MAX_BODY_BYTES // 1024} KiB")
        try:
            return json.loads(self.rfile.read(length).decode("utf-8")) if length else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"the request is not valid JSON: {error}") from None

    def _host_is_loopback(self) -> bool:
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        if host in (HOST, "localhost"):
            return True
        self._send_json(HTTPStatus.FORBIDDEN, {"error": "the playground answers only to 127.0.0.1 or localhost"})
        return False

    def _send_json(self, status, payload) -> None:
        self._send(status, json.dumps(payload, allow_nan=False).encode("utf-8"), "application/json")

    def _send(self, status, body: bytes, content_type: str, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Playground:
    """The playground on 127.0.0.1:`port` (0 picks a free port); start() serves in a thread."""

    def __init__(self, port: int = 8765):
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")
        self.session = Session()
        handler = type("Handler", (_Handler,), {"session": self.session})
        try:
            self.server = ThreadingHTTPServer((HOST, port), handler)
        except OSError:
            self.session.close()
            raise
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/"

    def start(self) -> Playground:
        thread = threading.Thread(target=self.server.serve_forever, name="fastmlp-playground", daemon=True)
        thread.start()
        self._thread = thread
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop training and serving, and free the port."""
        self.session.close()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5.0)
        self.server.server_close()
