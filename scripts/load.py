"""Load test of the public pages: seed a separate database, run the site as `make run` does, drive it with locust.

    python -m scripts.load --artworks 10000 --users 200 --clients 1 10 50 --seconds 30

Everything runs on this machine: an embedded PostgreSQL under var/load/ (its own database, dropped and seeded again
on every run), a Redis without persistence, gunicorn on 127.0.0.1 with the workers and threads of scripts/run.py,
and locust headless against it, bounded by --seconds and --max-requests per client count. The p50/p95/p99 table is
written into docs/reliability.md, replacing the section of the same number of artworks.
"""

import argparse
import csv
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from scripts.localservers import start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "load"
REPORT = ROOT / "docs" / "reliability.md"
DATABASE = "atelier_load"
PAGES = ("/explore/ newest", "/explore/ newest, page 2", "/explore/?sort=top", "/u/<user>/", "artwork page",
         "like (POST)", "job status JSON")
# The listing query of each page whose plan the report shows: the view's own SQL, captured and run under EXPLAIN.
COST = re.compile(r" {1,2}\(cost=[^)]*\)")
LISTING = re.compile(r'FROM "gallery_artwork".*ORDER BY .* LIMIT \d+$', re.S)
ARTWORK_SCAN = re.compile(r"(Index Scan(?: Backward)? using \w+|Index Only Scan using \w+|Seq Scan|Bitmap Heap Scan)"
                          r" on gallery_artwork\b")
SECTION = "## Load: the public pages under concurrent clients"


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m scripts.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--artworks", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--likes", type=int, help="default: 2.65 per artwork, as in issue 27's measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=30, help="length of each client count's run (at most 600)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per client count's run")
    parser.add_argument("--submissions", type=int, default=20, help="new-picture form posts to time, at the end")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--no-report", action="store_true", help="print the table, leave docs/reliability.md alone")
    args = parser.parse_args(argv)
    args.likes = round(args.artworks * 2.65) if args.likes is None else args.likes
    if not 1 <= args.seconds <= 600 or not 1 <= args.max_requests <= 10_000_000:
        parser.error("--seconds must be 1-600 and --max-requests 1-10,000,000: a load run is bounded.")
    if not 0 <= args.submissions <= args.users:
        parser.error("--submissions must be 0 to --users: each account submits once.")
    if args.users < 1 or args.artworks < 1 or not 0 <= args.likes <= args.users * args.artworks // 2:
        parser.error("Give at least one user and artwork, and at most half of all (user, artwork) pairs as likes.")
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_database(server) -> str:
    import psycopg2

    admin = psycopg2.connect(server.get_uri())
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    return server.get_uri(DATABASE)


def _environment(database_url: str, redis_url: str, media: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "load-test-only",
        "DEBUG": "0",
        "MEDIA_ROOT": str(media),
        "STATIC_ROOT": str(media.parent / "static"),
        # Pages only: their static file names need no manifest, and the requests stay out of the access log.
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        # Clients like without pause; the per-user like limit (120 a minute) would answer 429s instead of the page.
        "RATE_LIMITS": json.dumps({"like": [1_000_000, 60]}),
    })
    return env


def _seed(env: dict, args, accounts: Path) -> dict:
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from scripts.load_seed import seed

    started = time.monotonic()
    counts = seed(artworks=args.artworks, users=args.users, likes=args.likes, accounts_file=accounts)
    print(f"Seeded {counts} in {time.monotonic() - started:.0f} s.", flush=True)
    return counts


def _explain(accounts: Path) -> list[dict]:
    """EXPLAIN ANALYZE of the listing query each public page runs: the view's SQL, captured from a request by a
    signed-in user, run twice (the second, warm plan is kept). Django is set up on the load database."""
    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gallery import access
    from gallery.pagination import cursor_of

    seeded = json.loads(accounts.read_text())
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = seeded["accounts"][0]["session"]
    newest = access.explore_artworks(AnonymousUser(), "new")
    middle = newest[newest.count() // 2]
    top_user, top_count = Counter(seeded["owners"]).most_common(1)[0]
    pages = {
        "/explore/ newest": "/explore/",
        "/explore/ newest, page 2": "/explore/?after=" + cursor_of(newest[11], newest),
        "/explore/ newest, middle page": "/explore/?after=" + cursor_of(middle, newest),
        "/explore/?sort=top": "/explore/?sort=top",
        f"/u/<user>/ (the user with most artworks, {top_count})": f"/u/{top_user}/",
    }
    plans = []
    for name, path in pages.items():
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200, path
        sql = next(query["sql"] for query in captured.captured_queries if LISTING.search(query["sql"]))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        plans.append({"page": name, "path": path, "plan": plan, "queries": len(captured.captured_queries)})
    connection.close()
    return plans


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"The site did not answer {url} within {timeout} s.")


