"""Fernet encryption of secrets at rest (connection passwords, secret variables)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from tandem.config import get_settings


class FernetKeyMissing(RuntimeError):
    pass


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _fernet(key: str | None = None) -> Fernet:
    key = key if key is not None else get_settings().core.fernet_key
    if not key:
        raise FernetKeyMissing(
            "core.fernet_key is not set: secrets cannot be encrypted; set it in tandem.toml "
            "or TANDEM__CORE__FERNET_KEY (generate one with `tandem config generate-key`)"
        )
    return Fernet(key.encode())


def encrypt(value: str, key: str | None = None) -> str:
    return _fernet(key).encrypt(value.encode()).decode()


def decrypt(token: str, key: str | None = None) -> str:
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt a stored secret: it was encrypted with another fernet key") from None
