"""config/settings.py from the outside: each case runs manage.py in a fresh interpreter, with an
environment built from a clean copy of os.environ, so no test changes the settings of this process
and none needs a database server.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "config" / "settings.py"

# Every name the settings read (whatever branch), so none leaks in from the outer environment.
SETTINGS_VARS = frozenset(
    re.findall(
        r"env_(?:str|required|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", SETTINGS_FILE.read_text()
    )
)


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    # DJANGO_* too: the suite's conftest sets DJANGO_ALLOW_ASYNC_UNSAFE, which --deploy rejects.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARS and not key.startswith("DJANGO_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Anything the development shape writes goes to the test's own folder, never to var/.
    env["TSUNAGU_VAR_DIR"] = str(tmp_path / "var")
    env.update(values)
    return env


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return clean_env(
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="tsunagu.example.jp",
        # Port 1 refuses connections: a command that tried to connect would fail.
        DATABASE_URL="postgres://tsunagu:unused@127.0.0.1:1/tsunagu",
        REDIS_URL="redis://127.0.0.1:1/0",
        EMAIL_HOST="smtp.example.jp",
    )


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST"]
)
def test_production_refuses_to_start_without(production_env, missing):
    del production_env[missing]
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_blank_allowed_hosts(production_env):
    production_env["ALLOWED_HOSTS"] = " , "
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_a_database_on_local_disk(production_env, tmp_path):
    # A second web host would have a database (and sessions) of its own: docs/scaling.md.
    production_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'tsunagu.sqlite3'}"
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "DATABASE_URL must be PostgreSQL" in result.stderr


@pytest.fixture
def production_env_with_database(production_env) -> dict[str, str]:
    """Production settings with the suite's PostgreSQL: Django's model checks ask the database
    whether it supports the caseload's generated column (Case.follow_up_on), as a release's
    `check --deploy` would, with its database up."""
    production_env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return production_env


@pytest.mark.postgres
def test_production_passes_the_deploy_checks(production_env_with_database):
    production_env = production_env_with_database
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_are_for_this_host_over_https_only(production_env):
    """The __Host- prefix binds the browser: Secure, no Domain, Path=/ (ASVS 3.3.1)."""
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN, "
        "s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH)"
    )
    result = manage(production_env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "__Host-tsunagu-session",
        "__Host-tsunagu-csrf",
        "True",
        "True",
        "None",
        "None",
        "/",
        "/",
    ]


def test_no_missing_migrations(tmp_path):
    result = manage(clean_env(tmp_path), "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    # The development shape wrote its secret and database under the test's folder.
    assert (tmp_path / "var" / "secret_key").exists()


def test_bad_boolean_fails_naming_the_variable(tmp_path):
    result = manage(clean_env(tmp_path, DJANGO_ENV="development", DEBUG="maybe"), "check")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
    assert "maybe" in result.stderr


def test_unknown_django_env_fails(tmp_path):
    result = manage(clean_env(tmp_path, DJANGO_ENV="staging"), "check")
    assert result.returncode != 0
    assert "DJANGO_ENV" in result.stderr


@pytest.mark.postgres
def test_seed_demo_refuses_in_production(production_env_with_database):
    result = manage(production_env_with_database, "seed_demo")
    assert result.returncode != 0
    assert "production" in result.stderr
