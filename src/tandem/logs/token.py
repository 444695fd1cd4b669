"""Short-lived tokens that let one node read one try's log from another node's log server.

Signed with the cluster's ``api.secret_key`` (itsdangerous), bound to the try they were made
for, and valid for ``MAX_AGE`` seconds: a token that leaks opens one log, briefly.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from tandem.orchestration import TiKey

SALT = "tandem.log-server"
#: Seconds a token stays valid; covers one request and a little clock skew between nodes.
MAX_AGE = 60


class MissingSecretKey(ValueError):
    """``api.secret_key`` is empty: logs cannot be served or fetched between nodes."""


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    if not secret_key:
        raise MissingSecretKey(
            "api.secret_key is empty: set the cluster's secret key on every node "
            "to serve and fetch task logs between nodes"
        )
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def _claims(key: TiKey, try_number: int) -> list[object]:
    return [key.dag_id, key.run_id, key.task_id, key.map_index, try_number]


def sign_log_request(secret_key: str, key: TiKey, try_number: int) -> str:
    return _serializer(secret_key).dumps(_claims(key, try_number))


def verify_log_request(
    secret_key: str, token: str, key: TiKey, try_number: int, max_age: int = MAX_AGE
) -> bool:
    """True when ``token`` was signed with ``secret_key`` for this try less than ``max_age`` s ago."""
    try:
        claims = _serializer(secret_key).loads(token, max_age=max_age)
    except (BadSignature, MissingSecretKey):
        return False
    return bool(claims == _claims(key, try_number))
