from __future__ import annotations

import pytest

from tandem import DAG, Param
from tandem.exceptions import ParamValidationError
from tandem.sdk.params import NOTSET, ParamsDict, validate_conf


def _serialized() -> dict:
    dag = DAG(
        "d",
        params={
            "plain": 3,
            "count": Param(5, type="integer", minimum=1, maximum=10, description="how many"),
            "mode": Param("fast", enum=["fast", "slow"]),
            "name": Param(type="string", minLength=2),
            "email": Param("a@b.co", type="string", format="email"),
            "nullable": Param(None, type=["null", "string"]),
        },
    )
    return dag.params.serialize()


def test_serialized_shape() -> None:
    params = _serialized()
    assert params["plain"] == {"default": 3, "schema": {}, "description": None, "has_default": True}
    assert params["count"] == {
        "default": 5,
        "schema": {"type": "integer", "minimum": 1, "maximum": 10},
        "description": "how many",
        "has_default": True,
    }
    assert params["name"] == {
        "default": None,
        "schema": {"type": "string", "minLength": 2},
        "description": None,
        "has_default": False,
    }


def test_conf_merges_over_defaults() -> None:
    result = validate_conf(_serialized(), {"name": "bob", "count": 7, "undeclared": [1]})
    assert result == {
        "plain": 3,
        "count": 7,
        "mode": "fast",
        "name": "bob",
        "email": "a@b.co",
        "nullable": None,
        "undeclared": [1],
    }


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({}, "param 'name': required param missing"),
        ({"name": "bob", "count": 11}, "param 'count': 11 is greater than the maximum of 10"),
        ({"name": "bob", "count": "x"}, "param 'count': 'x' is not of type 'integer'"),
        ({"name": "bob", "mode": "medium"}, "param 'mode': 'medium' is not one of"),
        ({"name": "b"}, "param 'name': 'b' is too short"),
        ({"name": "bob", "email": "nope"}, "param 'email': 'nope' is not a 'email'"),
    ],
)
def test_invalid_conf_names_param_and_reason(conf: dict, message: str) -> None:
    with pytest.raises(ParamValidationError, match=message.replace("(", r"\(")):
        validate_conf(_serialized(), conf)


def test_params_dict_wraps_plain_values_and_reads_defaults() -> None:
    params = ParamsDict({"a": 1, "b": Param(2, type="integer")})
    assert params["a"] == 1 and params["b"] == 2 and dict(params) == {"a": 1, "b": 2}
    assert isinstance(params.get_param("a"), Param)
    params["c"] = "x"
    assert len(params) == 3
    del params["c"]
    assert list(params) == ["a", "b"]


def test_param_resolve_and_notset() -> None:
    assert Param(3, type="integer").resolve() == 3
    assert Param(3, type="integer").resolve(4) == 4
    with pytest.raises(ParamValidationError, match="required"):
        Param(type="integer").resolve(name="n")
    assert not NOTSET and repr(NOTSET) == "NOTSET"


def test_non_json_default_is_rejected_at_serialization() -> None:
    with pytest.raises(ParamValidationError, match="not JSON-serializable"):
        ParamsDict({"s": {1, 2}}).serialize()
