"""Authorization on the wrong identifier (Airflow CVE-2023-42792, CVE-2024-25142, CVE-2023-50943).

A role allowed on its own objects is refused on others': a user's tokens are theirs only, a
viewer cannot write, an op cannot manage users, and the last admin cannot be removed.
"""

from __future__ import annotations

from tests.api.server import Api
from tests.security.helpers import PASSWORD, new_user


def test_a_user_cannot_list_or_revoke_another_users_tokens(api: Api) -> None:
    with api.client("admin") as admin, api.client("viewer") as viewer:
        victim = new_user(api)
        made = admin.post(f"/api/v1/users/{victim}/tokens", json={"description": "victim's"}).json()
        victim_tokens = admin.get(f"/api/v1/users/{victim}/tokens").json()["tokens"]
        assert [t["prefix"] for t in victim_tokens] == [made["prefix"]]
        token_id = victim_tokens[0]["id"]
        assert viewer.get(f"/api/v1/users/{victim}/tokens").status_code == 403
        assert viewer.delete(f"/api/v1/users/{victim}/tokens/{token_id}").status_code == 403
        # Through "me", the id of someone else's token is simply not found.
        assert viewer.delete(f"/api/v1/users/me/tokens/{token_id}").status_code == 404
        assert admin.get(f"/api/v1/users/{victim}/tokens").json()["total_entries"] == 1


def test_lower_roles_cannot_write_or_manage_users(api: Api) -> None:
    with api.client("viewer") as viewer, api.client("op") as op:
        assert viewer.post("/api/v1/dags/api_demo/dagRuns", json={}).status_code == 403
        assert op.post("/api/v1/users", json={"username": "x_op", "password": PASSWORD}).status_code == 403
        assert op.patch("/api/v1/users/op", json={"role": "admin"}).status_code == 403


def test_the_last_admin_cannot_be_removed_or_demoted(api: Api) -> None:
    with api.client("admin") as admin:
        admins = [u for u in admin.get("/api/v1/users").json()["users"] if u["role"] == "admin" and u["active"]]
        if len(admins) == 1:
            only = admins[0]["username"]
            for response in (admin.delete(f"/api/v1/users/{only}"),
                             admin.patch(f"/api/v1/users/{only}", json={"role": "op"}),
                             admin.patch(f"/api/v1/users/{only}", json={"active": False})):
                assert response.status_code == 400 and "last active admin" in response.json()["detail"]
        second = new_user(api, "admin")
        assert admin.delete(f"/api/v1/users/{second}").status_code == 204
