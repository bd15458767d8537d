"""``/readyz``'s ``storage`` with the local storage: the folder must be one this process writes."""

from __future__ import annotations

from pathlib import Path

from webtest import TestApp


def test_the_local_storage_is_ready_while_its_folder_is_writable(app: TestApp, folder: Path):
    checks = app.get("/readyz").json["checks"]
    assert checks["storage"]["status"] == "ok" and checks["storage"]["latency_ms"] >= 0
    assert folder.is_dir()  # made as the first upload would
    folder.rmdir()
    folder.write_text("not a folder")  # a mount gone wrong
    body = app.get("/readyz", status=503).json
    assert [error["name"] for error in body["errors"]] == ["storage"]
    assert body["checks"]["storage"]["status"] == "unavailable"
