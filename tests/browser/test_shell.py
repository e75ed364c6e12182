"""The first page: fast, with every step's tab and the backend; `--public` gives each browser its own workspace."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
STEPS = ["Dataset", "SFT", "DPO", "GRPO", "Compare", "Evaluate", "Publish", "Export"]


def test_first_page_shows_every_step_and_the_backend(app_server, page, screenshot):
    # How fast it gets here is a figure of bench/bench_app.py (timings are not asserted in tests).
    page.goto(app_server.url)
    page.get_by_role("tab", name="Dataset").wait_for()
    tabs = [t.inner_text().strip() for t in page.get_by_role("tab").all()]
    assert tabs[:len(STEPS)] == STEPS
    # the sample project is open and seeded with the sample posts; the backend is reported
    page.locator("#backend").get_by_text("device").wait_for()
    assert "cpu" in page.locator("#backend").inner_text()
    for step in STEPS:
        page.get_by_role("tab", name=step).click()
        page.get_by_text("Needs:").last.wait_for()
        screenshot(page, f"shell-{step.lower()}")


def test_public_mode_gives_each_browser_its_own_workspace(tmp_path, browser, screenshot):
    from tests.browser.conftest import AppProcess

    app = AppProcess(tmp_path / "projects", ["--public"])
    try:
        names = []
        for visitor in ("a", "b"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(app.url)
            page.locator("#workspace-name").get_by_text("private session").wait_for(timeout=30_000)
            assert page.locator("#project").count() == 0  # no picker for other projects
            if visitor == "a":
                screenshot(page, "public-header")
                page.reload()  # the same browser keeps its workspace across reloads
                page.locator("#workspace-name").get_by_text("private session").wait_for()
            context.close()
            names.append(sorted(p.name for p in (tmp_path / "projects" / "visitors").iterdir()))
        assert len(names[0]) == 1 and len(names[1]) == 2
    finally:
        app.stop()
