"""A real browser (headless Chromium) opens the class report and the feedback pages from disk, at a
desktop's width and a phone's: no console error, no request leaves the machine, every image is
displayed, no raw TeX is left, nothing is wider than the screen; a screenshot of each is saved."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import report

from toycourse import TOY

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
WIDTHS = {"desktop": 1280, "phone": 390}
FEEDBACK = {"perfect": "ada", "partial": "ivy", "crashed": "finn", "late": "jon"}
RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[|\\begin\{")

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


def visit(browser, path: Path, width: int, screenshot: Path) -> dict:
    """Open a file:// page; returns its console errors, remote requests, images' natural widths,
    how far it is wider than the window, and its visible text."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, remote = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    seen = {"errors": errors, "remote": remote,
            "widths": page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"),
            "overflow": page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
            "text": page.inner_text("body")}
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return seen


def pages(run) -> dict[str, Path]:
    index = report.generate(run.course, [TOY])
    found = {"index": index, "assignment": index.parent / f"{TOY}.html"}
    return found | {f"feedback-{kind}": run.feedback_page(student) for kind, student in FEEDBACK.items()}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_reads_offline_at_every_width(browser, toy_run, tmp_path, width):
    for name, path in pages(toy_run).items():
        shot = tmp_path / f"{name}-{WIDTHS[width]}.png"
        seen = visit(browser, path, WIDTHS[width], shot)
        assert not seen["errors"] and not seen["remote"], (name, seen["errors"], seen["remote"])
        assert all(w > 0 for w in seen["widths"]), (name, seen["widths"])
        assert seen["overflow"] <= 0, (name, seen["overflow"])
        assert not RAW_TEX.search(seen["text"]), (name, RAW_TEX.search(seen["text"]))
        assert shot.stat().st_size > 10_000, name


def test_the_class_report_displays_its_figures(browser, toy_run, tmp_path):
    index = report.generate(toy_run.course, [TOY])
    for page, figures in ((index.parent / f"{TOY}.html", 3), (index, 1)):
        seen = visit(browser, page, WIDTHS["desktop"], tmp_path / f"{page.stem}.png")
        assert len(seen["widths"]) == figures and all(w > 0 for w in seen["widths"]), seen["widths"]
