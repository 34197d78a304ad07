import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from gallery import services


class Command(BaseCommand):
    help = "Re-queue or fail jobs stuck in 'running' because their worker died."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            for job in services.recover_stuck_jobs():
                self.stdout.write(f"Job {job.pk}: {job.status}")
            if not every:
                return
            close_old_connections()
            time.sleep(every)
