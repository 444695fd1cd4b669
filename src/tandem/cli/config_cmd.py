"""``tandem config``: show the effective configuration, read one value, generate keys."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from tandem.cli.common import CliError, handle_errors, settings
from tandem.cli.output import output_option, render
from tandem.config import Settings
from tandem.config.settings import ENV_PREFIX, config_path

MASK = "***"
# Whole values that are secrets, and values that are URLs which may carry a password.
_SECRET_KEYS = {("core", "fernet_key"), ("api", "secret_key")}
_URL_KEYS = {("database", "url"), ("celery", "broker_url"), ("celery", "result_backend")}
_SENSITIVE_WORDS = ("password", "secret", "token")


def env_var(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***; other text is returned unchanged."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = (parts.username or "") + ":" + MASK
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[1]}"))


def _mask_mapping(value: dict[str, Any]) -> dict[str, Any]:
    return {k: MASK if any(w in k.lower() for w in _SENSITIVE_WORDS) else v for k, v in value.items()}


def _effective(cfg: Settings, section: str, key: str) -> Any:
    """The value in force, with the defaults that depend on TANDEM_HOME filled in."""
    derived: dict[tuple[str, str], Any] = {
        ("core", "dags_folder"): cfg.dags_folder,
        ("logging", "base_log_folder"): cfg.log_folder,
        ("database", "url"): cfg.database_url,
    }
    value = derived.get((section, key), getattr(getattr(cfg, section), key))
    return str(value) if isinstance(value, Path) else value


def _masked(section: str, key: str, value: Any) -> Any:
    if (section, key) in _SECRET_KEYS or any(w in key for w in _SENSITIVE_WORDS):
        return MASK if value else value
    if (section, key) in _URL_KEYS and isinstance(value, str):
        return mask_url(value)
    if isinstance(value, dict):
        return _mask_mapping(value)
    return value


def _file_values() -> dict[str, Any]:
    path = config_path()
    try:
        return tomllib.loads(path.read_text()) if path.exists() else {}
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # settings() already refused an unreadable file


def _source(section: str, key: str, file_values: dict[str, Any]) -> str:
    name = env_var(section, key)
    if any(k.upper() == name for k in os.environ):
        return "env"
    return "file" if key in (file_values.get(section) or {}) else "default"


def _sections(cfg: Settings) -> dict[str, list[str]]:
    return {name: list(type(getattr(cfg, name)).model_fields) for name in type(cfg).model_fields}


def _rows(cfg: Settings, only: str | None) -> list[dict[str, Any]]:
    file_values = _file_values()
    rows = []
    for section, keys in _sections(cfg).items():
        if only is not None and section != only:
            continue
        for key in keys:
            value = _masked(section, key, _effective(cfg, section, key))
            rows.append({"section": section, "key": key, "value": value, "env_var": env_var(section, key),
                         "source": _source(section, key, file_values)})
    return rows


@click.group("config")
def config() -> None:
    """Inspect the configuration (tandem.toml and TANDEM__SECTION__KEY variables)."""


@config.command("show")
@click.option("-s", "--section", help="Only this section.")
@output_option
@handle_errors
def show(section: str | None, output: str) -> None:
    """Show every effective setting, its environment variable and where it came from (secrets masked)."""
    cfg = settings()
    if section is not None and section not in _sections(cfg):
        raise CliError(f"unknown section {section!r}; sections are {', '.join(_sections(cfg))}")
    click.echo(f"# {config_path()}", err=True)
    render(_rows(cfg, section), ["section", "key", "value", "env_var", "source"], output)


# Airflow's name for the same command.
config.add_command(show, "list")


@config.command("get-value")
@click.argument("section")
@click.argument("key")
@handle_errors
def get_value(section: str, key: str) -> None:
    """Print one setting's effective value (unmasked, for scripts)."""
    cfg = settings()
    sections = _sections(cfg)
    if section not in sections:
        raise CliError(f"unknown section {section!r}; sections are {', '.join(sections)}")
    if key not in sections[section]:
        raise CliError(f"section {section!r} has no key {key!r}; keys are {', '.join(sections[section])}")
    value = _effective(cfg, section, key)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    click.echo("" if value is None else value)


@config.command("generate-key")
def generate_key() -> None:
    """Print a new fernet key for core.fernet_key (every node of a cluster needs the same one)."""
    from tandem.crypto import generate_key as new_key

    click.echo(new_key())


def register(cli: click.Group) -> None:
    cli.add_command(config)
