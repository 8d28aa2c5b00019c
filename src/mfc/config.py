"""Configuration from the environment: one place that knows every MFC_* variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# src/mfc/config.py -> the checkout root, where dags/, dbt/ and expectations/ live.
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]

# A fixed key is only acceptable for synthetic data; production sets its own secret.
DEMO_PSEUDONYMISATION_KEY = "mfc-demo-key-synthetic-data-only"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the user can fix it; retrying cannot."""


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def state_dir() -> Path:
    """Local state: embedded PostgreSQL, Airflow's SQLite metadata, archive of delivered files."""
    return _path_from_env("MFC_STATE_DIR", Path.cwd() / ".mfc")


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
    return os.environ.get("MFC_WAREHOUSE_URL") or None


def require_warehouse_url() -> str:
    url = warehouse_url()
    if not url:
        raise ConfigurationError(
            "MFC_WAREHOUSE_URL is not set: point it at the warehouse PostgreSQL, "
            "e.g. postgresql://postgres@127.0.0.1:5432/mfc (`mfc demo` starts an embedded one)."
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


def export_dbt_env() -> None:
    """Give dbt (run by Cosmos in this process or a child) the warehouse from MFC_WAREHOUSE_URL."""
    url = warehouse_url()
    if url:
        os.environ.update(dbt_target(url).as_env())
