"""Two worker machines and a web machine that share only PostgreSQL, Redis and an S3 bucket (issue 27).

Each "machine" is its own copy of the code (its own checkout, working directory, var/), with its own media, temp and
weights folders; they are started as docs/deployment.md starts them (``python -m scripts.run --role worker`` /
``--role web``), against the suite's PostgreSQL and Redis and a moto S3 server on loopback. Jobs are submitted
through the web machine's form, so uploads go in on the web machine and results come back on it.
"""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import django_rq
import pytest
import requests
from django.conf import settings
from django.test import Client
from PIL import Image

from gallery import recovery
from gallery.models import StyleJob
from tests.gallery.factories import image_bytes
from tests.gallery.test_recovery import _test_database_url, _wait_for
from tests.gallery.test_roles import _free_port
from tests.gallery.test_s3 import BUCKET, s3_bucket  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
CODE = ("manage.py", "config", "gallery", "scripts", "stylecore", "api", "templates", "static")
SHIPPED_NETWORK = ROOT / "weights" / "presets" / "starry_night.onnx"
JOBS = 12
# RQ's log line when a worker takes a job from its queue: one line per execution.
DEQUEUED = re.compile(r"Worker (\S+): styles: gallery\.jobs\.run_style_job\((\d+)\)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What a machine does write on its own disk: its log, the web role's metrics files, onnxruntime's session id file.
OWN_FILES = ("run.log", "prometheus/", "tmp/.ses")


def _machine(folder: Path, preset_name: str) -> Path:
    """A machine's own checkout and weights; its media and temp folders exist but must stay empty."""
    checkout = folder / "checkout"
    for name in CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            checkout.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, checkout / name)
    shutil.copytree(settings.STYLECORE_WEIGHTS, folder / "weights")
    # The suite's preset gets a trained network on every machine, so its jobs run with the fast method.
    shutil.copy(SHIPPED_NETWORK, folder / "weights" / "presets" / f"{preset_name}.onnx")
    for local in ("media", "tmp", "static"):
        (folder / local).mkdir()
    return checkout


