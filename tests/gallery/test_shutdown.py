"""Stopping cleanly: a worker told twice to stop gives its job back uncounted; make run's supervisor restarts what
exits, with back-off, and stops in order."""

import os
import signal
import socket
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


def _start_web_role(tmp_path, command: list[str], **popen) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "PORT": str(port), "SHUTDOWN_GRACE_SECONDS": "5",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           **popen)
    _wait_for(lambda: _answers(port), 120, "the web role to answer")
    return run, port


WEB_ROLE = [sys.executable, "-m", "scripts.run", "--role", "web"]


def _answers(port: int) -> bool:
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) == 0


def _stopped(run: subprocess.Popen) -> str:
    try:
        output, _ = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        run.kill()
        raise
    return output


@pytest.mark.django_db(transaction=True)
def test_a_service_managers_sigterm_to_the_process_group_stops_it_cleanly(tmp_path):
    # Through make, as `make run` is, in a process group of its own, as a service manager starts it; the stop
    # signals the whole group at once, so the runner hears it from the group and from make.
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{' '.join(WEB_ROLE)}\n")
    run, port = _start_web_role(tmp_path, ["make", "-f", str(makefile), "run"], start_new_session=True)
    os.killpg(run.pid, signal.SIGTERM)
    output = _stopped(run)
    assert "Stopping Atelier" in output and "Traceback" not in output, output
    assert not _answers(port)


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_it_when_it_was_started_in_the_background(tmp_path):
    # A shell starts a background command (`make run &`) with SIGINT ignored; the runner must still obey it.
    run, port = _start_web_role(tmp_path, WEB_ROLE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    run.send_signal(signal.SIGINT)
    output = _stopped(run)
    assert run.returncode == 0 and "Traceback" not in output, output
    assert "Stopping Atelier" in output and not _answers(port)
