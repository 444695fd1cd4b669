"""``/users`` and ``/roles``: admin only (``/users/me`` tells any caller who they are)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from tandem.api.auth import tokens
from tandem.api.auth import users as q
from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import MAX_INT, Page, page
from tandem.models.user import ApiToken, Role, User

router = APIRouter(tags=["User"])
admin = Depends(require(RoleName.ADMIN))
Username = Annotated[str, Path(max_length=256)]
TokenId = Annotated[int, Path(ge=1, le=MAX_INT)]
Viewer = Annotated[Identity, Depends(require(RoleName.VIEWER))]


def user_response(u: User) -> r.User:
    return r.User(username=u.username, email=u.email, role=u.role, roles=[r.RoleRef(name=u.role)], active=u.active,
                  created_on=u.created_at, last_login=u.last_login)


@router.get("/users/me", response_model=r.User)
def get_me(request: Request, who: Annotated[Identity, Depends(require(RoleName.VIEWER))]) -> r.User:
    with db(request) as session:
        found = q.read_user(session, who.username)
        if found is None:
            raise not_found("user")
        return user_response(found)


def token_info(t: ApiToken) -> r.TokenInfo:
    return r.TokenInfo(id=t.id, prefix=t.prefix, description=t.description, created_at=t.created_at,
                       expires_at=t.expires_at, last_used_at=t.last_used_at)


def _user(session: Session, username: str) -> User:
    found = q.read_user(session, username)
    if found is None:
        raise not_found(f"user {username!r}")
    return found


def _new_token(session: Session, user: User, body: actions.TokenBody) -> r.Token:
    secret = tokens.create_token(session, user, expires_in_days=body.expires_in_days, description=body.description)
    row = tokens.read_token(session, secret)
    assert row is not None
    return r.Token(token=secret, prefix=row.prefix, expires_at=row.expires_at)


@router.get("/users/me/tokens", response_model=r.TokenCollection)
def get_my_tokens(request: Request, who: Viewer) -> r.TokenCollection:
    with db(request) as session:
        rows = tokens.list_tokens(session, _user(session, who.username))
        return r.TokenCollection(tokens=[token_info(t) for t in rows], total_entries=len(rows))


@router.post("/users/me/tokens", response_model=r.Token)
def post_my_token(request: Request, body: actions.TokenBody, who: Viewer) -> r.Token:
    with db(request) as session:
        return _new_token(session, _user(session, who.username), body)


@router.delete("/users/me/tokens/{token_id}", status_code=204)
def delete_my_token(request: Request, token_id: TokenId, who: Viewer) -> None:
    with db(request) as session:
        tokens.revoke_token(session, _user(session, who.username), token_id)


@router.get("/users", response_model=r.UserCollection, dependencies=[admin])
def get_users(request: Request, p: Annotated[Page, Depends(page)]) -> r.UserCollection:
    with db(request) as session:
        rows = q.list_users(session)
        return r.UserCollection(users=[user_response(u) for u in rows[p.offset:p.offset + p.limit]],
                                total_entries=len(rows))


@router.post("/users", response_model=r.User, dependencies=[admin])
def post_user(request: Request, body: actions.UserBody) -> r.User:
    with db(request) as session:
        return user_response(q.create_user(session, body.username, body.password, role=body.role, email=body.email))


@router.get("/users/{username}", response_model=r.User, dependencies=[admin])
def get_user(request: Request, username: Username) -> r.User:
    with db(request) as session:
        found = q.read_user(session, username)
        if found is None:
            raise not_found(f"user {username!r}")
        return user_response(found)


@router.patch("/users/{username}", response_model=r.User, dependencies=[admin])
def patch_user(request: Request, username: Username, body: actions.UserPatch) -> r.User:
    with db(request) as session:
        return user_response(q.update_user(session, username, password=body.password, role=body.role,
                                           email=body.email, active=body.active))


@router.delete("/users/{username}", status_code=204, dependencies=[admin])
def delete_user(request: Request, username: Username) -> None:
    with db(request) as session:
        q.delete_user(session, username)


@router.post("/users/{username}/tokens", response_model=r.Token, dependencies=[admin])
def post_user_token(request: Request, username: Username, body: actions.TokenBody) -> r.Token:
    with db(request) as session:
        return _new_token(session, _user(session, username), body)


@router.get("/users/{username}/tokens", response_model=r.TokenCollection, dependencies=[admin])
def get_user_tokens(request: Request, username: Username) -> r.TokenCollection:
    with db(request) as session:
        rows = tokens.list_tokens(session, _user(session, username))
        return r.TokenCollection(tokens=[token_info(t) for t in rows], total_entries=len(rows))


@router.delete("/users/{username}/tokens/{token_id}", status_code=204, dependencies=[admin])
def delete_user_token(request: Request, username: Username, token_id: TokenId) -> None:
    with db(request) as session:
        tokens.revoke_token(session, _user(session, username), token_id)


@router.get("/roles", response_model=r.RoleCollection, dependencies=[admin], tags=["Role"])
def get_roles(request: Request) -> r.RoleCollection:
    with db(request) as session:
        rows = session.execute(sa.select(Role).order_by(Role.rank)).scalars().all()
        roles = [r.Role(name=x.name, rank=x.rank, description=x.description) for x in rows]
    return r.RoleCollection(roles=roles, total_entries=len(roles))
