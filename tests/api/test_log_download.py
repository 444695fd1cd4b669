"""``…/logs/{try}?download=1``: the whole log as an attachment, secrets still masked."""

from __future__ import annotations

from tests.api.server import Api

LOG = "/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/numbers/logs/1"


def test_download_is_an_attachment_of_the_whole_log(api: Api) -> None:
    with api.client("viewer") as viewer:
        response = viewer.get(LOG, params={"download": "1"})
        missing = viewer.get(LOG.replace("/numbers/", "/nope/"), params={"download": "1"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="api_demo__seeded__numbers__attempt=1.log"')
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "line one\n<b>not bold</b>\nline three\n"
    assert missing.status_code == 404
