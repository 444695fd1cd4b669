"""Open redirect (Airflow CVE-2021-28359, CVE-2023-25754): the login's ``next`` stays on this site."""

from __future__ import annotations

import pytest

from tests.api.server import PASSWORD, Api
from tests.api.test_auth import login


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)",
                                    "http:/evil.example", "\\\\evil.example"])
def test_login_never_redirects_off_site(api: Api, target: str) -> None:
    with login(api, "viewer", PASSWORD.format(role="viewer"), next_url=target) as client:
        assert client.cookies.get("tandem_session")
    # login() asserted the 303; where it went:
    from tandem.api.ui.access import safe_next

    assert safe_next(target) == "/dags"
