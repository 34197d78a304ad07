import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection
from redis.exceptions import RedisError

from gallery import recovery

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Re-queue or fail jobs whose run is over, and enqueue again queued jobs whose RQ job was lost."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            try:
                for job in recovery.recover_jobs():
                    self.stdout.write(f"Job {job.pk}: {job.status}")
            except (DatabaseError, RedisError):
                if not every:
                    raise
                # A server restarting is no reason to stop checking: the next round retries.
                log.exception("Job check failed; retrying in %d s", every)
                connection.close()
            if not every:
                return
            close_old_connections()
            time.sleep(every)