def _run_locust(env: dict, host: str, clients: int, args, out: Path) -> list[dict]:
    prefix = out / f"clients{clients}"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless",
         "--host", host, "--users", str(clients), "--spawn-rate", str(clients), "--run-time", f"{args.seconds}s",
         "--max-requests", str(args.max_requests), "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, check=False, timeout=args.seconds + 120,
    )
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _phone_photo() -> bytes:
    """A 12-megapixel JPEG of about 6 MB, as a phone takes: a gradient with sensor-like noise."""
    import numpy
    from PIL import Image

    noise = numpy.random.default_rng(27).normal(0, 20, (3024, 4032, 3))
    gradient = numpy.linspace(0, 255, 4032)[None, :, None]
    buffer = io.BytesIO()
    Image.fromarray(numpy.clip(gradient + noise, 0, 255).astype("uint8")).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _time_submissions(host: str, accounts_file: Path, count: int) -> list[float]:
    """Seconds for each of ``count`` new-picture form posts (a photo and a preset), one after the other, each by
    another account (the quotas allow a few waiting jobs each). No worker runs: the jobs stay queued."""
    import requests

    seeded = json.loads(accounts_file.read_text())
    photo, seconds = _phone_photo(), []
    for account in seeded["accounts"][:count]:
        session = requests.Session()
        session.cookies.set("sessionid", account["session"])
        session.get(f"{host}/jobs/new/", timeout=30).raise_for_status()  # sets the CSRF cookie
        fields = {"csrfmiddlewaretoken": session.cookies["csrftoken"], "method": "fast", "strength": "1",
                  "max_side": "1024", "styles-TOTAL_FORMS": "1", "styles-INITIAL_FORMS": "0",
                  "styles-0-preset": str(seeded["preset"]), "styles-0-weight": "1"}
        started = time.monotonic()
        response = session.post(f"{host}/jobs/new/", data=fields, files={"content": ("photo.jpg", photo, "image/jpeg")},
                                headers={"Referer": f"{host}/jobs/new/"}, allow_redirects=False, timeout=60)
        seconds.append(time.monotonic() - started)
        if response.status_code != 302:
            raise RuntimeError(f"The form answered {response.status_code} instead of a redirect to the job.")
    return seconds


def _uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _plan_summary(plan: list[str]) -> tuple[str, str]:
    """How the plan reads gallery_artwork (an index scan and its name, or a scan of the whole table), and its time."""
    scans = sorted({match.group(1) for line in plan if (match := ARTWORK_SCAN.search(line))})
    sorts = any(line.strip().startswith("Sort ") or "-> Sort" in line for line in plan)
    execution = next(line.split(":", 1)[1].strip() for line in plan if line.startswith("Execution Time"))
    return ", ".join(scans) + (", then a sort" if sorts else ""), execution


def _plan_outline(plan: list[str]) -> list[str]:
    kept = [line for index, line in enumerate(plan) if index == 0 or line.lstrip().startswith(
        ("->", "Index Cond", "Execution Time"))]
    return [COST.sub("", line) for line in kept]


