"""Fault drills against a real `make run` (scripts.run), on loopback and throwaway servers, each bounded in time.

    .venv/bin/python -m scripts.faults [worker-kill redis-restart redis-flush postgres-restart clean-restart
                                        full-disk damaged-weights]

Starts its own PostgreSQL and Redis under a temporary folder and `scripts.run` on them (port 8765), submits small
jobs through the service layer, applies the fault, waits until every job has finished or the drill's time is up, and
prints: submitted / done / failed (with their messages) / stuck / duplicated (an id waiting twice in a queue at once,
sampled twice a second). docs/reliability.md records what it printed.

The full-disk drill puts the media folder on a small tmpfs, so it needs the right to mount (root, or CAP_SYS_ADMIN);
without it, it says so and is skipped.
"""

import argparse
import errno
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
DRILL_USER = "drill"
MEDIA_DISK = "16m"  # the full-disk drill's media tmpfs: room for every drill's photos and results


class Site:
    """PostgreSQL, Redis and `scripts.run` on them; the servers outlive restarts of the site."""

    def __init__(self, root: Path):
        self.root = root
        # A copy, so the damaged-weights drill can break files without touching the checkout's.
        shutil.copytree(ROOT / "weights", root / "weights")
        self.postgres = start_postgres(root / "postgres")
        self.redis = start_redis(root / "redis")
        self.env = {
            **os.environ,
            "DATABASE_URL": self.postgres.get_uri(),
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": "faults-drill",
            "MEDIA_ROOT": str(root / "media"),
            "STYLECORE_WEIGHTS": str(root / "weights"),
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
        log = self.root / "run.log"
        earlier = log.stat().st_size  # the log of the runs before this one
        self.run = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=ROOT, env=self.env,
                                    stdout=self.log, stderr=subprocess.STDOUT)
        _wait_for(lambda: b"Atelier is running" in log.read_bytes()[earlier:], 300, "the site to start")

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


def _drill_user():
    from django.contrib.auth import get_user_model

    from gallery import services

    user = get_user_model().objects.get_or_create(username=DRILL_USER)[0]
    services.ensure_profile(user)
    return user


def _request(preset=None, method: str = "optimize"):
    from gallery import images, services
    from gallery.models import Preset

    preset = preset or Preset.objects.filter(is_active=True).order_by("name").first()
    raw = _photo()
    return services.JobRequest(
        content=images.clean_upload(io.BytesIO(raw), size=len(raw), max_bytes=10**7, max_pixels=10**7),
        content_name="drill.jpg", styles=(services.StyleChoice(preset=preset),), method=method, strength=1.0,
        preserve_color=False, max_side=64,
    )


def _submit(count: int, **request) -> list[int]:
    from gallery import services

    user = _drill_user()
    return [services.create_job(user, _request(**request)).pk for _ in range(count)]


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


def _unrecorded_files(media: Path) -> list[Path]:
    """Files in the media folder that no row records: what a half-done write would leave behind."""
    from django.apps import apps
    from django.db import models

    recorded = set()
    for model in apps.get_app_config("gallery").get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                recorded |= set(model.objects.exclude(**{field.name: ""}).values_list(field.name, flat=True))
    return [path for path in media.rglob("*") if path.is_file() and str(path.relative_to(media)) not in recorded]


