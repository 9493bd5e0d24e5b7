"""The similarity page: a copied pair is found however it was disguised, independent answers and the
code the release gives are not, broken or missing notebooks do not stop it, and the page shows both
sides of each match."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from autograder import report
from autograder.grading import grading_course
from autograder.similarity import REFERENCE, Similarity, compare, matched_lines

from toycourse import COPIED_PAIR, TOY

GIVEN = '''def detrend(t, y):
    """y minus its least-squares line in t, NaN left out of the fit."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''

ORIGINAL = '''def detrend(t, y):
    """y minus its least-squares line in t, NaN left out of the fit."""
    # keep only the observed points for the fit
    observed = ~np.isnan(y)
    design = np.column_stack([t[observed], np.ones(observed.sum())])
    slope, intercept = np.linalg.lstsq(design, y[observed], rcond=None)[0]
    return y - (slope * t + intercept)
'''

# ORIGINAL with every name changed, other comments, other spacing and quotes, nothing reordered
DISGUISED = '''def detrend(t, y):
    """y minus its least-squares line in t, NaN left out of the fit."""
    ok = ~np.isnan( y )   # mask
    A = np.column_stack([t[ok],
                         np.ones(ok.sum())])

    a, b = np.linalg.lstsq(A, y[ok], rcond = None)[0]
    return y-(a*t+b)
'''

# the same task solved another way, correct too
INDEPENDENT = '''def detrend(t, y):
    """y minus its least-squares line in t, NaN left out of the fit."""
    good = np.isfinite(y)
    tm, ym = t[good].mean(), y[good].mean()
    beta = ((t[good] - tm) * (y[good] - ym)).sum() / ((t[good] - tm) ** 2).sum()
    alpha = ym - beta * tm
    return y - alpha - beta * t
'''

SETTINGS = Similarity(threshold=0.8, min_length=40)


def test_a_copy_with_other_names_comments_and_spacing_is_found():
    found = compare({"ada": {"c": ORIGINAL}, "bob": {"c": DISGUISED}}, [GIVEN], SETTINGS)
    [pair] = found.pairs
    assert pair.students == ("ada", "bob") and pair.score > 0.95
    [cell] = pair.cells
    assert cell.sources == (ORIGINAL, DISGUISED)
    assert {3, 4, 5, 6} <= cell.lines[0] and {2, 3, 4, 6, 7} <= cell.lines[1]


def test_independent_correct_solutions_are_not_listed():
    settings = Similarity(threshold=0.0, min_length=40)   # every pair listed, to read its score
    [pair] = compare({"ada": {"c": ORIGINAL}, "cleo": {"c": INDEPENDENT}}, [GIVEN], settings).pairs
    assert pair.score < 0.2
    assert not compare({"ada": {"c": ORIGINAL}, "cleo": {"c": INDEPENDENT}}, [GIVEN], SETTINGS).pairs


def test_the_code_the_release_gives_never_makes_a_pair():
    helper = '''def to_kelvin(celsius):
    """Given: degrees Celsius to kelvin, for arrays too."""
    return np.asarray(celsius, dtype=float) + 273.15
'''
    given = [helper + "\n\n" + GIVEN]
    answers = {"stub": {"c": given[0]}, "stub-too": {"c": given[0]},
               "ada": {"c": helper + "\n\n" + ORIGINAL}, "cleo": {"c": helper + "\n\n" + INDEPENDENT}}
    found = compare(answers, given, SETTINGS)
    assert not found.pairs and found.too_short == ["stub", "stub-too"] and found.compared == ["ada", "cleo"]
    # the control: were the helper not given, the two who kept it would share it
    assert compare(answers, [], Similarity(threshold=0.2, min_length=40)).pairs


def test_code_that_is_not_python_is_compared_on_what_lexes():
    broken = ORIGINAL.replace("rcond=None)[0]", "rcond=None[0]").replace("return y -", "retrun y -")
    copy = DISGUISED.replace("rcond = None)[0]", "rcond = None[0]").replace("return y-", "retrun y-")
    found = compare({"ada": {"c": broken}, "bob": {"c": copy}, "cleo": {"c": INDEPENDENT}}, [GIVEN], SETTINGS)
    assert [p.students for p in found.pairs] == [("ada", "bob")] and found.compared == ["ada", "bob", "cleo"]


def test_every_student_is_compared_with_the_reference_apart():
    answers = {"ada": {"c": ORIGINAL}, "bob": {"c": DISGUISED}, "cleo": {"c": INDEPENDENT}}
    found = compare(answers | {REFERENCE: {"c": INDEPENDENT}}, [GIVEN], SETTINGS, against=REFERENCE)
    assert [p.students for p in found.pairs] == [("cleo", REFERENCE)] and REFERENCE not in found.compared


def test_matched_lines_are_those_a_slice_covers():
    code = "a\nbb\nccc\ndddd\n"
    assert matched_lines(code, ([2, 9], [6, 10])) == {1, 2, 3}


@pytest.fixture(scope="module")
def copied(toy_run, tmp_path_factory):
    """The toy class where jon handed in ada's mean with other names, and ivy's notebook is gone."""
    course = toy_run.with_copied_pair(tmp_path_factory.mktemp("copied") / "course")
    for step in ("autograded", "submitted"):
        (grading_course(course).dir_of(step) / "ivy" / TOY / f"{TOY}.ipynb").unlink()
    report.generate(course, [TOY])
    return course


def test_the_page_lists_the_pair_and_shows_both_cells(copied):
    out = copied.work / "report"
    raw = (out / f"{TOY}-similarity.html").read_text()
    page = BeautifulSoup(raw, "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.find(id="pairs").find_all("tr")[1:]]
    assert [row[:2] for row in rows] == [["ada", "jon"]]
    detail = page.find(id=page.find(id="pairs").find("a")["href"][1:])
    sides = detail.find_all("pre", class_="code")
    assert [pre.get_text() for pre in sides] == [COPIED_PAIR["ada"], COPIED_PAIR["jon"]]
    assert "running sum &lt;and&gt; count" in raw   # the student's code escaped, never markup
    assert "for v in values :" in [s.get_text().strip() for s in sides[1].find_all(class_="match")]
    not_compared = " ".join(page.find(id="not-compared").get_text(" ", strip=True).split())
    assert "ivy: 99-toy.ipynb not found" in not_compared and "gus: rejected" in not_compared
    assert "hal: less than" in not_compared and "ben: less than" in not_compared   # the reference, the stubs
    assert BeautifulSoup((out / f"{TOY}.html").read_text(), "html.parser").find("a", href=f"{TOY}-similarity.html")
    assert BeautifulSoup((out / "index.html").read_text(), "html.parser").find("a", href=f"{TOY}-similarity.html")


def test_the_settings_are_the_course_config(toy_run, tmp_path):
    course = toy_run.with_copied_pair(tmp_path / "course")
    with (course.root / "nbgrader_config.py").open("a") as fh:
        fh.write("\nc.Similarity.min_length = 1000\n")
    report.generate(course, [TOY])
    page = BeautifulSoup((course.work / "report" / f"{TOY}-similarity.html").read_text(), "html.parser")
    assert page.find(id="no-pairs") and not page.find(id="pairs")
