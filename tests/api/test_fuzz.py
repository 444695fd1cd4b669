"""Schemathesis fuzzing of the whole OpenAPI schema against the real server: no 5xx, ever.

Every operation gets ``FUZZ_EXAMPLES`` generated requests (bodies, path and query parameters
from the schema, plus edge cases hypothesis favours: empty strings, huge numbers, NUL bytes,
odd Unicode), sent as the admin so they reach the handlers rather than stop at the auth check.
The figures are written to ``artifacts/fuzz-<database>.json``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import requests

from tests.api.server import Api

FUZZ_EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "30"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_no_server_errors(api: Api, request: pytest.FixtureRequest) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_url(f"{api.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def fuzz(case: object) -> None:
                response = case.call(base_url=api.url, headers=headers, session=session, timeout=30)  # type: ignore[attr-defined]
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "  # type: ignore[attr-defined]
                                    f"{response.text[:200]}")

            fuzz()
    kind = request.node.callspec.params.get("api", "sqlite")
    summary = {"database": kind, "operations": len(list(schema.get_all_operations())),
               "requests": sum(statuses.values()), "server_errors": sum(n for s, n in statuses.items() if s >= 500),
               "statuses": {str(k): v for k, v in sorted(statuses.items())},
               "seconds": round(time.monotonic() - started, 1), "examples_per_operation": FUZZ_EXAMPLES}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fuzz-{kind}.json").write_text(json.dumps(summary, indent=2))
    assert summary["requests"] > summary["operations"] * 5
    assert not failures, "\n".join(failures[:20])


EXTREME_DATES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999Z",
                 "0001-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "1e400"]
EXTREME_INTS = [2**31, 2**40 + 1, 2**63, -(2**63) - 1, 10**30, -1]
HUGE_TEXT = "x" * 60_000


def _extremes(schema: dict[str, object]) -> list[object]:
    kind, fmt = schema.get("type"), schema.get("format")
    if fmt == "date-time" or any(isinstance(s, dict) and s.get("format") == "date-time"
                                 for s in schema.get("anyOf", [])):  # type: ignore[union-attr]
        return EXTREME_DATES
    if kind == "integer" or any(isinstance(s, dict) and s.get("type") == "integer"
                                for s in schema.get("anyOf", [])):  # type: ignore[union-attr]
        return EXTREME_INTS
    return [HUGE_TEXT]


def test_extreme_dates_offsets_and_sizes(api: Api) -> None:
    """Every query parameter of every operation at its extremes (overflowing dates, huge offsets and
    texts), and a 10 MB body to every write: 4xx, never 5xx."""
    schema = httpx.get(f"{api.url}/api/v1/openapi.json").json()
    failures: list[str] = []
    with api.client("admin") as client:
        for path, operations in schema["paths"].items():
            concrete = path.replace("{dag_id}", "api_demo").replace("{dag_run_id}", "seeded") \
                .replace("{task_id}", "numbers").replace("{task_try_number}", "1")
            concrete = re.sub(r"\{[^}]+\}", "1", concrete)
            for method, operation in operations.items():
                for param in operation.get("parameters", []):
                    if param["in"] != "query":
                        continue
                    for value in _extremes(param.get("schema", {})):
                        response = client.request(method.upper(), concrete, params={param["name"]: value},
                                                  json={} if method != "get" else None)
                        if response.status_code >= 500:
                            failures.append(f"{method.upper()} {path} {param['name']}={str(value)[:40]}: "
                                            f"{response.status_code}")
                if method in ("post", "patch", "put"):
                    response = client.request(method.upper(), concrete, json={"conf": {"x": "y" * 10_000_000},
                                                                              "value": "y" * 10_000_000})
                    if response.status_code >= 500:
                        failures.append(f"{method.upper()} {path} 10 MB body: {response.status_code}")
    assert not failures, "\n".join(failures[:30])
