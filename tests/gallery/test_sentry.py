"""Error reports: SENTRY_DSN alone turns sentry-sdk on; without it nothing is sent."""

import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings


class _Collector(BaseHTTPRequestHandler):
    """A stand-in Sentry server on loopback: it keeps every envelope posted to it."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "br":  # sentry-sdk compresses with brotli when it is installed
            import brotli

            body = brotli.decompress(body)
        elif self.headers.get("Content-Encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _shell(code: str, **overrides) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("SENTRY_")}
    environment.update(overrides)
    return subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", code], cwd=settings.BASE_DIR,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_it_reports_an_unhandled_error_to_the_dsn(sentry_server):
    dsn = f"http://publickey@127.0.0.1:{sentry_server.server_port}/42"
    result = _shell("raise RuntimeError('paint spilled')", SENTRY_DSN=dsn)

    assert result.returncode != 0 and "paint spilled" in result.stderr
    paths = {path for path, _ in sentry_server.envelopes}
    assert paths == {"/api/42/envelope/"}
    events = [json.loads(line) for _, body in sentry_server.envelopes for line in body.splitlines()[2:3]]
    assert any(event.get("exception", {}).get("values", [{}])[0].get("value") == "paint spilled" for event in events)


def test_it_sends_nothing_without_a_dsn():
    result = _shell("import sentry_sdk; print(sentry_sdk.get_client().is_active())")
    assert result.stdout.strip() == "False"


def test_it_wires_the_dsn_and_no_personal_data():
    code = ("import sentry_sdk; client = sentry_sdk.get_client(); "
            "print(client.is_active(), client.options['dsn'], client.options['send_default_pii'])")
    result = _shell(code, SENTRY_DSN="http://publickey@127.0.0.1:9/1")
    assert result.stdout.strip() == "True http://publickey@127.0.0.1:9/1 False"


def test_it_refuses_a_malformed_dsn():
    environment = {**os.environ, "SENTRY_DSN": "not a dsn"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SENTRY_DSN is not a Sentry DSN" in result.stderr
