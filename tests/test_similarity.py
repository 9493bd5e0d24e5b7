"""The similarity page: a copied pair is found however it was disguised, independent answers and the
code the release gives are not, broken or missing notebooks do not stop it, and the page shows both
sides of each match."""
from __future__ import annotations

from autograder.similarity import REFERENCE, Similarity, compare, matched_lines

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
