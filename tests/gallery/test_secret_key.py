"""SECRET_KEY must be given once a database is: machines that made up their own keys could not share sessions."""

import os
import subprocess
import sys

from django.conf import settings


def _check(**overrides) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != "SECRET_KEY"}
    environment.update(overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_it_refuses_to_start_with_a_database_and_no_secret_key():
    result = _check()
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is required when DATABASE_URL is set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # it says how to make one


def test_it_refuses_an_empty_secret_key_in_debug_mode_too():
    result = _check(SECRET_KEY="  ", DEBUG="1")
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_it_starts_with_a_database_and_a_secret_key():
    result = _check(SECRET_KEY="one-key-for-every-machine")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
