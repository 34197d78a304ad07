from django.core.management.base import BaseCommand

from gallery import services


class Command(BaseCommand):
    help = "Create the demo account if it does not exist."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="atelier-demo")
        parser.add_argument("--email", default="demo@example.com")

    def handle(self, *args, username, password, email, **options):
        services.ensure_demo_user(username, password, email)
        self.stdout.write(f"Demo account ready: {username}")
