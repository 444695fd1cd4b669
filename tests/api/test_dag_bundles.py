"""DAG bundles and versions over real HTTP."""

from __future__ import annotations

import httpx


def test_bundles_and_versions_are_listed_and_runs_carry_theirs(admin: httpx.Client) -> None:
    bundles = admin.get("/api/v1/dagBundles").json()
    assert [b["name"] for b in bundles["dag_bundles"]] == ["dags-folder"]
    bundle = bundles["dag_bundles"][0]
    assert bundle["kind"] == "local" and bundle["dags"] == 1 and bundle["stored_versions"] >= 1
    latest = bundle["latest_version"]

    dag = admin.get("/api/v1/dags/api_demo").json()
    assert (dag["bundle_name"], dag["bundle_version"]) == ("dags-folder", latest)
    run = admin.get("/api/v1/dags/api_demo/dagRuns/seeded").json()
    # Other tests of the module may add DAG files, so the run's version may be an older one; it
    # must still be a stored version that counts the run.
    versions = admin.get("/api/v1/dagBundles/dags-folder/versions").json()["versions"]
    assert versions[0]["version"] == latest
    ran = [v for v in versions if v["version"] == run["bundle_version"]]
    assert ran and ran[0]["runs"] >= 1
    missing = admin.get("/api/v1/dagBundles/nope/versions")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_dag_pages_show_the_versions(admin: httpx.Client) -> None:
    latest = admin.get("/api/v1/dags/api_demo").json()["bundle_version"]
    seeded = admin.get("/api/v1/dags/api_demo/dagRuns/seeded").json()["bundle_version"]
    runs = admin.get("/dags/api_demo/runs")
    assert runs.status_code == 200
    assert 'id="dag-bundle"' in runs.text and f"dags-folder@{latest[:12]}" in runs.text
    assert f'<td class="bundle-version" title="{seeded}"><code>{seeded[:12]}</code></td>' in runs.text
    grid = admin.get("/dags/api_demo/grid/data").json()
    assert {(r["bundle_name"], r["bundle_version"]) for r in grid["runs"]} >= {("dags-folder", seeded)}