def _environment(folder: Path, endpoint: str, port: int) -> dict:
    storage = {"bucket_name": BUCKET, "endpoint_url": endpoint, "default_acl": "private", "querystring_auth": True,
               "file_overwrite": False, "signature_version": "s3v4"}
    return {**os.environ, "DATABASE_URL": _test_database_url(), "HOST": "127.0.0.1", "PORT": str(port),
            "STORAGE_BACKEND": "storages.backends.s3.S3Storage", "STORAGE_OPTIONS": json.dumps(storage),
            "MEDIA_ROOT": str(folder / "media"), "TMPDIR": str(folder / "tmp"), "STATIC_ROOT": str(folder / "static"),
            "STYLECORE_WEIGHTS": str(folder / "weights"), "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
            "RQ_WORKERS": "1", "RQ_OPTIMIZE_WORKERS": "0", "JOB_QUOTA_ACTIVE": str(JOBS), "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "5", "PYTHONDONTWRITEBYTECODE": "1"}


def _start(role: str, folder: Path, env: dict) -> subprocess.Popen:
    log = open(folder / "run.log", "w")  # closed by _stop
    process = subprocess.Popen([sys.executable, "-m", "scripts.run", "--role", role], cwd=folder / "checkout",
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


def _local_files(folder: Path) -> set[str]:
    """Every file a machine holds outside its code and weights."""
    skip = {"checkout", "weights"}
    return {str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and path.relative_to(folder).parts[0] not in skip}


def _submit(base: str, session_id: str, preset_pk: int) -> int:
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, session_id)
    session.get(f"{base}/jobs/new/", timeout=30).raise_for_status()  # the CSRF cookie
    fields = {"csrfmiddlewaretoken": session.cookies["csrftoken"], "method": "fast", "strength": "1",
              "max_side": "64", "styles-TOTAL_FORMS": "1", "styles-INITIAL_FORMS": "0",
              "styles-0-preset": str(preset_pk), "styles-0-weight": "1"}
    photo = ("photo.jpg", image_bytes(size=(96, 72)), "image/jpeg")
    response = session.post(f"{base}/jobs/new/", data=fields, files={"content": photo}, allow_redirects=False,
                            timeout=60)
    assert response.status_code == 302, response.text[:2000]
    return int(re.search(r"/jobs/(\d+)/", response.headers["Location"]).group(1))


def _read_through_web(base: str, session_id: str, path: str) -> Image.Image:
    """A private file as its owner's browser gets it: the web machine checks access, then redirects to the bucket."""
    response = requests.get(f"{base}{path}", cookies={settings.SESSION_COOKIE_NAME: session_id},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 302 and "X-Amz-Signature" in response.headers["Location"], response.status_code
    with urllib.request.urlopen(response.headers["Location"], timeout=30) as signed:
        return Image.open(io.BytesIO(signed.read()))


def test_two_worker_machines_run_every_job_once_and_the_web_machine_serves_their_results(
        tmp_path, s3_bucket, owner, preset, redis_queue):
    endpoint, s3 = s3_bucket
    machines = {name: tmp_path / name for name in ("web", "worker-a", "worker-b")}
    for folder in machines.values():
        _machine(folder, preset.name)
    port = _free_port()
    envs = {name: _environment(folder, endpoint, port) for name, folder in machines.items()}
    before = {name: _local_files(folder) for name, folder in machines.items()}
    client = Client()
    client.force_login(owner)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    base = f"http://127.0.0.1:{port}"

    processes = {name: _start("web" if name == "web" else "worker", folder, envs[name])
                 for name, folder in machines.items()}
    try:
        queue = django_rq.get_queue(settings.STYLE_QUEUE)
        _wait_for(lambda: len(recovery.live_workers(queue)) == 2, 90, "both worker machines")
        _wait_for(lambda: requests.get(f"{base}/explore/", timeout=5).ok if _port_open(port) else False, 90,
                  "the web machine")
        job_ids = [_submit(base, session_id, preset.pk) for _ in range(JOBS)]
        _wait_for(lambda: not StyleJob.objects.filter(pk__in=job_ids).exclude(
            status__in=(StyleJob.Status.DONE, StyleJob.Status.FAILED)).exists(), 90, "every job to end")
        jobs = list(StyleJob.objects.filter(pk__in=job_ids).select_related("artwork", "content"))
        assert {job.status for job in jobs} == {StyleJob.Status.DONE}, [(job.pk, job.error) for job in jobs]
        # Uploads (web machine) and results (either worker machine) are in the bucket; the web machine serves them.
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        for job in jobs:
            artwork = job.artwork
            assert {job.content.file.name, artwork.image.name, artwork.thumbnail.name, artwork.render.name} <= keys
            picture = _read_through_web(base, session_id, f"/artworks/{artwork.pk}/image/")
            assert (picture.format, picture.size) == ("PNG", (artwork.width, artwork.height))
            assert _read_through_web(base, session_id, f"/artworks/{artwork.pk}/thumbnail/").format == "JPEG"
    finally:
        for process in processes.values():
            _stop(process)

    # Each job ran exactly once (the rows' attempt counters and the workers' logs agree), on both machines.
    logs = {name: ANSI.sub("", (folder / "run.log").read_text()) for name, folder in machines.items()}
    runs = {name: [(worker, int(job)) for worker, job in DEQUEUED.findall(log)] for name, log in logs.items()}
    assert [job.attempts for job in jobs] == [1] * JOBS
    executed = sorted(job for name in ("worker-a", "worker-b") for _, job in runs[name])
    assert executed == sorted(job_ids), runs
    assert runs["web"] == []
    workers = {name: {worker for worker, _ in runs[name]} for name in ("worker-a", "worker-b")}
    assert all(workers.values()), f"one machine ran every job: {runs}"
    assert {job.worker_id for job in jobs} <= workers["worker-a"] | workers["worker-b"]

    # Nothing written on any machine's own disk: no media, no temporary files left, nothing of another machine.
    after = {name: _local_files(folder) for name, folder in machines.items()}
    for name in machines:
        new = {path for path in after[name] - before[name] if not path.startswith(OWN_FILES)}
        assert not new, (name, sorted(new))


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0
