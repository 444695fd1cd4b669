"""Schemathesis fuzzing of the whole OpenAPI schema against the real server: no 5xx, ever.

Every operation gets ``FUZZ_EXAMPLES`` generated requests (bodies, path and query parameters
from the schema, plus edge cases hypothesis favours: empty strings, huge numbers, NUL bytes,
odd Unicode), sent as the admin so they reach the handlers rather than stop at the auth check.
The figures are written to ``artifacts/fuzz-<database>.json``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

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
