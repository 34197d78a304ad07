"""Settings helpers read the environment and fail loudly on values they cannot parse."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


@pytest.mark.parametrize(
    ("helper", "raw"),
    [
        (lambda: env.env_bool("X_TEST", False), "maybe"),
        (lambda: env.env_int("X_TEST", 1), "ten"),
        (lambda: env.env_int("X_TEST", 1, minimum=5), "3"),
        (lambda: env.env_int_list("X_TEST", [1]), "512,big"),
        (lambda: env.env_json_object("X_TEST", {}), "[1, 2]"),
        (lambda: env.env_json_object("X_TEST", {}), "{not json"),
        (lambda: env.env_url("X_TEST", schemes=("redis",)), "http://example.com"),
    ],
    ids=["bool", "int", "int-minimum", "int-list", "json-array", "json-broken", "url-scheme"],
)
def test_it_fails_loudly_on_bad_values(helper, raw, monkeypatch):
    monkeypatch.setenv("X_TEST", raw)
    with pytest.raises(ImproperlyConfigured):
        helper()


def test_it_requires_a_value_without_a_default(monkeypatch):
    monkeypatch.delenv("X_TEST", raising=False)
    with pytest.raises(ImproperlyConfigured):
        env.env_str("X_TEST")


def test_it_parses_typed_values(monkeypatch):
    monkeypatch.setenv("X_TEST", "yes")
    assert env.env_bool("X_TEST", False) is True
    monkeypatch.setenv("X_TEST", " a, b ,,c ")
    assert env.env_list("X_TEST", []) == ["a", "b", "c"]
    monkeypatch.setenv("X_TEST", "512,1024")
    assert env.env_int_list("X_TEST", [1]) == [512, 1024]


def test_it_accepts_postgres_urls_only():
    with pytest.raises(ImproperlyConfigured):
        env.parse_database_url("sqlite:///db.sqlite3")
    socket = env.parse_database_url("postgresql://postgres:@/atelier?host=/run/pg")
    assert (socket["NAME"], socket["HOST"], socket["USER"]) == ("atelier", "/run/pg", "postgres")
    tcp = env.parse_database_url("postgres://u:p%40ss@db.example:6543/app?sslmode=require")
    assert (tcp["HOST"], tcp["PORT"], tcp["PASSWORD"], tcp["OPTIONS"]) == (
        "db.example", "6543", "p@ss", {"sslmode": "require"}
    )


def test_the_workers_engine_refuses_optimisation_above_the_forms_limit(settings):
    from gallery.jobs import get_engine

    get_engine.cache_clear()
    settings.JOB_OPTIMIZE_MAX_SIDE = 512
    try:
        assert get_engine().config.optimize_max_side == 512
    finally:
        get_engine.cache_clear()

