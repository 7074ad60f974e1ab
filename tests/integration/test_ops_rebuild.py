"""`mentorlink-ops matching rebuild` POSTs /admin/rebuild and reports the answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from ops.cli import app


class _Matching(BaseHTTPRequestHandler):
    requests: list[tuple[str, str]] = []
    status = 200

    def do_POST(self) -> None:
        self.requests.append(("POST", self.path))
        body = json.dumps({"mentees": 12, "mentors": 3}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def matching() -> Iterator[tuple[str, type[_Matching]]]:
    handler = type("Handler", (_Matching,), {"requests": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", handler
    server.shutdown()
    server.server_close()


def test_rebuild_posts_to_the_admin_endpoint_and_prints_the_answer(matching) -> None:
    url, handler = matching
    result = CliRunner().invoke(app, ["matching", "rebuild", "--url", url])
    assert result.exit_code == 0, result.output
    assert handler.requests == [("POST", "/admin/rebuild")]
    assert "rebuild answered 200" in result.output
    assert '"mentees": 12' in result.output


def test_a_failed_rebuild_exits_non_zero_with_the_status(matching) -> None:
    url, handler = matching
    handler.status = 503
    result = CliRunner().invoke(app, ["matching", "rebuild", "--url", url])
    assert result.exit_code == 1
    assert "answered 503" in result.output


def test_only_http_urls_are_accepted() -> None:
    result = CliRunner().invoke(app, ["matching", "rebuild", "--url", "file:///etc/passwd"])
    assert result.exit_code == 1
    assert "not an http(s) URL" in result.output