def _table(results: dict[int, list[dict]], counts: dict, run: dict, seconds: int, submissions: list[float],
           plans: list[dict]) -> str:
    lines = [
        f"### {counts['artworks']:,} public artworks, {counts['users']:,} users, {counts['likes']:,} likes",
        "",
        f"Run {run['date']}: `{run['command']}`. Load average (1, 5, 15 min) at the start {run['load'][0]}, at the "
        f"end {run['load'][1]} (2 cores, shared). Each client count for {seconds} s, clients without pause.",
        "",
        "| page | clients | requests (errors) | requests/s | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for page in (*PAGES, "Aggregated"):
        for clients, rows in results.items():
            row = next((row for row in rows if row["Name"] == page), None)
            if not row or not int(row["Request Count"]):
                continue
            lines.append(f"| {'all' if page == 'Aggregated' else page} | {clients} | {int(row['Request Count']):,} "
                         f"({row['Failure Count']}) | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | "
                         f"{row['99%']} |")
    if submissions:
        ordered = sorted(submissions)
        lines += ["", f"Job submission through the new-picture form, a 12-megapixel JPEG photo (6 MB), one after "
                  f"another, {len(ordered)} times: p50 {statistics.median(ordered) * 1000:.0f} ms, slowest "
                  f"{ordered[-1] * 1000:.0f} ms."]
    lines += ["", "The listing query of each page, as the view runs it, under `EXPLAIN ANALYZE` (warm):",
              "", "| page | how gallery_artwork is read | execution |", "| --- | --- | --- |"]
    for entry in plans:
        print(f"{entry['page']}: {entry['path']}", *entry["plan"], sep="\n")
        scan, execution = _plan_summary(entry["plan"])
        lines.append(f"| {entry['page']} | {scan} | {execution} |")
    lines += ["", f"The explore feed's first page, `EXPLAIN ANALYZE` (nodes and index conditions; costs, buffers and "
              f"per-node details left out; `python -m scripts.load` prints each plan whole):", "", "```",
              *_plan_outline(plans[0]["plan"]), "```"]
    return "\n".join(lines) + "\n"


def _write_report(table: str, artworks: int) -> None:
    """Replace this artwork count's subsection of the Load section (or add it), keeping every other one."""
    text = REPORT.read_text()
    intro = (f"{SECTION}\n\nMeasured with `python -m scripts.load` (scripts/load.py, scripts/locustfile.py) on one "
             "machine: gunicorn as `make run` starts it (2 processes, 4 threads), embedded PostgreSQL and Redis, "
             "and locust on the same two cores, with whatever else ran then (the load averages say how busy). "
             "Signed-in clients read explore (newest, its second page through the page's own link, most liked), "
             "a random profile and artwork page, like or unlike a random artwork, and poll their job's status. "
             "To reproduce a row: the command in its heading.\n")
    head, _, rest = text.partition(SECTION)
    body, _, tail = rest.partition("\n## ")
    tail = f"\n## {tail}" if tail else ""
    parts = {int(match.group(1).replace(",", "")): match.group(0)
             for match in re.finditer(r"### ([\d,]+) public artworks.*?(?=\n### |\Z)", body, re.S)}
    parts[artworks] = table
    sections = "\n".join(parts[key].rstrip("\n") + "\n" for key in sorted(parts))
    REPORT.write_text(head.rstrip("\n") + "\n\n" + intro + "\n" + sections + tail)


def main(argv=None) -> None:
    args = _arguments(argv)
    run = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": [_uptime()],
           "command": " ".join(["python -m scripts.load", *(sys.argv[1:] if argv is None else argv)])}
    VAR.mkdir(parents=True, exist_ok=True)
    postgres = start_postgres(VAR / "postgres")
    redis = start_redis(VAR / "redis", persist=False)
    gunicorn = None
    try:
        with tempfile.TemporaryDirectory(prefix="atelier-load-") as scratch:
            out = Path(scratch)
            env = _environment(_fresh_database(postgres), redis.url, VAR / "media")
            env["LOAD_ACCOUNTS"] = str(out / "accounts.json")
            counts = _seed(env, args, out / "accounts.json")
            plans = _explain(out / "accounts.json")
            port = args.port or _free_port()
            host = f"http://127.0.0.1:{port}"
            # No control socket: its default path is shared, and this gunicorn's stop would remove a running site's.
            gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                 "--threads", "4", "--no-control-socket"], cwd=ROOT, env=env, start_new_session=True,
            )
            _wait_for(f"{host}/explore/", gunicorn)
            for path in ("/explore/", "/explore/?sort=top", "/u/painter0000/"):  # warm both processes' caches
                for _ in range(6):
                    urllib.request.urlopen(host + path, timeout=30).read()
            results = {clients: _run_locust(env, host, clients, args, out) for clients in args.clients}
            submissions = _time_submissions(host, out / "accounts.json", args.submissions)
            run["load"].append(_uptime())
            table = _table(results, counts, run, args.seconds, submissions, plans)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
        redis.stop()
    print(table)
    if not args.no_report:
        _write_report(table, args.artworks)
        print(f"Written into {REPORT.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
