"""Role ranks: a route names the least role it needs, and every higher role passes."""

from __future__ import annotations

from enum import StrEnum


class RoleName(StrEnum):
    VIEWER = "viewer"
    USER = "user"
    OP = "op"
    ADMIN = "admin"


RANK: dict[str, int] = {RoleName.VIEWER: 0, RoleName.USER: 1, RoleName.OP: 2, RoleName.ADMIN: 3}


def role_allows(role: str, needed: RoleName) -> bool:
    """True when ``role`` is ``needed`` or above it; an unknown role allows nothing."""
    return role in RANK and RANK[role] >= RANK[needed]
