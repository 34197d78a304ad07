"""Stopping cleanly: a worker told twice to stop gives its job back uncounted; make run's supervisor restarts what
exits, with back-off, and stops in order."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from gallery.models import StyleJob
from scripts.run import Supervisor
from tests.gallery.test_recovery import _test_database_url, _wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_it_gives_back_a_job_interrupted_by_a_cold_shutdown_without_counting_it(owner, make_job, redis_queue):
    job = make_job(owner)
    env = {**os.environ, "DATABASE_URL": _test_database_url(),
           "STYLECORE_OPTIMIZE": '{"stage_iterations": [5000]}'}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", settings.OPTIMIZE_QUEUE, "--worker-class",
         "gallery.worker.AtelierWorker", "--serializer", settings.RQ_SERIALIZER],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: StyleJob.objects.filter(pk=job.pk, progress__gt=0).exists(), 120, "the job to progress")
        worker.send_signal(signal.SIGTERM)  # warm: would wait for the job
        time.sleep(1.5)  # RQ takes a second signal within a second for the same one
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)  # cold
        worker.wait(60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker_id) == (StyleJob.Status.QUEUED, 0, "")
    assert redis_queue.get_job_ids() == [str(job.pk)]  # queued again at once, by the stopping worker


def _pid_file_child(tmp_path: Path, code: str) -> list[str]:
    return [sys.executable, "-c", f"import os, pathlib, sys, time\n{code}"]


def test_it_restarts_an_exited_process_with_back_off(tmp_path):
    starts = tmp_path / "starts"
    supervisor = Supervisor(dict(os.environ))
    supervisor.add("crasher", *_pid_file_child(tmp_path, f"open({str(starts)!r}, 'a').write('x'); sys.exit(3)"))
    deadline = time.monotonic() + 6.5
    while time.monotonic() < deadline:
        supervisor.watch()
        time.sleep(0.1)
    supervisor.stop(grace=1)
    # Started at 0 s, then after 1 s, 2 s (at ~3 s) and 4 s (at ~7 s, after the deadline): three starts.
    assert starts.read_text() == "xxx"


def test_it_stops_a_process_that_outlives_the_grace_period(tmp_path):
    supervisor = Supervisor(dict(os.environ))
    # Like an RQ worker busy with a long job: the first SIGTERM only asks; the second one stops it.
    supervisor.add("stubborn", *_pid_file_child(tmp_path, (
        "import signal\n"
        "signal.signal(signal.SIGTERM, lambda *a: signal.signal(signal.SIGTERM, signal.SIG_DFL))\n"
        "time.sleep(60)")))
    time.sleep(1)
    started = time.monotonic()
    supervisor.stop(grace=2)
    assert 2 <= time.monotonic() - started < 8
    assert all(child["process"].poll() is not None for child in supervisor.children)
