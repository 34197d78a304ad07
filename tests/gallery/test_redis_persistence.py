"""The Redis that `make run` starts keeps its queue across a restart: a clean stop and a kill -9 alike."""

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import redis
from rq import Queue

from scripts.localservers import start_redis


@pytest.fixture
def data_dir():
    # Short: a unix socket path must fit in 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="atl-redis-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _client(server) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.socket_path))


def test_it_configures_snapshots_and_the_append_only_file(data_dir):
    server = start_redis(data_dir)
    try:
        config = _client(server).config_get("*")
        assert config["save"].startswith("60 1") and config["appendonly"] == "yes"
    finally:
        server.stop()


def test_it_keeps_waiting_jobs_across_a_clean_restart(data_dir):
    server = start_redis(data_dir)
    Queue("styles", connection=_client(server)).enqueue("gallery.jobs.run_style_job", 7, job_id="7")
    server.stop()
    assert (data_dir / "dump.rdb").exists()

    server = start_redis(data_dir)
    try:
        assert Queue("styles", connection=_client(server)).job_ids == ["7"]
    finally:
        server.stop()


def test_it_keeps_waiting_jobs_across_a_kill_9(data_dir):
    server = start_redis(data_dir)
    Queue("styles", connection=_client(server)).enqueue("gallery.jobs.run_style_job", 8, job_id="8")
    time.sleep(1.5)  # appendfsync everysec: what is a second old is on disk
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()

    server = start_redis(data_dir)
    try:
        assert Queue("styles", connection=_client(server)).job_ids == ["8"]
    finally:
        server.stop()
