"""Configuration: one place that knows every setting.

Each setting is an MFC_* environment variable, else a key of the config file (TOML: MFC_CONFIG,
else ./mfc.toml; infra/mfc.example.toml shows every key), else its default. An environment
variable always wins, so one run can override the file.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

# src/mfc/config.py -> the checkout root, where dags/, dbt/ and expectations/ live.
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]

# A fixed key is only acceptable for synthetic data; production sets its own secret.
DEMO_PSEUDONYMISATION_KEY = "mfc-demo-key-synthetic-data-only"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the user can fix it; retrying cannot."""


CONFIG_ENV = "MFC_CONFIG"
DEFAULT_CONFIG_NAME = "mfc.toml"
# The config file's keys ([section] key), each with the environment variable that overrides it.
FILE_KEYS = {
    "warehouse_url": "MFC_WAREHOUSE_URL",
    "landing_dir": "MFC_LANDING_DIR",
    "state_dir": "MFC_STATE_DIR",
    "alert_webhook": "MFC_ALERT_WEBHOOK",
    "smtp.host": "MFC_SMTP_HOST",
    "smtp.port": "MFC_SMTP_PORT",
    "smtp.from": "MFC_SMTP_FROM",
    "smtp.to": "MFC_SMTP_TO",
    "airflow.port": "MFC_AIRFLOW_PORT",
    "airflow.parallelism": "MFC_AIRFLOW_PARALLELISM",
    "airflow.database": "MFC_AIRFLOW_DATABASE",
    "collection_started": "MFC_COLLECTION_STARTED",
}
_PATH_KEYS = {"landing_dir", "state_dir"}  # relative to the file's folder


def config_file() -> Path | None:
    """The config file in use: MFC_CONFIG (which must exist), else ./mfc.toml if there."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            raise ConfigurationError(f"{CONFIG_ENV}={named}: no such file")
        return path
    here = Path.cwd() / DEFAULT_CONFIG_NAME
    return here.resolve() if here.is_file() else None


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@lru_cache(maxsize=8)
def _read_file(path: Path, _mtime_ns: int, _size: int) -> dict[str, Any]:
    """The file's settings by dotted key; read again only when the file changes."""
    try:
        settings = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as wrong:
        raise ConfigurationError(f"{path} is not valid TOML: {wrong}") from None
    unknown = sorted(set(settings) - set(FILE_KEYS))
    if unknown:
        raise ConfigurationError(f"{path}: unknown setting(s) {', '.join(unknown)} (known: "
                                 f"{', '.join(FILE_KEYS)})")
    for key in _PATH_KEYS & set(settings):
        settings[key] = str((path.parent / Path(str(settings[key])).expanduser()).resolve())
    return settings


def setting(key: str) -> str | None:
    """A setting by its config-file key (e.g. "smtp.host"): its environment variable if set,
    else the file's value, else None. Lists (smtp.to) come back comma-separated."""
    value = os.environ.get(FILE_KEYS[key], "").strip()
    if value:
        return value
    path = config_file()
    if path is None:
        return None
    stat = path.stat()
    found = _read_file(path, stat.st_mtime_ns, stat.st_size).get(key)
    if isinstance(found, list):
        found = ",".join(str(v) for v in found)
    return str(found) if found not in (None, "") else None


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def state_dir() -> Path:
    """Local state: embedded PostgreSQL, Airflow's metadata and logs, archive of delivered
    files."""
    value = setting("state_dir")
    return Path(value).expanduser().resolve() if value else Path.cwd() / ".mfc"


def landing_dir() -> Path:
    """The landing folder the scheduled run reads (a one-off run names its own)."""
    return Path(setting("landing_dir") or "/data/landing").expanduser().resolve()


def alert_webhook() -> str | None:
    """Where a failed task posts its alert (mfc.alerts), if anywhere."""
    return setting("alert_webhook")


@dataclass(frozen=True)
class Smtp:
    """A mail server to send alerts through, as well as or instead of the webhook."""
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]


