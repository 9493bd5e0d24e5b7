"""A real browser (headless Chromium) opens the class report and the feedback pages from disk, at a
desktop's width and a phone's: no console error, no request leaves the machine, every image is
displayed, no raw TeX is left, nothing is wider than the screen; a screenshot of each is saved in
var/artefacts/screenshots/ (EDS_ARTEFACTS to put them elsewhere), for a person to look at after CI.
The formgrader's grading view is opened over HTTP the same way: a TA grading offline gets its maths
typeset and its page working."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from autograder import formgrader, report
from autograder.course import REPO

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


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("EDS_ARTEFACTS", REPO / "var" / "artefacts")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


# MathJax 2 measures glyphs against a blank font face, url(about:blank), which Chromium refuses with
# a console error; nothing is lost, and nothing leaves the machine.
MATHJAX_BLANK_FONT = ("Access to font at 'about:blank'", "net::ERR_FAILED")


def visit(browser, url: Path | str, width: int, screenshot: Path, ready: str = "true", login: str = "") -> dict:
    """Open a file:// page (or a page of the local server, after its `login` URL); returns its console
    errors, remote requests, images' natural widths, how far it is wider than the window, and its
    visible text, once the expression `ready` holds."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    if login:
        page.goto(login, wait_until="load")
    errors, remote = [], []
    local = ("file:", "data:", "about:", "http://127.0.0.1:")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not any(
        known in m.text for known in MATHJAX_BLANK_FONT) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(local) else None)
    page.goto(url.as_uri() if isinstance(url, Path) else url, wait_until="load")
    page.wait_for_function(ready, timeout=60_000)
    seen = {"errors": errors, "remote": remote,
            "widths": page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"),
            "overflow": page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
            "text": page.inner_text("body")}
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return seen


def pages(run, tmp_path: Path) -> dict[str, Path]:
    index = report.generate(run.course, [TOY])
    similar = report.generate(run.with_copied_pair(tmp_path / "copied"), [TOY]).parent / f"{TOY}-similarity.html"
    found = {"index": index, "assignment": index.parent / f"{TOY}.html", "similarity": similar}
    return found | {f"feedback-{kind}": run.feedback_page(student) for kind, student in FEEDBACK.items()}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_reads_offline_at_every_width(browser, toy_run, tmp_path, shots, width):
    for name, path in pages(toy_run, tmp_path).items():
        shot = shots / f"{name}-{WIDTHS[width]}.png"
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


@pytest.fixture(scope="module")
def grading_view(toy_run):
    """The formgrader's URL (with its token) and its grading view of one submission with a written answer."""
    import requests
    server, url = formgrader.start(toy_run.course)
    base, token = url.split("/formgrader?token=")
    try:
        listing = f"{base}/formgrader/api/submitted_notebooks/{TOY}/{TOY}?token={token}"
        for _ in range(180):
            try:
                notebooks = requests.get(listing, timeout=10).json()
                break
            except (requests.ConnectionError, ValueError):
                time.sleep(0.5)
        ada = next(n for n in notebooks if n["student"] == "ada")
        yield url, f"{base}/formgrader/submissions/{ada['id']}/?index=0"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_grading_view_typesets_its_maths_offline(browser, grading_view, shots, width):
    shot = shots / f"formgrader-{WIDTHS[width]}.png"
    login, view = grading_view   # a TA opens the formgrader's URL first: its token becomes a cookie
    seen = visit(browser, view, WIDTHS[width], shot, ready="window.MathJax && MathJax.loaded === true", login=login)
    assert not seen["errors"] and not seen["remote"], (seen["errors"], seen["remote"])
    assert "sensitive to outliers" in seen["text"] and not RAW_TEX.search(seen["text"]), seen["text"][:500]
    assert shot.stat().st_size > 10_000
