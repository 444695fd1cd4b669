from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from .conftest import Cli, add_run


def test_set_list_delete(cli: Cli, engine: Engine) -> None:
    # Given a pool with two task instances holding 2 slots each: one running, one done
    assert cli("pools", "set", "p1", "5", "five slots").code == 0
    add_run(engine, "d", "r1", tis={"a": ("running", 1), "b": ("success", 1)}, pool="p1")

    # When
    listed = json.loads(cli("pools", "list", "-o", "json").out)

    # Then
    assert {r["name"]: (r["slots"], r["occupied"], r["open"]) for r in listed} == {
        "default_pool": (128, 0, 128), "p1": (5, 2, 3)}
    assert cli("pools", "set", "p1", "7", "seven").code == 0
    assert json.loads(cli("pools", "get", "p1", "-o", "json").out)[0]["slots"] == 7
    assert cli("pools", "delete", "p1").code == 0
    assert [r["name"] for r in json.loads(cli("pools", "list", "-o", "json").out)] == ["default_pool"]


def test_errors(cli: Cli, engine: Engine) -> None:
    default = cli("pools", "delete", "default_pool")
    unknown = cli("pools", "delete", "nope")
    negative = cli("pools", "set", "--", "p", "-1", "x")
    assert default.code == 1 and "'default_pool' pool cannot be deleted" in default.err
    assert unknown.code == 1 and "pool 'nope' not found" in unknown.err
    assert negative.code == 1 and "0 or more" in negative.err
