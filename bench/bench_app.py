"""App: seconds from ``python app.py`` to the first page interactive in headless Chromium.

Interactive = the workflow's tab buttons are on screen and the Dataset tab answers a click.
Measured twice (a cold start, then a warm one with the OS file cache filled); the worse counts.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, emit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS, AppProcess  # noqa: E402  (the browser tests' launcher)


def first_interactive_s(browser, root: Path) -> float:
    app = AppProcess(root)
    try:
        page = browser.new_page()
        page.goto(app.url)
        page.get_by_role("tab", name="Dataset").click()
        page.get_by_role("tab", name="Publish").wait_for()
        elapsed = time.perf_counter() - app.started
        page.close()
        return elapsed
    finally:
        app.stop()


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        times = [first_interactive_s(browser, Path(tmp) / f"projects-{i}") for i in range(2)]
        browser.close()
    emit([Figure("app: first page interactive", max(times), 10.0, higher_is_better=False, unit="s",
                 details={"cold_s": round(times[0], 2), "warm_s": round(times[1], 2)})])


if __name__ == "__main__":
    main()
