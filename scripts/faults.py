"""Fault drills against a real `make run` (scripts.run), on loopback and throwaway servers, each bounded in time.

    .venv/bin/python -m scripts.faults [worker-kill redis-restart postgres-restart clean-restart]

Starts its own PostgreSQL and Redis under a temporary folder and `scripts.run` on them (port 8765), submits small
high-quality jobs through the service layer, applies the fault, waits until every job has finished or the drill's
time is up, and prints: submitted / done / failed (with their messages) / stuck / duplicated (an id waiting twice in
a queue at once, sampled twice a second). docs/reliability.md records what it printed.
"""

import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from PIL import Image

from scripts.localservers import start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent
PORT = "8765"
DRILL_SECONDS = 300


class Site:
    """PostgreSQL, Redis and `scripts.run` on them; the servers outlive restarts of the site."""

    def __init__(self, root: Path):
        self.root = root
        self.postgres = start_postgres(root / "postgres")
        self.redis = start_redis(root / "redis")
        self.env = {
            **os.environ,
            "DATABASE_URL": self.postgres.get_uri(),
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": "faults-drill",
            "MEDIA_ROOT": str(root / "media"),
            "STATIC_ROOT": str(root / "static"),
            "PORT": PORT,
            "HOST": "127.0.0.1",
            "WORKER_STALE_SECONDS": "10",
            "JOB_LOST_AFTER_SECONDS": "10",
            "SHUTDOWN_GRACE_SECONDS": "5",
            # Jobs of a few seconds each, so some wait while others run.
            "STYLECORE_OPTIMIZE": '{"stage_iterations": [10]}',
            "PYTHONUNBUFFERED": "1",
            "JOB_QUOTA_ACTIVE": "100",
            "JOB_QUOTA_DAILY": "1000",
        }
        self.log = (root / "run.log").open("a")
        self.run = None

    def start(self) -> None:
        self.run = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=ROOT, env=self.env,
                                    stdout=self.log, stderr=subprocess.STDOUT)
        _wait_for(lambda: "Atelier is running" in (self.root / "run.log").read_text(), 300, "the site to start")

    def stop(self) -> None:
        self.run.send_signal(signal.SIGTERM)
        self.run.wait(120)

    def close(self) -> None:
        if self.run and self.run.poll() is None:
            self.stop()
        self.redis.stop()
        self.postgres.cleanup()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def _photo() -> bytes:
    image = Image.linear_gradient("L").resize((192, 144)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def _submit(count: int) -> list[int]:
    from django.contrib.auth import get_user_model

    from gallery import images, services
    from gallery.models import Preset

    user = get_user_model().objects.get(username="demo")
    preset = Preset.objects.filter(is_active=True).order_by("name").first()
    raw = _photo()
    request = services.JobRequest(
        content=images.clean_upload(io.BytesIO(raw), size=len(raw), max_bytes=10**7, max_pixels=10**7),
        content_name="drill.jpg", styles=(services.StyleChoice(preset=preset),), method="optimize", strength=1.0,
        preserve_color=False, max_side=64,
    )
    return [services.create_job(user, request).pk for _ in range(count)]


def _statuses(ids: list[int]) -> Counter:
    from django.db import connection

    from gallery.models import StyleJob

    try:
        return Counter(StyleJob.objects.filter(pk__in=ids).values_list("status", flat=True))
    except Exception:  # the database may be the fault being drilled
        connection.close()
        return Counter()


def _duplicates() -> int:
    from gallery import services

    try:
        return sum(len(ids) - len(set(ids)) for ids in (q.get_job_ids() for q in services.all_queues()))
    except Exception:  # Redis may be the fault being drilled
        return 0


def _watch(ids: list[int], seconds: float, duplicated: list[int]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        duplicated[0] += _duplicates()
        counts = _statuses(ids)
        if counts and sum(counts[s] for s in ("done", "failed", "canceled")) == len(ids):
            return
        time.sleep(0.5)


def _report(name: str, ids: list[int], duplicated: int) -> None:
    from gallery.models import StyleJob

    rows = StyleJob.objects.filter(pk__in=ids)
    counts = Counter(rows.values_list("status", flat=True))
    messages = Counter(rows.filter(status="failed").values_list("error", flat=True))
    stuck = len(ids) - counts["done"] - counts["failed"]
    print(f"{name}: submitted {len(ids)}, done {counts['done']}, failed {counts['failed']}, stuck {stuck}, "
          f"duplicated {duplicated}; runs {sum(rows.values_list('attempts', flat=True))}", flush=True)
    for message, count in messages.items():
        print(f"  failed x{count}: {message}", flush=True)


def _running(ids: list[int], at_least: int) -> bool:
    return _statuses(ids)["running"] >= at_least


def drill_worker_kill(site: Site) -> None:
    from rq.worker import Worker

    from gallery import services

    ids = _submit(6)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    queue = services.queue_for("optimize")
    for worker in Worker.all(queue=queue):
        if worker.get_current_job_id():
            os.kill(worker.pid, signal.SIGKILL)
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report("worker kill -9 mid-job", ids, duplicated[0])


def drill_redis_restart(site: Site) -> None:
    ids = _submit(20)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    os.kill(site.redis.process.pid, signal.SIGKILL)
    site.redis.process.wait()
    time.sleep(3)
    site.redis = start_redis(site.root / "redis")
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report("Redis kill -9, restarted 3 s later", ids, duplicated[0])


def drill_redis_flush(site: Site) -> None:
    from gallery import services

    ids = _submit(20)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    services.queue_for("optimize").connection.flushall()
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report("Redis flushed (FLUSHALL) with jobs waiting", ids, duplicated[0])


def drill_postgres_restart(site: Site) -> None:
    ids = _submit(10)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    os.kill(site.postgres.get_pid(), signal.SIGKILL)
    time.sleep(17)
    _wait_for(_restart_postgres(site), 60, "PostgreSQL to start again")
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report("PostgreSQL kill -9, down 17 s", ids, duplicated[0])


def _restart_postgres(site: Site):
    def attempt() -> bool:
        try:
            site.postgres._postmaster_info = None
            site.postgres.ensure_postgres_running()
            return True
        except Exception:  # shared memory still held by dying backends: try again
            return False

    return attempt


def drill_clean_restart(site: Site) -> None:
    ids = _submit(20)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    site.stop()
    site.start()
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report("clean restart of make run (SIGTERM)", ids, duplicated[0])


DRILLS = {
    "worker-kill": drill_worker_kill,
    "redis-restart": drill_redis_restart,
    "redis-flush": drill_redis_flush,
    "postgres-restart": drill_postgres_restart,
    "clean-restart": drill_clean_restart,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drills", nargs="*", default=list(DRILLS), help=", ".join(DRILLS))
    args = parser.parse_args()
    unknown = set(args.drills) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    root = Path(tempfile.mkdtemp(prefix="atl-faults-"))  # short: unix socket paths must fit in 108 bytes
    site = Site(root)
    try:
        os.environ.update({key: site.env[key] for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MEDIA_ROOT",
                                                            "JOB_QUOTA_ACTIVE", "JOB_QUOTA_DAILY")})
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        site.start()
        import django

        django.setup()
        for name in args.drills:
            DRILLS[name](site)
    finally:
        site.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
