"""What every command shares: settings, the home folder, the schema check, error reporting."""

from __future__ import annotations

import functools
import logging
import secrets
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import ConfigError, Settings, get_settings, reset_settings
from tandem.config.settings import config_path

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes
RET_OK = 0
RET_ERROR = 1
RET_RUN_FAILED = 3


class CliError(click.ClickException):
    """An error shown as one clear line, without a traceback."""

    exit_code = RET_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def ensure_home() -> None:
    """Create $TANDEM_HOME with a config holding fresh cluster secrets, on first use."""
    path = config_path()
    if path.exists():
        return
    from tandem.crypto import generate_key

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Tandem configuration: every node of a cluster uses the same file.\n"
        "# Any key can be overridden by TANDEM__SECTION__KEY environment variables.\n\n"
        "[core]\n"
        f'fernet_key = "{generate_key()}"\n\n'
        "[api]\n"
        f'secret_key = "{secrets.token_urlsafe(32)}"\n'
    )
    path.chmod(0o600)
    reset_settings()


def settings() -> Settings:
    try:
        ensure_home()
        return get_settings()
    except ConfigError as e:
        raise CliError(str(e)) from None


def engine() -> Engine:
    """The metadata DB engine, refused unless its schema is this code's (an empty SQLite DB is created)."""
    from tandem.db.engine import get_engine
    from tandem.db.migrate import SchemaNotCurrent, check_schema_current

    settings()
    eng = get_engine()
    try:
        check_schema_current(eng)
    except sa.exc.OperationalError as e:
        raise CliError(f"cannot reach the metadata database {eng.url!r}: {str(e.orig).strip()}") from None
    except SchemaNotCurrent as e:
        raise CliError(str(e)) from None
    return eng


def setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else getattr(logging, get_settings().logging.level, logging.INFO)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def handle_errors(func: F) -> F:
    """Turn expected failures into one line on stderr and exit code 1."""
    from tandem.crypto import FernetKeyMissing
    from tandem.exceptions import ParamValidationError
    from tandem.scheduler.dagruns import DagNotFound, RunExists

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KeyError as e:
            raise CliError(str(e.args[0]) if e.args else "not found") from None
        except (DagNotFound, RunExists, ParamValidationError, FernetKeyMissing, LookupError, ValueError) as e:
            raise CliError(str(e)) from None
        except sa.exc.OperationalError as e:
            raise CliError(f"database error: {str(e.orig).strip()}") from None

    return wrapper  # type: ignore[return-value]
