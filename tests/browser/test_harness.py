"""The browser harness itself: a live server, headless Chromium, screenshots."""

from __future__ import annotations


def test_healthz_page_shows_status_ok(live_server, page):
    response = page.goto(live_server.url + "/healthz")
    assert response is not None and response.status == 200
    assert '"status": "ok"' in page.locator("body").inner_text()


def test_screenshot_of_a_page_is_a_png(live_server, page, tmp_path):
    page.goto(live_server.url + "/healthz")
    shot = tmp_path / "healthz.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
