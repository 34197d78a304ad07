"""REDIS_SENTINELS: the queues and the cache find the Redis primary through a real Sentinel."""

import os
import subprocess
import sys
import time

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import parse_sentinels
from scripts.localservers import redis_server_binary
from tests.gallery.test_roles import _free_port

# A process with the site's settings, reading REDIS_URL and REDIS_SENTINELS from its environment.
PROBE = """
import django, django_rq
django.setup()
from django.core.cache import cache
django_rq.get_connection("styles").set("queue-probe", "through sentinel")
cache.set("cache-probe", "through sentinel")
print(cache.get("cache-probe"), django_rq.get_queue("optimize").connection.get("queue-probe").decode())
"""


def _serve(tmp_path, name: str, lines: list[str]) -> subprocess.Popen:
    config = tmp_path / f"{name}.conf"
    config.write_text("\n".join([*lines, f'dir "{tmp_path}"', 'save ""', "appendonly no"]) + "\n")
    args = [str(redis_server_binary()), str(config)] + (["--sentinel"] if name == "sentinel" else [])
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_queues_and_cache_reach_the_primary_that_sentinel_names(tmp_path):
    primary_port, sentinel_port = _free_port(), _free_port()
    servers = [_serve(tmp_path, "primary", [f"port {primary_port}", "bind 127.0.0.1"])]
    try:
        primary = redis.Redis(port=primary_port)
        _until(primary.ping, "the primary")
        servers.append(_serve(tmp_path, "sentinel", [f"port {sentinel_port}", "bind 127.0.0.1",
                                                     f"sentinel monitor atelier 127.0.0.1 {primary_port} 1"]))
        sentinel = redis.Redis(port=sentinel_port)
        _until(lambda: sentinel.execute_command("SENTINEL", "get-master-addr-by-name", "atelier"), "the sentinel")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": "redis://atelier/0",
               "REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}"}
        probe = subprocess.run([sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True,
                               text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.split() == ["through", "sentinel", "through", "sentinel"]
        # Both landed in the primary, which only the sentinel knew the address of.
        assert primary.get("queue-probe") == b"through sentinel"
        assert any(b"cache-probe" in key for key in primary.keys("*"))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def test_a_malformed_sentinel_list_is_refused_with_the_expected_form():
    assert parse_sentinels("REDIS_SENTINELS", ["s1.internal:26379", "10.0.0.2:26380"]) == [
        ("s1.internal", 26379), ("10.0.0.2", 26380)]
    with pytest.raises(ImproperlyConfigured, match="host:port pairs"):
        parse_sentinels("REDIS_SENTINELS", ["s1.internal"])
