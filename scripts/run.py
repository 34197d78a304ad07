"""`make run`: start Atelier locally with everything it needs, and stop it all on Ctrl-C.

Starts embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set),
migrates, seeds presets and the demo account, then runs gunicorn, RQ worker(s) and
the stuck-job checker until interrupted. Run as ``python -m scripts.run``.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from scripts.localservers import start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "atelier-demo"
RECOVER_EVERY_SECONDS = 60


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


def _spawn(env: dict, *args: str) -> subprocess.Popen:
    # Own session: the runner decides the shutdown order instead of the terminal's SIGINT.
    return subprocess.Popen(list(args), cwd=ROOT, env=env, start_new_session=True)


def _stop_all(processes: list[subprocess.Popen], timeout: float = 20.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    env = dict(os.environ)
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    workers = int(env.get("RQ_WORKERS", "1"))
    env.setdefault("SECRET_KEY", _secret_key())
    env.setdefault("MEDIA_ROOT", str(VAR / "media"))
    env.setdefault("SITE_URL", f"http://{host}:{port}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # numpy's work here is small (the any-style method's 256 x 256 statistics); a multithreaded OpenBLAS spins its
    # threads and takes the cores from ONNX Runtime and from the other processes (docs/engine.md).
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    signal.signal(signal.SIGTERM, _interrupt)

    with ExitStack() as stack:
        if "DATABASE_URL" not in env:
            postgres = start_postgres(VAR / "postgres")
            stack.callback(postgres.cleanup)
            env["DATABASE_URL"] = postgres.get_uri()
        if "REDIS_URL" not in env:
            redis = start_redis(VAR / "redis")
            stack.callback(redis.stop)
            env["REDIS_URL"] = redis.url

        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "collectstatic", "--noinput", "-v", "0")
        _manage(env, "seed_presets")
        _manage(env, "seed_demo", "--username", DEMO_USERNAME, "--password", DEMO_PASSWORD)

        processes = [
            _spawn(env, sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}",
                   "--workers", "2", "--threads", "4", "--access-logfile", "-"),
            *(
                _spawn(env, sys.executable, "manage.py", "rqworker", "styles",
                       "--worker-class", "gallery.worker.AtelierWorker")
                for _ in range(workers)
            ),
            _spawn(env, sys.executable, "manage.py", "recover_jobs", "--every", str(RECOVER_EVERY_SECONDS)),
        ]
        stack.callback(_stop_all, processes)

        print(
            f"\n  Atelier is running at http://{host}:{port}/\n"
            f"  Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
            f"  {workers} RQ worker(s). Press Ctrl-C to stop.\n",
            flush=True,
        )
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            print("A process exited unexpectedly; stopping Atelier.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nStopping Atelier…", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
