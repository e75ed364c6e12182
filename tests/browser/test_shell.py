"""The first page: fast, with every step's tab and the backend; `--public` gives each browser its own workspace."""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.browser
STEPS = ["Dataset", "SFT", "DPO", "Compare", "Evaluate", "Publish"]


def test_first_page_is_interactive_quickly_with_all_tabs(app_server, page, screenshot):
    start = time.perf_counter()
    page.goto(app_server.url)
    page.get_by_role("tab", name="Dataset").wait_for()
    interactive_s = app_server.ready_s + (time.perf_counter() - start)
    # the budget: interactive within 10 s of `python app.py` (models load lazily)
    # The budget is 10 s on this machine. When other work oversubscribes the CPUs (parallel
    # test runs), the budget scales with the 1-minute load per core, and the test says so.
    oversubscribed = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    budget = 10 * oversubscribed
    print(f"first page interactive after {interactive_s:.1f} s (server up after {app_server.ready_s:.1f} s; "
          f"budget {budget:.0f} s at {oversubscribed:.1f}x CPU load)")
    assert interactive_s <= budget, f"first page took {interactive_s:.1f} s (budget {budget:.0f} s)"
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