def _fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; the file is returned, to be removed to make room again."""
    filler = disk / "filler.bin"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: nothing left to write when it is closed
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler


def _refused_submissions(count: int) -> Counter:
    from gallery import services

    outcomes = Counter()
    for _ in range(count):
        try:
            services.create_job(_drill_user(), _request())
            outcomes["accepted"] += 1
        except services.StorageUnavailableError as exc:
            outcomes[f"refused: {exc}"] += 1
    return outcomes


def drill_full_disk(site: Site) -> None:
    """The media folder is a small tmpfs of its own (main mounts it): filled up, then read-only, then freed."""
    media = site.root / "media"
    ids = _submit(10)
    _wait_for(lambda: _running(ids, 1), 120, "a job to run")
    filler = _fill(media)
    duplicated = [0]
    refused = _refused_submissions(5)
    _watch(ids, DRILL_SECONDS, duplicated)
    _report(f"media disk full ({MEDIA_DISK} tmpfs) with jobs running and waiting", ids, duplicated[0])
    _print_outcomes("  submissions meanwhile", refused)
    filler_size = filler.stat().st_size
    subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
    try:
        _print_outcomes("  submissions to the read-only disk", _refused_submissions(5))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(media)], check=True)
    print(f"  files no row records: {len(_unrecorded_files(media)) - 1} (besides the {filler_size} byte filler)",
          flush=True)
    filler.unlink()
    again = _submit(5)
    _watch(again, DRILL_SECONDS, duplicated)
    _report("  room again, 5 new jobs", again, duplicated[0])


def _print_outcomes(what: str, outcomes: Counter) -> None:
    print(f"{what}: " + "; ".join(f"{outcome} x{count}" for outcome, count in outcomes.items()), flush=True)


def drill_damaged_weights(site: Site) -> None:
    """One preset's network truncated, another's deleted, found when the workers start again."""
    from rq.worker import Worker

    from gallery import services
    from gallery.models import Preset

    corrupt, missing, healthy = Preset.objects.filter(is_active=True).order_by("name")[:3]
    network = site.root / "weights" / "presets" / f"{corrupt.name}.onnx"
    network.write_bytes(network.read_bytes()[: network.stat().st_size // 2])
    (site.root / "weights" / "presets" / f"{missing.name}.onnx").unlink()
    # The workers stop (a deploy, a crash); `make run` starts them again, and they check the weights as they start.
    for queue in services.all_queues():
        for worker in Worker.all(queue=queue):
            os.kill(worker.pid, signal.SIGTERM)
    _wait_for(lambda: not Preset.objects.filter(pk__in=[corrupt.pk, missing.pk], is_active=True).exists(), 120,
              "the workers to hide the damaged presets")
    log = (site.root / "run.log").read_text()
    told = [line.split("] ")[-1] for line in log.splitlines() if "is damaged" in line or "Hidden from the form" in line]
    # Jobs that reach the queue anyway (queued before the damage, or through a form opened before): fast ones.
    ids = _submit(4, preset=corrupt, method="fast") + _submit(4, preset=missing, method="fast")
    ids += _submit(4, preset=healthy, method="fast")
    duplicated = [0]
    _watch(ids, DRILL_SECONDS, duplicated)
    _report(f"damaged weights ({corrupt.name}.onnx truncated, {missing.name}.onnx deleted), 4 fast jobs each and 4 "
            f"of {healthy.name}", ids, duplicated[0])
    hidden = Preset.objects.filter(is_active=False).values_list("name", flat=True)
    print(f"  presets hidden from the form: {', '.join(sorted(hidden))}", flush=True)
    for line in dict.fromkeys(told):
        print(f"  operator's log: {line}", flush=True)


DRILLS = {
    "worker-kill": drill_worker_kill,
    "redis-restart": drill_redis_restart,
    "redis-flush": drill_redis_flush,
    "postgres-restart": drill_postgres_restart,
    "clean-restart": drill_clean_restart,
    "full-disk": drill_full_disk,
    "damaged-weights": drill_damaged_weights,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drills", nargs="*", default=list(DRILLS), help=", ".join(DRILLS))
    args = parser.parse_args()
    unknown = set(args.drills) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    root = Path(tempfile.mkdtemp(prefix="atl-faults-"))  # short: unix socket paths must fit in 108 bytes
    media = root / "media"
    if "full-disk" in args.drills:
        media.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={MEDIA_DISK}", "tmpfs", str(media)],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            print(f"full-disk skipped: cannot mount a tmpfs ({mounted.stderr.strip()})", flush=True)
            args.drills.remove("full-disk")
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
        if media.is_mount():
            subprocess.run(["umount", str(media)], check=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
