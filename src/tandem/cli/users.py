"""``tandem users`` and ``tandem tokens``: who may use the API and UI, and with which role."""

from __future__ import annotations

import secrets

import click

from tandem.cli.common import engine, handle_errors
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope

ROLE_CHOICE = click.Choice(["viewer", "user", "op", "admin"])
USER_COLUMNS = ["username", "role", "email", "active", "created_at", "last_login"]


@click.group()
def users() -> None:
    """Manage the users of the API and web UI."""


@users.command("create")
@click.option("-u", "--username", required=True)
@click.option("-p", "--password", help="Prompted for when not given.")
@click.option("--use-random-password", is_flag=True, help="Generate a password and print it.")
@click.option("-r", "--role", type=ROLE_CHOICE, required=True, help="viewer < user < op < admin.")
@click.option("-e", "--email", default="")
@handle_errors
def create(username: str, password: str | None, use_random_password: bool, role: str, email: str) -> None:
    """Create a user."""
    from tandem.api.auth.users import create_user

    if use_random_password:
        password = secrets.token_urlsafe(12)
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope(engine()) as session:
        create_user(session, username, password or "", role=role, email=email)
    click.echo(f"User {username} created with role {role}")
    if use_random_password:
        click.echo(f"Password: {password}")


@users.command("list")
@output_option
@handle_errors
def list_(output: str) -> None:
    """List users."""
    from tandem.api.auth.users import list_users

    with session_scope(engine()) as session:
        rows = [{c: getattr(u, c) for c in USER_COLUMNS} for u in list_users(session)]
    render(rows, USER_COLUMNS, output, empty="No users.")


@users.command("delete")
@click.option("-u", "--username", required=True)
@handle_errors
def delete(username: str) -> None:
    """Delete a user and their API tokens."""
    from tandem.api.auth.users import delete_user

    with session_scope(engine()) as session:
        delete_user(session, username)
    click.echo(f"User {username} deleted")


@users.command("reset-password")
@click.option("-u", "--username", required=True)
@click.option("-p", "--password", help="Prompted for when not given.")
@handle_errors
def reset_password_(username: str, password: str | None) -> None:
    """Set a new password (ends the user's open UI sessions)."""
    from tandem.api.auth.users import reset_password

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with session_scope(engine()) as session:
        reset_password(session, username, password or "")
    click.echo(f"Password of {username} reset")


@click.group()
def tokens() -> None:
    """Manage API tokens (sent as ``Authorization: Bearer <token>``)."""


@tokens.command("create")
@click.option("-u", "--username", required=True)
@click.option("--expires-in-days", type=float, help="Default: security.token_default_expiry_days.")
@click.option("--description", default="")
@handle_errors
def create_token_(username: str, expires_in_days: float | None, description: str) -> None:
    """Create a token for a user and print it; it is shown this once only."""
    from tandem.api.auth.tokens import create_token
    from tandem.api.auth.users import read_user

    with session_scope(engine()) as session:
        user = read_user(session, username)
        if user is None:
            raise LookupError(f"user {username!r} not found")
        token = create_token(session, user, expires_in_days=expires_in_days, description=description)
    click.echo(token)


TOKEN_COLUMNS = ["id", "prefix", "description", "created_at", "expires_at", "last_used_at"]


@tokens.command("list")
@click.option("-u", "--username", required=True)
@output_option
@handle_errors
def list_tokens_(username: str, output: str) -> None:
    """List a user's tokens (never their secrets)."""
    from tandem.api.auth.tokens import list_tokens
    from tandem.api.auth.users import read_user

    with session_scope(engine()) as session:
        user = read_user(session, username)
        if user is None:
            raise LookupError(f"user {username!r} not found")
        rows = [{c: getattr(t, c) for c in TOKEN_COLUMNS} for t in list_tokens(session, user)]
    render(rows, TOKEN_COLUMNS, output, empty="No tokens.")


@tokens.command("revoke")
@click.option("-u", "--username", required=True)
@click.option("--id", "token_id", type=int, required=True, help="The token's id, from `tandem tokens list`.")
@handle_errors
def revoke_token_(username: str, token_id: int) -> None:
    """Revoke a token: it stops working at once, on every api-server."""
    from tandem.api.auth.tokens import revoke_token
    from tandem.api.auth.users import read_user

    with session_scope(engine()) as session:
        user = read_user(session, username)
        if user is None:
            raise LookupError(f"user {username!r} not found")
        revoke_token(session, user, token_id)
    click.echo(f"Token {token_id} of {username} revoked")


def register(cli: click.Group) -> None:
    cli.add_command(users)
    cli.add_command(tokens)
