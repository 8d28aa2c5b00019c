"""The deployment files in infra/ agree with the checkout.

No container engine runs on the development machines, so these tests read the files instead of
starting them: the services are there, Airflow keeps its metadata in PostgreSQL and runs the
LocalExecutor, and every path the compose file and the Dockerfile name exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
COMPOSE = INFRA / "compose.yaml"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
LONG_RUNNING_SERVICES = (
    "postgres",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str) -> str:
    """Compose's variable substitution, with every variable unset: defaults, else a placeholder."""
    value = value.replace("$$", "\0")

    def replace(match: re.Match[str]) -> str:
        op = match.group("op") or ""
        return match.group("arg") if op.endswith("-") else "placeholder"

    return _VARIABLE.sub(replace, value).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: _interpolate(str(value)) for key, value in env.items()}


def _bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of every bind mount; named volumes are left out."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((_interpolate(volume["source"]), volume["target"]))
            continue
        source, _, rest = _interpolate(volume).partition(":")
        target = rest.split(":", 1)[0]
        if source.startswith((".", "/", "~")):
            mounts.append((source, target))
    return mounts


def _host_path(source: str) -> Path:
    """A bind-mount source as Compose resolves it: relative to the compose file's folder."""
    path = Path(source).expanduser()
    return (path if path.is_absolute() else INFRA / path).resolve()


def _mount_target(service: dict[str, Any], checkout_dir: str) -> str:
    for source, target in _bind_mounts(service):
        if _host_path(source) == (ROOT / checkout_dir).resolve():
            return target
    raise AssertionError(f"{checkout_dir}/ of the checkout is not mounted")


def test_services_exist(services: dict[str, Any]) -> None:
    expected = {"postgres", *AIRFLOW_SERVICES}
    assert expected <= set(services), f"missing services: {sorted(expected - set(services))}"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_uses_local_executor_and_postgres_metadata(
    services: dict[str, Any], name: str
) -> None:
    env = _environment(services[name])
    assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor"
    conn = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    assert conn.startswith("postgresql"), f"{name}: metadata connection is {conn!r}"
    assert "sqlite" not in conn
    # Airflow's own database on the compose postgres service, not the warehouse.
    assert re.search(r"@postgres(:5432)?/airflow$", conn), conn


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_configuration(services: dict[str, Any], name: str) -> None:
    service = services[name]
    env = _environment(service)
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert env["MFC_WAREHOUSE_URL"].startswith("postgresql://mfc_loader:")
    assert env["MFC_WAREHOUSE_URL"].endswith("@postgres:5432/mfc")
    for variable in ("MFC_PSEUDONYMISATION_KEY", "MFC_STATE_DIR", "MFC_LANDING_DIR"):
        assert env.get(variable), f"{name}: {variable} not set"
    # What the configuration points at is what the checkout provides.
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == _mount_target(service, "dags")
    assert env["MFC_DBT_PROJECT_DIR"] == _mount_target(service, "dbt")
    _mount_target(service, "expectations")
    build = service["build"]
    assert (_host_path(build["context"]) / build["dockerfile"]).is_file()


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    """A missing key must stop `docker compose`, not start with a known value."""
    text = COMPOSE.read_text(encoding="utf-8")
    for secret in ("MFC_PSEUDONYMISATION_KEY", "MFC_LOADER_PASSWORD", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + secret + r"(:?[-?])?[^}]*\}", text)
        assert uses, f"{secret} is not used"
        assert all(op in (":?", "?") for op in uses), f"{secret} has a default"


def test_every_bind_mount_source_exists(services: dict[str, Any]) -> None:
    missing = [
        f"{name}: {source} -> {_host_path(source)}"
        for name, service in services.items()
        for source, _target in _bind_mounts(service)
        if not _host_path(source).exists()
    ]
    assert not missing, "bind-mount sources not in the checkout:\n" + "\n".join(missing)


def test_checkout_folders_are_mounted(services: dict[str, Any]) -> None:
    sources = {_host_path(source) for source, _ in _bind_mounts(services["airflow-scheduler"])}
    for folder in ("dags", "dbt", "expectations"):
        assert (ROOT / folder).resolve() in sources, f"../{folder} is not mounted"
        assert (ROOT / folder).is_dir()


@pytest.mark.parametrize("name", LONG_RUNNING_SERVICES)
def test_healthchecks(services: dict[str, Any], name: str) -> None:
    assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_apiserver_on_port_8080(services: dict[str, Any]) -> None:
    ports = [str(port) for port in services["airflow-apiserver"].get("ports", [])]
    assert any(port.endswith("8080:8080") for port in ports), ports


def test_dockerfile_copies_what_exists(services: dict[str, Any]) -> None:
    build = services["airflow-scheduler"]["build"]
    context = _host_path(build["context"])
    dockerfile = context / build["dockerfile"]
    assert dockerfile.is_file(), dockerfile
    text = dockerfile.read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11\s*$", text, re.M)
    copies = [line.split()[1:] for line in text.splitlines() if line.startswith("COPY ")]
    assert copies, "the Dockerfile copies nothing"
    for args in copies:
        sources = [arg for arg in args if not arg.startswith("--")][:-1]
        for source in sources:
            assert (context / source).exists(), f"COPY {source}: not in the build context"
    assert re.search(r"pip install --no-cache-dir .*/opt/mfc\s*$", text, re.M)


def test_init_sql_creates_both_databases(services: dict[str, Any]) -> None:
    scripts = [
        _host_path(source)
        for source, target in _bind_mounts(services["postgres"])
        if target.startswith("/docker-entrypoint-initdb.d/")
    ]
    assert scripts == [INFRA / "postgres" / "init.sql"]
    sql = scripts[0].read_text(encoding="utf-8")
    for database in ("airflow", "mfc"):
        assert re.search(rf'^CREATE DATABASE "?{database}"?\b', sql, re.M | re.I), database
    for role in ("airflow", "mfc_loader", "mfc_analyst"):
        assert re.search(rf'^CREATE ROLE "?{role}"?\b', sql, re.M | re.I), role
