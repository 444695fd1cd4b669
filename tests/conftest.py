"""Shared fixtures. Service-backed tests skip when the service is unreachable, except under CI
(``TANDEM_TEST_REQUIRE_SERVICES=1``), where a missing service is a failure."""

pytest_plugins = [
    "tests.fixtures.services", "tests.fixtures.env", "tests.fixtures.db", "tests.fixtures.processes",
    "tests.fixtures.scheduler", "tests.fixtures.private_postgres", "tests.fixtures.private_redis",
    "tests.fixtures.blackhole",
]
