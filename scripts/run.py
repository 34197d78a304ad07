"""Start Atelier in one of its roles, and stop it all on Ctrl-C or SIGTERM (docs/deployment.md).

``python -m scripts.run`` (what `make run` runs; ``--role all``) is the one-machine site: embedded PostgreSQL and Redis
unless DATABASE_URL / REDIS_URL are set, the release step, the demo account (embedded database only), then gunicorn,
RQ workers for each queue and the job checker, restarting any that exits, until interrupted.

On several machines the same code starts as one role each, against external PostgreSQL, Redis and storage:

- ``--role release``: migrations, static files and the presets, once per release, then exits;
- ``--role web``: gunicorn only;
- ``--role worker``: RQ_WORKERS workers for fast and any-style jobs, RQ_OPTIMIZE_WORKERS for optimisation ones, and
  the job checker.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from scripts.localservers import start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "atelier-demo"
RECOVER_EVERY_SECONDS = 60
STABLE_SECONDS = 60  # a process that ran this long before exiting is restarted after 1 s again
MAX_BACKOFF_SECONDS = 60
COLD_STOP_SECONDS = 10
WORKER = ("manage.py", "rqworker", "--worker-class", "gallery.worker.AtelierWorker",
          "--serializer", "rq.serializers.JSONSerializer")
ROLES = ("all", "release", "web", "worker")
# Once per release, before the new code serves: the schema, the static files whitenoise serves, the engine's presets.
RELEASE_STEPS = (("migrate", "--noinput", "-v", "0"), ("collectstatic", "--noinput", "-v", "0"), ("seed_presets",))
DEMO_STEP = ("seed_demo", "--username", DEMO_USERNAME, "--password", DEMO_PASSWORD)


@dataclass(frozen=True)
class Process:
    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # on top of the runner's environment


@dataclass(frozen=True)
class Plan:
    """What a role does: servers it embeds, manage.py steps it runs once, processes it keeps running."""

    embedded: tuple[str, ...]
    steps: tuple[tuple[str, ...], ...]
    processes: tuple[Process, ...]


def plan(role: str, env: dict) -> Plan:
    """The plan of ``role``; only ``all`` embeds servers: the others are for machines that share external ones."""
    embedded = tuple(name for name, url in (("postgres", "DATABASE_URL"), ("redis", "REDIS_URL")) if url not in env)
    if role != "all" and embedded:
        raise SystemExit(f"--role {role} runs against shared servers: set DATABASE_URL and REDIS_URL "
                         "(only the default role, all, starts embedded ones).")
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8000")
    # gunicorn's processes share their request metrics through prometheus_client's multiprocess files.
    metrics_folder = env.get("PROMETHEUS_MULTIPROC_DIR", str(VAR / f"prometheus-{port}"))
    # gunicorn's control socket (gunicornc) defaults to one path per user, ~/.gunicorn/gunicorn.ctl: a second
    # instance on the machine would take it over, and stopping either removes it from under the other.
    web = Process("gunicorn", (sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "python:config.gunicorn",
                               "--bind", f"{host}:{port}", "--control-socket", str(VAR / f"gunicorn-{port}.ctl"),
                               "--workers", "2", "--threads", "4", "--access-logfile", "-"),
                  env=(("PROMETHEUS_MULTIPROC_DIR", metrics_folder),))
    workers = (
        *(Process(f"worker styles-{index + 1}", (sys.executable, *WORKER, "styles"))
          for index in range(int(env.get("RQ_WORKERS", "1")))),
        *(Process(f"worker optimize-{index + 1}", (sys.executable, *WORKER, "optimize"))
          for index in range(int(env.get("RQ_OPTIMIZE_WORKERS", "1")))),
        Process("job checker", (sys.executable, "manage.py", "recover_jobs", "--every", str(RECOVER_EVERY_SECONDS))),
    )
    if role == "release":
        return Plan((), RELEASE_STEPS, ())
    if role == "web":
        return Plan((), (), (web,))
    if role == "worker":
        return Plan((), (), workers)
    demo = (DEMO_STEP,) if "postgres" in embedded else ()
    return Plan(embedded, RELEASE_STEPS + demo, (web, *workers))


def _secret_key() -> str:
    """A random key kept under var/, so sessions survive restarts without a key in git."""
    path = VAR / "secret_key"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


class Supervisor:
    """Keeps the site's processes running: a process that exits is started again after a back-off (1 s, doubling
    up to a minute, reset once it has run for a minute), so a crash-looping worker does not spin the CPU.

    RQ's WorkerPool restarts dead workers too, but every second without back-off, for workers only, forked from one
    Django process; this one treats gunicorn, both kinds of worker and the job checker alike.
    """

    def __init__(self, env: dict):
        self.env = env
        self.children: list[dict] = []

    def add(self, name: str, *args: str, env: dict | None = None) -> None:
        child = {"name": name, "args": list(args), "env": {**self.env, **(env or {})}, "failures": 0,
                 "restart_at": 0.0}
        self.children.append(child)
        self._start(child)

    def _start(self, child: dict) -> None:
        # Own session: the runner decides the shutdown order instead of the terminal's SIGINT.
        child["process"] = subprocess.Popen(child["args"], cwd=ROOT, env=child["env"], start_new_session=True)
        child["started_at"] = time.monotonic()

    def watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            process = child["process"]
            if process is None:
                if now >= child["restart_at"]:
                    print(f"Starting {child['name']} again.", file=sys.stderr, flush=True)
                    self._start(child)
            elif process.poll() is not None:
                if now - child["started_at"] > STABLE_SECONDS:
                    child["failures"] = 0
                delay = min(2 ** child["failures"], MAX_BACKOFF_SECONDS)
                child["failures"] += 1
                child["process"], child["restart_at"] = None, now + delay
                print(f"{child['name']} exited with {process.returncode}; restarting in {delay} s.", file=sys.stderr,
                      flush=True)

    def stop(self, grace: float) -> None:
        """SIGTERM: gunicorn and the checker stop, RQ workers finish their job (warm shutdown). After ``grace``
        seconds a second SIGTERM makes the workers stop at once (cold shutdown), which gives the job back without
        counting the attempt; what still runs 10 s later is killed."""
        running = [child["process"] for child in self.children if child["process"] is not None]
        for process in running:
            _signal(process, signal.SIGTERM)
        if _wait(running, grace):
            return
        print(f"Jobs still running after {grace:.0f} s: interrupting them; they are queued again.", flush=True)
        for process in running:
            _signal(process, signal.SIGTERM)
        if not _wait(running, COLD_STOP_SECONDS):
            for process in running:
                _signal(process, signal.SIGKILL)
            _wait(running, COLD_STOP_SECONDS)


def _signal(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        process.send_signal(signum)


def _wait(processes: list[subprocess.Popen], timeout: float) -> bool:
    """True once every process has exited; False after ``timeout`` s or when a signal asks to hurry."""
    deadline = time.monotonic() + timeout
    while any(process.poll() is None for process in processes):
        if time.monotonic() > deadline or _hurry.is_set():
            _hurry.clear()
            return False
        time.sleep(0.2)
    return True


_hurry = threading.Event()
_stop_requested_at = 0.0


def _interrupt(signum, frame):
    global _stop_requested_at
    _stop_requested_at = time.monotonic()
    # From here on a signal hurries the stop along instead of breaking it off.
    signal.signal(signal.SIGINT, _hurry_up)
    signal.signal(signal.SIGTERM, _hurry_up)
    raise KeyboardInterrupt


def _hurry_up(signum, frame):
    # A second Ctrl-C (or SIGTERM) skips to the next, firmer step, keeping the order. One within a second is the
    # same stop arriving twice: a group SIGTERM reaches make, which passes it on to this process as well.
    if time.monotonic() - _stop_requested_at > 1:
        _hurry.set()


def _clear_metrics_folders(processes: tuple[Process, ...]) -> None:
    # prometheus_client's multiprocess files of an earlier run would add that run's requests to this one's.
    for process in processes:
        folder = dict(process.env).get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            Path(folder).mkdir(parents=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=ROLES, default="all",
                        help="all (default): the one-machine site; release, web or worker: one part of a larger one")
    role = parser.parse_args(argv).role
    env = dict(os.environ)
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    grace = float(env.get("SHUTDOWN_GRACE_SECONDS", "20"))
    site = plan(role, env)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # for gunicorn alone: plan() hands it on to that process only
    if role == "all":
        env.setdefault("SECRET_KEY", _secret_key())
        env.setdefault("MEDIA_ROOT", str(VAR / "media"))
        env.setdefault("SITE_URL", f"http://{host}:{port}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # numpy's work here is small (the any-style method's 256 x 256 statistics); a multithreaded OpenBLAS spins its
    # threads and takes the cores from ONNX Runtime and from the other processes (docs/engine.md).
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)

    with ExitStack() as stack:
        if "postgres" in site.embedded:
            postgres = start_postgres(VAR / "postgres")
            stack.callback(postgres.cleanup)
            env["DATABASE_URL"] = postgres.get_uri()
        if "redis" in site.embedded:
            redis = start_redis(VAR / "redis")
            stack.callback(redis.stop)
            env["REDIS_URL"] = redis.url

        for step in site.steps:
            _manage(env, *step)
        if not site.processes:
            return 0

        _clear_metrics_folders(site.processes)
        supervisor = Supervisor(env)
        for process in site.processes:
            supervisor.add(process.name, *process.args, env=dict(process.env))

        workers = sum(process.name.startswith("worker styles") for process in site.processes)
        optimize_workers = sum(process.name.startswith("worker optimize") for process in site.processes)
        where = f" at http://{host}:{port}/" if role in ("all", "web") else ""
        print(f"\n  Atelier is running{where}" + ("" if role == "all" else f" (role {role})"), flush=True)
        if DEMO_STEP in site.steps:
            print(f"  Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}", flush=True)
        if workers or optimize_workers:
            print(f"  RQ workers: {workers} for fast and any-style jobs, {optimize_workers} for optimisation ones.",
                  flush=True)
        print("  Press Ctrl-C to stop.\n", flush=True)
        try:
            while True:
                supervisor.watch()
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping Atelier…", flush=True)
        # Web and workers first; then, as the ExitStack unwinds, Redis (which writes its snapshot) and PostgreSQL.
        supervisor.stop(grace)
        return 0


if __name__ == "__main__":
    sys.exit(main())