def smtp() -> Smtp | None:
    """The [smtp] settings, or None when no host is set."""
    host = setting("smtp.host")
    if not host:
        return None
    recipients = tuple(r.strip() for r in (setting("smtp.to") or "").split(",") if r.strip())
    sender = setting("smtp.from")
    if not recipients or not sender:
        raise ConfigurationError("smtp.host is set but not smtp.from and smtp.to "
                                 "(MFC_SMTP_FROM, MFC_SMTP_TO): alerts need both")
    return Smtp(host, _int_setting("smtp.port", 25, minimum=1), sender, recipients)


def _int_setting(key: str, default: int, minimum: int = 0) -> int:
    value = setting(key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{key} ({FILE_KEYS[key]}) = {value!r} is not a whole "
                                 "number") from None
    if number < minimum:
        raise ConfigurationError(f"{key} ({FILE_KEYS[key]}) = {value!r} must be at least "
                                 f"{minimum}")
    return number


def airflow_port() -> int:
    """The local Airflow's UI and API port (mfc airflow)."""
    return _int_setting("airflow.port", 8080, minimum=1)


def airflow_parallelism() -> int:
    """Task instances the local Airflow runs at once: one per core (at least two), unless
    set. More than the cores makes every task slower, dbt's most of all."""
    return _int_setting("airflow.parallelism", max(2, os.cpu_count() or 1), minimum=1)


def airflow_database() -> str:
    """The local Airflow's metadata database, on the warehouse's server."""
    return setting("airflow.database") or "mfc_airflow"


def collection_started() -> date | None:
    """The day the warehouse began collecting returns (an ISO date), if set. A return whose
    deadline fell before it is a backfill: never late, and never overdue when missing. Unset:
    the day of the warehouse's first received submission (mfc.cross_submission)."""
    value = setting("collection_started")
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"collection_started ({FILE_KEYS['collection_started']}) = "
                                 f"{value!r} is not a date such as 2024-04-01") from None


def dbt_project_dir() -> Path:
    return _path_from_env("MFC_DBT_PROJECT_DIR", _CHECKOUT_ROOT / "dbt")


def dags_dir() -> Path:
    return _path_from_env("MFC_DAGS_DIR", _CHECKOUT_ROOT / "dags")


def archive_dir() -> Path:
    """Where every delivered file is kept, by submission, whatever its fate."""
    return _path_from_env("MFC_ARCHIVE_DIR", state_dir() / "archive")


def reports_dir() -> Path:
    """Where the data-quality reports are written: a page per submission and a national page."""
    return _path_from_env("MFC_REPORTS_DIR", state_dir() / "reports")


