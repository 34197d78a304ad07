"""The visitors of `python -m scripts.load`: signed-in users reading public pages, liking, polling a job, no pause.

Run by scripts/load.py through locust's command line; it reads the seeded accounts from LOAD_ACCOUNTS (a JSON file).
"""

import json
import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, constant, events, task

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
OLDER_LINK = re.compile(r'<a href="([^"]+)" rel="next">')
_environment = None  # locust's, kept at init for the request-count bound


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    parser.add_argument("--max-requests", type=int, default=0, help="Stop after this many requests (0: no limit).")


@events.test_start.add_listener
def _refuse_other_hosts(environment, **kwargs):
    if urlsplit(environment.host or "").hostname not in LOOPBACK:
        raise SystemExit(f"The load test runs against this machine only (127.0.0.1), not {environment.host!r}.")


@events.request.add_listener
def _stop_at_the_request_bound(**kwargs):
    runner = _environment.runner
    bound = _environment.parsed_options.max_requests
    if bound and runner and runner.stats.total.num_requests >= bound:
        runner.quit()


@events.init.add_listener
def _keep_environment(environment, **kwargs):
    global _environment
    _environment = environment


class Visitor(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        with open(os.environ["LOAD_ACCOUNTS"]) as handle:
            seeded = json.load(handle)
        account = random.choice(seeded["accounts"])
        self.client.cookies.set("sessionid", account["session"])
        self.job_id = account["job"]
        self.usernames, self.artworks = seeded["usernames"], seeded["artworks"]
        self.client.get("/explore/", name="/explore/ newest")  # sets the CSRF cookie the like posts send back

    @task
    def explore_newest(self):
        page = self.client.get("/explore/", name="/explore/ newest")
        older = OLDER_LINK.search(page.text)
        if older:  # the next page, through the link the page gives (a keyset cursor)
            self.client.get("/explore/" + older.group(1).replace("&amp;", "&"), name="/explore/ newest, page 2")

    @task
    def explore_top(self):
        self.client.get("/explore/?sort=top", name="/explore/?sort=top")

    @task
    def profile(self):
        self.client.get(f"/u/{random.choice(self.usernames)}/", name="/u/<user>/")

    @task
    def artwork(self):
        self.client.get(f"/artworks/{random.choice(self.artworks)}/", name="artwork page")

    @task
    def like(self):
        # As the artwork page's button does (static/gallery/artwork.js): JSON, with the CSRF cookie as a header.
        self.client.post(f"/artworks/{random.choice(self.artworks)}/like/", name="like (POST)",
                         json={"liked": random.random() < 0.5},
                         headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")})

    @task
    def job_status(self):
        self.client.get(f"/jobs/{self.job_id}/status/", name="job status JSON")
