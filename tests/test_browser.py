"""A real browser (headless Chromium) opens the class report and a feedback page from disk: no console
error, no request leaves the machine, every figure is displayed, a screenshot is saved."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder import report

from toycourse import TOY

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
              pytest.mark.xdist_group("toy")]   # one graded toy class per worker


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def visit(browser, path: Path, screenshot: Path) -> dict:
    """Open a file:// page; returns its console errors, remote requests and images' natural widths."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors, remote = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {"errors": errors, "remote": remote, "widths": widths}


def test_the_class_report_displays_its_figures(browser, toy_run, tmp_path):
    index = report.generate(toy_run.course, [TOY])
    for page, figures in ((index.parent / f"{TOY}.html", 3), (index, 1)):
        seen = visit(browser, page, tmp_path / f"{page.stem}.png")
        assert not seen["errors"] and not seen["remote"], seen
        assert len(seen["widths"]) == figures and all(w > 0 for w in seen["widths"]), seen["widths"]
        assert (tmp_path / f"{page.stem}.png").stat().st_size > 10_000


def test_a_feedback_page_loads_offline_without_errors(browser, toy_run, tmp_path):
    seen = visit(browser, toy_run.feedback_page("ivy"), tmp_path / "feedback-ivy.png")
    assert not seen["errors"] and not seen["remote"], seen
    assert all(w > 0 for w in seen["widths"])
    assert (tmp_path / "feedback-ivy.png").stat().st_size > 10_000