def _int_from_env(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigurationError(f"{name}={value!r} must be at least {minimum}")
    return number


def landing_quiet_seconds() -> int:
    """A delivery counts as complete once none of its files has changed for this long (or its
    folder holds a .complete marker): a file still being written is left for the next run."""
    return _int_from_env("MFC_LANDING_QUIET_SECONDS", 60)


def max_connections() -> int:
    """The most server connections one run may hold at once (the server's max_connections is
    shared with everything else on the machine). Gate tasks hold at most two each (a psycopg
    connection and GX's, unpooled); dbt holds its threads' and one more."""
    return _int_from_env("MFC_MAX_CONNECTIONS", 20, minimum=6)


def authorities_seed() -> Path:
    return dbt_project_dir() / "seeds" / "authorities.csv"


def warehouse_url() -> str | None:
    """The warehouse PostgreSQL, e.g. postgresql://user:pw@host:5432/mfc; None: not configured."""
    return setting("warehouse_url")


def require_warehouse_url() -> str:
    url = warehouse_url()
    if not url:
        raise ConfigurationError(
            "MFC_WAREHOUSE_URL is not set (nor warehouse_url in the config file): point it at "
            "the warehouse PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/mfc "
            "(`mfc demo` starts an embedded one)."
        )
    return url


MIN_KEY_LENGTH = 16
# Set by `mfc demo` only: the one run allowed to hash with the public demo key.
_DEMO_KEY_ALLOWED = "MFC_DEMO_KEY_ALLOWED"


def use_demo_key() -> None:
    """For `mfc demo` on synthetic data: the fixed demo key, unless a key is already set."""
    if not os.environ.get("MFC_PSEUDONYMISATION_KEY"):
        os.environ["MFC_PSEUDONYMISATION_KEY"] = DEMO_PSEUDONYMISATION_KEY
        os.environ[_DEMO_KEY_ALLOWED] = "1"


def pseudonymisation_key() -> bytes:
    """Secret for keyed hashes of child identifiers (HMAC-SHA256): MFC_PSEUDONYMISATION_KEY.

    Never a silent default: a warehouse hashed with a public key is not pseudonymised."""
    value = os.environ.get("MFC_PSEUDONYMISATION_KEY")
    if value is None or not value.strip():
        raise ConfigurationError(
            "MFC_PSEUDONYMISATION_KEY is not set: set it to the warehouse's secret key (at least "
            f"{MIN_KEY_LENGTH} characters, e.g. from `openssl rand -hex 32`); only `mfc demo` "
            "uses the demo key")
    if len(value) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"MFC_PSEUDONYMISATION_KEY is {len(value)} characters long: a key "
                           f"must have at least {MIN_KEY_LENGTH}")
    if value == DEMO_PSEUDONYMISATION_KEY and os.environ.get(_DEMO_KEY_ALLOWED) != "1":
        raise ConfigurationError("MFC_PSEUDONYMISATION_KEY is the public demo key: only `mfc demo` "
                           "may use it; set the warehouse's own secret key")
    return value.encode()


def key_fingerprint(key: bytes) -> str:
    """Names a key without revealing it: an HMAC of a fixed phrase under the key."""
    import hashlib
    import hmac

    return hmac.new(key, b"mfc pseudonymisation key fingerprint", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class DbtTarget:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def as_env(self) -> dict[str, str]:
        """The variables dbt/profiles.yml reads."""
        return {
            "MFC_DBT_HOST": self.host,
            "MFC_DBT_PORT": str(self.port),
            "MFC_DBT_USER": self.user,
            "MFC_DBT_PASSWORD": self.password,
            "MFC_DBT_DBNAME": self.dbname,
        }


def dbt_target(url: str) -> DbtTarget:
    """Split a libpq URL into dbt's fields; a Unix-socket host (?host=/dir) is kept as a path."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    return DbtTarget(
        host=str(parts.get("host") or "127.0.0.1"),
        port=int(parts.get("port") or 5432),
        user=str(parts.get("user") or "postgres"),
        # dbt needs a value; trust and peer authentication ignore it.
        password=str(parts.get("password") or "unused"),
        dbname=str(parts.get("dbname") or "postgres"),
    )


# The Airflow connection dbt runs through (Cosmos maps it to a dbt profile: nightly.py).
# infra/compose.yaml sets it as AIRFLOW_CONN_WAREHOUSE; `mfc airflow` and `mfc run` set it
# from warehouse_url.
WAREHOUSE_CONN_ID = "warehouse"
WAREHOUSE_CONN_ENV = f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"


def airflow_connection(url: str) -> str:
    """The warehouse as an Airflow connection in JSON, for WAREHOUSE_CONN_ENV. JSON, not a URI:
    a Unix-socket host (?host=/dir, the embedded server's) stays a plain path."""
    from psycopg.conninfo import conninfo_to_dict

    target = dbt_target(url)
    extra = {k: str(v) for k, v in conninfo_to_dict(url).items() if k == "sslmode"}
    return json.dumps({"conn_type": "postgres", "host": target.host, "port": target.port,
                       "login": target.user, "password": target.password,
                       "schema": target.dbname, "extra": extra})


def export_dbt_env() -> None:
    """Give dbt (run by Cosmos in this process or a child) the warehouse from MFC_WAREHOUSE_URL."""
    url = warehouse_url()
    if url:
        os.environ.update(dbt_target(url).as_env())
