"""scripts.run's roles: what each one starts, and a site made of a worker role and a web role."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from types import SimpleNamespace

import psutil
import pytest
from django.conf import settings
from gunicorn.ctl.client import ControlClient

from config import gunicorn as gunicorn_hooks
from gallery.models import Preset, StyleJob
from scripts.run import DEMO_STEP, RELEASE_STEPS, plan
from tests.gallery.test_recovery import _test_database_url, _wait_for

SHARED = {"DATABASE_URL": "postgresql://atelier@db.internal/atelier", "REDIS_URL": "redis://redis.internal:6379/0"}


def _names(site) -> list[str]:
    return [process.name for process in site.processes]


def test_the_release_role_runs_the_release_steps_and_starts_nothing():
    site = plan("release", SHARED)
    assert site.steps == RELEASE_STEPS
    assert [step[0] for step in site.steps] == ["migrate", "collectstatic", "seed_presets"]
    assert (site.embedded, site.processes) == ((), ())


def test_a_gunicorn_process_that_exits_drops_its_live_gauges_and_keeps_its_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "counter_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    gunicorn_hooks.child_exit(None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]
    web = next(p for p in plan("web", SHARED).processes if p.name == "gunicorn")
    assert "python:config.gunicorn" in web.args


def test_the_web_role_starts_gunicorn_only():
    site = plan("web", {**SHARED, "HOST": "0.0.0.0", "PORT": "9000"})
    assert (site.embedded, site.steps, _names(site)) == ((), (), ["gunicorn"])
    assert "0.0.0.0:9000" in site.processes[0].args


def test_the_worker_role_starts_the_workers_of_each_queue_and_the_checker():
    site = plan("worker", {**SHARED, "RQ_WORKERS": "2", "RQ_OPTIMIZE_WORKERS": "1"})
    assert (site.embedded, site.steps) == ((), ())
    assert _names(site) == ["worker styles-1", "worker styles-2", "worker optimize-1", "job checker"]
    assert site.processes[-1].args[-3:] == ("recover_jobs", "--every", "60")


def test_the_default_role_is_the_whole_site_with_embedded_servers_and_the_demo_account():
    site = plan("all", {})
    assert site.embedded == ("postgres", "redis")
    assert site.steps == (*RELEASE_STEPS, DEMO_STEP)
    assert _names(site) == ["gunicorn", "worker styles-1", "worker optimize-1", "job checker"]


def test_the_default_role_makes_no_demo_account_in_a_database_it_did_not_start():
    site = plan("all", {"DATABASE_URL": SHARED["DATABASE_URL"]})
    assert site.embedded == ("redis",)
    assert site.steps == RELEASE_STEPS


@pytest.mark.parametrize("role", ["release", "web", "worker"])
def test_a_part_of_a_larger_site_needs_its_shared_servers(role):
    with pytest.raises(SystemExit, match="set DATABASE_URL and REDIS_URL"):
        plan(role, {"REDIS_URL": SHARED["REDIS_URL"]})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(role: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scripts.run", "--role", role], cwd=settings.BASE_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def _health(port: int) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health/", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
    except OSError:
        return 0, {}


def _scrape(port: int, token: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


@pytest.mark.django_db(transaction=True)
def test_a_release_then_a_worker_machine_and_a_web_machine_make_a_site(tmp_path, redis_queue, django_user_model):
    Preset.objects.all().delete()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "HOST": "127.0.0.1", "PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "SHUTDOWN_GRACE_SECONDS": "2",
           "METRICS_TOKEN": "role-test"}
    release = subprocess.run([sys.executable, "-m", "scripts.run", "--role", "release"], cwd=settings.BASE_DIR,
                             env=env, capture_output=True, text=True, timeout=300)
    assert release.returncode == 0, release.stderr
    assert Preset.objects.exists()  # seeded by the release step
    assert not django_user_model.objects.filter(username="demo").exists()  # never outside the embedded default

    web = _start("web", env)
    worker = None
    try:
        status, body = _wait_for(lambda: (result := _health(port))[0] and result, 120, "the web role to answer")
        assert status == 500 and body["Workers(queue='styles')"].startswith("Unavailable: No live worker")

        worker = _start("worker", env)
        status, body = _wait_for(lambda: (result := _health(port))[0] == 200 and result, 120, "the workers")
        assert set(body.values()) == {"OK"}
        metrics = _scrape(port, "role-test")
        assert 'atelier_workers{queue="styles"} 1.0' in metrics
        # Request metrics through the multiprocess files every gunicorn process writes and the scraped one reads.
        assert "django_http_requests_total_by_method_total{method=\"GET\"}" in metrics
    finally:
        web_output = _stop(web)
        worker_output = _stop(worker) if worker else ""
    assert f"Atelier is running at http://127.0.0.1:{port}/ (role web)" in web_output
    assert "RQ workers" not in web_output
    assert "Atelier is running (role worker)" in worker_output
    assert "RQ workers: 1 for fast and any-style jobs, 1 for optimisation ones." in worker_output
    assert (web.returncode, worker.returncode) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_fast_job_is_done_while_an_optimisation_job_runs_on_the_worker_role(owner, make_job, device_preset,
                                                                               redis_queue):
    # The workers make run starts (one per queue, the defaults), on the suite's Redis; the optimisation job would run
    # for hours, so it is still running whenever the fast one is done.
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "STYLECORE_OPTIMIZE": '{"stage_iterations": [100000]}',
           "SHUTDOWN_GRACE_SECONDS": "1"}
    for name in ("RQ_WORKERS", "RQ_OPTIMIZE_WORKERS"):
        env.pop(name, None)
    slow = make_job(owner, method="optimize", max_side=64)
    worker = _start("worker", env)
    try:
        _wait_for(lambda: StyleJob.objects.filter(pk=slow.pk, status=StyleJob.Status.RUNNING).exists(), 120,
                  "the optimisation job to start")
        fast = make_job(owner, method="fast", max_side=64)
        _wait_for(lambda: StyleJob.objects.filter(pk=fast.pk).exclude(status__in=[StyleJob.Status.QUEUED,
                  StyleJob.Status.RUNNING]).exists(), 120, "the fast job to end")
        slow.refresh_from_db()
        fast.refresh_from_db()
    finally:
        output = _stop(worker)
    assert (fast.status, fast.error) == (StyleJob.Status.DONE, ""), output
    assert slow.status == StyleJob.Status.RUNNING and slow.progress < 100
    assert fast.worker_id != slow.worker_id
    assert "RQ workers: 1 for fast and any-style jobs, 1 for optimisation ones." in output


def _control_socket(run: subprocess.Popen) -> str | None:
    """The control socket (gunicornc's) the gunicorn that ``run`` started listens on, once it does."""
    for child in psutil.Process(run.pid).children():
        if "gunicorn" in child.cmdline():
            paths = [c.laddr for c in child.net_connections(kind="unix") if c.laddr.endswith(".ctl")]
            return paths[0] if paths else None
    return None


def _master_pid(control_socket: str) -> int:
    with ControlClient(control_socket, timeout=10) as client:
        return client.send_command("show stats")["pid"]


def test_two_web_instances_on_one_machine_keep_their_own_control_socket(tmp_path):
    # HOME and XDG_RUNTIME_DIR as a user's shell has them, here in tmp_path: gunicorn's default socket lives there.
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "HOME": str(tmp_path / "home"),
           "XDG_RUNTIME_DIR": str(tmp_path / "run"), "SHUTDOWN_GRACE_SECONDS": "2"}
    (tmp_path / "run").mkdir()
    first = _start("web", {**env, "PORT": str(_free_port()), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m1")})
    second = None
    try:
        first_socket = _wait_for(lambda: _control_socket(first), 120, "the first instance's control socket")
        second = _start("web", {**env, "PORT": str(_free_port()), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m2")})
        second_socket = _wait_for(lambda: _control_socket(second), 120, "the second instance's control socket")
        second_master = _master_pid(second_socket)
        assert _master_pid(first_socket) != second_master  # each instance answers its own

        _stop(first)
        assert first.returncode == 0
        assert _master_pid(second_socket) == second_master  # stopping one leaves the other's socket alone
    finally:
        _stop(first)
        if second:
            _stop(second)
