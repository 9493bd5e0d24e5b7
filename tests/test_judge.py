"""The judge's parts, one at a time: strict decoding, the checks, and one test cell's verdict.

These run in this process on hand-made outputs: what a hostile kernel could put in a test cell's
outputs is any JSON, so each case here is an output a student's code could forge.
"""
from __future__ import annotations

import json
import shutil

import nbformat
import numpy as np
import pytest

from autograder import checks, expected, judge
from autograder.course import Course
from autograder.kernel.eds_observe import MIME, encode
from autograder.observations import Unreadable, cell_observations, decode


def observation(name, value, encoded=True):
    return nbformat.v4.new_output("display_data", {MIME: {"name": name, "value": encode(value) if encoded else value}})


def graded_cell(outputs, source="observe_call('x', f, 1)"):
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False,
                                                                     "grade_id": "test_x", "points": 1}})
    cell.outputs = outputs
    return cell


def record_for(cell, expected_values, checks_=None, mutants=None):
    return {"source_sha256": expected.cell_sha256(cell), "checks": checks_ or {},
            "expected": {k: encode(v) for k, v in expected_values.items()},
            "mutants": {name: {"hint": hint, "observed": {k: encode(v) for k, v in obs.items()}}
                        for name, (hint, obs) in (mutants or {}).items()}}


@pytest.mark.parametrize("value", [None, True, 3, 2.5, float("nan"), float("-inf"), "s", [1, [2]], (1, "a"),
                                   {"k": (1.0,)}, np.arange(6.0).reshape(2, 3), np.array([True, False]),
                                   np.int64(7), np.float32(0.5)])
def test_plain_data_round_trips(value):
    back = decode(json.loads(json.dumps(encode(value))))
    assert checks.equal(back, value.item() if isinstance(value, np.generic) else value) is None


class Sneaky(float):
    def __eq__(self, other):
        return True


class SneakyArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, bool)


class EqualsEverything:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 3.0

    def __array__(self, *a, **k):
        return np.arange(5) * 2


@pytest.mark.parametrize("value", [Sneaky(3.0), np.arange(5).view(SneakyArray) * 2, EqualsEverything()])
def test_what_pretends_to_be_data_is_not_trusted(value):
    got = decode(encode(value))
    assert checks.equal(got, 3.0) and checks.equal(got, np.arange(5) * 2)


@pytest.mark.parametrize("forged", [
    "3.0", {"$float": "3.0"}, {"$eval": "3"}, {"$array": {"dtype": "|O", "shape": [1], "data": ""}},
    {"$array": {"dtype": "<f8", "shape": [3], "data": "AAAA"}}, {"$array": {"dtype": "<f8", "shape": [-1], "data": ""}},
    {"$dict": [[1, 2]]}, {"$tuple": "ab", "x": 1}, {"a": 1, "b": 2, "c": 3}])
def test_forged_encodings_never_pass(forged):
    try:
        got = decode(forged)
    except Unreadable:
        return
    assert checks.equal(got, 3.0) is not None


def test_depth_and_size_are_capped():
    deep = 1.0
    for _ in range(40):
        deep = [deep]
    with pytest.raises(Unreadable):
        decode(deep)
    huge = {"$array": {"dtype": "|u1", "shape": [10**8], "data": ""}}
    with pytest.raises(Unreadable):
        decode(huge)


def test_equal_tolerances_nan_and_types():
    assert checks.equal(1.0 + 1e-12, 1.0) is None
    assert checks.equal(1.001, 1.0, rtol=1e-3) is None and checks.equal(1.01, 1.0, rtol=1e-3)
    assert checks.equal(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None
    assert "differ" in checks.equal(np.array([0.0, 1.0]), np.array([np.nan, 1.0]))
    assert checks.equal([1.0, 2.0], np.array([1.0, 2.0])) is None, "a list of numbers stands for an array"
    assert checks.equal(True, 1) and checks.equal(1, True), "a bool is not a number"
    assert checks.equal("3.0", 3.0) and checks.equal((1, 2), [1, 2])
    assert "shape (4, 17)" in checks.equal(np.zeros((4, 17)), np.zeros((17, 4)))
    assert "argument 1 after the call" in checks.equal({"returned": 1, "args": [[2]]}, {"returned": 1, "args": [[3]]})


def test_the_other_checks():
    assert checks.judge(["b", "a"], ["a", "b"], {"check": "set"}) is None
    assert checks.judge(["a", "a"], ["a", "b"], {"check": "set"})
    assert checks.judge("", None, {"check": "nonempty"}) and checks.judge("t (s)", None, {"check": "nonempty"}) is None
    assert checks.judge([1], None, {"check": "at_least", "of": "length", "min": 2})
    assert checks.judge(0.91, None, {"check": "at_least", "min": 0.9}) is None


def axes(*lines):
    return {"lines": [{"x": np.arange(3.0), "y": np.asarray(y, float), "joined": joined, "markers": not joined}
                      for y, joined in lines], "scatter": [], "xlabel": "", "ylabel": "", "legend": []}


def test_artists_are_matched_by_data_and_kind():
    want = axes(([1, 2, 3], False), ([1, 2, 2], True))
    assert checks.artists(axes(([1, 2, 2], True), ([1, 2, 3], False), ([0, 0, 0], True)), want) is None
    assert "separate points" in checks.artists(axes(([1, 2, 3], True), ([1, 2, 2], True)), want)
    scattered = {**axes(([1, 2, 2], True)), "scatter": [np.column_stack([np.arange(3.0), [1.0, 2, 3]])]}
    assert checks.artists(scattered, want) is None


def test_a_right_cell_passes_and_a_wrong_one_says_what_differs():
    cell = graded_cell([observation("x", {"returned": 2.0})])
    assert judge.judge_cell(cell, record_for(cell, {"x": {"returned": 2.0}})) == ""
    message = judge.judge_cell(cell, record_for(cell, {"x": {"returned": 3.0}}, {"x": {"what": "f(1)"}}))
    assert message.startswith("f(1): got 2.0 in the return value, expected 3.0") and "Misconception" not in message


def test_a_misconception_is_named_only_on_a_match():
    cell = graded_cell([observation("x", {"returned": 9.0})])
    record = record_for(cell, {"x": {"returned": 3.0}}, mutants={"sum": ("the sum, not the mean", {"x": {"returned": 9.0}})})
    assert judge.judge_cell(cell, record).endswith("Misconception: the sum, not the mean")
    other = graded_cell([observation("x", {"returned": 8.0})])
    assert "Misconception" not in judge.judge_cell(other, record_for(other, {"x": {"returned": 3.0}},
                                                   mutants={"sum": ("the sum", {"x": {"returned": 9.0}})}))


def test_a_mutant_that_also_fails_what_the_student_passes_is_not_named():
    """Two mistakes can give the same wrong result; the one that also changes the caller's list is
    another mistake, and its hint must not be given to a student whose list is intact."""
    expected_values = {"x": {"returned": 3.0}, "input_after": [1.0, 2.0]}
    mutants = {"a-in-place": ("changes its input", {"x": {"returned": 9.0}, "input_after": [0.0, 0.0]}),
               "b-sum": ("the sum, not the mean", {"x": {"returned": 9.0}, "input_after": [1.0, 2.0]})}
    intact = graded_cell([observation("x", {"returned": 9.0}), observation("input_after", [1.0, 2.0])])
    assert judge.judge_cell(intact, record_for(intact, expected_values, mutants=mutants)).endswith(
        "Misconception: the sum, not the mean")
    changed = graded_cell([observation("x", {"returned": 9.0}), observation("input_after", [0.0, 0.0])])
    assert judge.judge_cell(changed, record_for(changed, expected_values, mutants=mutants)).endswith(
        "Misconception: changes its input")
    both = graded_cell([observation("x", {"returned": 9.0}), observation("input_after", [5.0, 5.0])])
    assert "Misconception" not in judge.judge_cell(both, record_for(both, expected_values, mutants=mutants))


@pytest.mark.parametrize("outputs, why", [
    ([], "not reported"),
    ([observation("x", {"returned": 2.0}), observation("x", {"returned": 2.0})], "reported 2 times"),
    ([observation("x", {"returned": 2.0}), observation("y", 1)], "does not make"),
    ([observation("x", {"returned": {"$eval": "2"}}, encoded=False)], "unknown tag"),
    ([nbformat.v4.new_output("display_data", {MIME: "x=2.0"})], "malformed"),
    ([nbformat.v4.new_output("stream", name="stdout", text="x 2.0"),
      nbformat.v4.new_output("error", ename="Forged: 2.0 passed", evalue="", traceback=[])], "not reported"),
])
def test_forged_missing_or_malformed_reports_fail(outputs, why):
    cell = graded_cell(outputs)
    assert why in judge.judge_cell(cell, record_for(cell, {"x": {"returned": 2.0}}))


def test_a_name_the_kernel_raised_is_quoted_only_if_plain():
    cell = graded_cell([nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=[])])
    assert "(NotImplementedError was raised)" in judge.judge_cell(cell, record_for(cell, {"x": 1}))
    cell = graded_cell([nbformat.v4.new_output("error", ename="x <script>", evalue="", traceback=[])])
    assert "raised" not in judge.judge_cell(cell, record_for(cell, {"x": 1}))


def test_a_changed_test_or_a_missing_record_fails_loudly():
    cell = graded_cell([observation("x", 1)])
    record = record_for(cell, {"x": 1})
    cell.source += "\nobserve('y', 2)"
    assert "changed after" in judge.judge_cell(cell, record)
    assert "no expected observations" in judge.judge_cell(cell, None)


def test_comments_do_not_make_a_test_stale():
    cell = graded_cell([], source="observe_call('x', f, 1)")
    readded = graded_cell([], source="# This cell was missing. It was added back by nbgrader.\n\n# observe_call('x', f, 1)\n"
                                   "observe_call('x', f, 1)")
    assert expected.cell_sha256(cell) == expected.cell_sha256(readded)


def test_oversized_reports_fail_without_reading_them():
    big = [observation(f"x{i}", np.zeros(300_000)) for i in range(10)]
    values, problems = cell_observations(graded_cell(big))
    assert not values and "larger than the grader reads" in problems[0]


def test_a_raised_exception_is_said_plainly():
    assert checks.equal({"raised": "NotImplementedError", "args": [1]}, {"returned": 2, "args": [1]}) \
        == "raised NotImplementedError"


def test_metrics_score_against_the_references_labels_not_the_kernels():
    reference = {"labels": np.array([0, 1, 1, 0, 1])}
    spec = {"check": "accuracy", "labels": "labels", "min": 0.8}
    assert checks.judge(np.array([0, 1, 1, 0, 0]), None, spec, reference) is None
    assert "accuracy 0.600" in checks.judge(np.array([1, 1, 1, 0, 0]), None, spec, reference)
    assert checks.judge([0, 1], None, spec, reference), "predictions of another length"
    assert checks.judge(np.array([0, 1, 1, 0, np.nan]), None, {**spec, "check": "r2"}, reference)
    assert checks.judge(0.2, None, {"check": "at_most", "max": 0.25}) is None and checks.judge(0.3, None, {"check": "at_most", "max": 0.25})


def test_clusterings_are_compared_whatever_their_numbering():
    reference = {"truth": np.array([0, 0, 1, 1, 2, 2])}
    spec = {"check": "adjusted_rand", "labels": "truth", "min": 0.9}
    assert checks.judge(np.array([2, 2, 0, 0, 1, 1]), None, spec, reference) is None
    assert "adjusted rand" in checks.judge(np.array([0, 1, 0, 1, 2, 2]), None, spec, reference)


def test_sources_are_matched_one_to_one_whatever_their_order_sign_and_scale():
    rng = np.random.default_rng(0)
    truth = rng.laplace(size=(400, 3))
    reference, spec = {"truth": truth}, {"check": "matched_correlation", "labels": "truth", "min": 0.95}
    assert checks.judge(truth[:, [2, 0, 1]] * [-3.0, 0.5, 2.0], None, spec, reference) is None
    twice = truth[:, [0, 0, 1]]  # a greedy matcher would give source 0 to two estimates
    assert "[1.0, 1.0, " in checks.judge(twice, None, spec, reference)
    assert checks.judge(truth[:, :2], None, spec, reference), "too few estimates"


def test_one_threshold_separates_or_not_in_either_orientation():
    reference, spec = {"y": np.array([0, 0, 1, 1])}, {"check": "threshold_accuracy", "labels": "y", "min": 0.95}
    assert checks.judge(np.array([3.0, 2.0, -1.0, -2.0]), None, spec, reference) is None
    assert "0.750" in checks.judge(np.array([0.0, 2.0, 1.0, 3.0]), None, spec, reference)


def test_eigenvectors_are_equal_up_to_their_sign():
    want = np.array([[1.0, 2.0], [3.0, -4.0]])
    flipped_rows, flipped_column = want * [[-1.0], [1.0]], want * [1.0, -1.0]
    assert checks.judge(flipped_rows, want, {"up_to_sign": "rows"}) is None
    assert checks.judge(flipped_column, want, {"up_to_sign": "columns"}) is None
    assert checks.judge(flipped_column, want, {"up_to_sign": "rows"}), "a sign is per vector, not per value"
    assert checks.judge((-want[0], 2.0), (want[0], 2.0), {"up_to_sign": "whole"}) is None
    assert checks.judge(flipped_rows, want, {}), "without up_to_sign, a sign counts"


def test_a_metric_check_ignores_labels_the_kernel_reports():
    cell = graded_cell([observation("labels", np.array([1, 1, 1])), observation("pred", np.array([1, 1, 1]))])
    record = record_for(cell, {"labels": np.array([0, 0, 0]), "pred": np.array([0, 0, 0])},
                        {"pred": {"check": "accuracy", "labels": "labels", "min": 0.9}})
    message = judge.judge_cell(cell, record)
    assert "accuracy 0.000" in message and "labels" in message


def test_a_test_cell_turned_into_text_fails():
    cell = nbformat.v4.new_markdown_cell("observe_call('x', f, 1)", metadata={"nbgrader": {
        "grade": True, "solution": False, "grade_id": "test_x", "points": 1}})
    nb = nbformat.v4.new_notebook(cells=[cell])
    judged, _ = judge.Judge(unjudged=[]).preprocess(nb, {"nbgrader": {"assignment": "00-python-warmup",
                                                                      "notebook": "missing"}})
    out = judged.cells[0]
    assert out.cell_type == "code" and out.outputs[0].ename == judge.VERDICT and "into text" in out.outputs[0].evalue


def test_the_mutation_report_counts_what_the_store_tells_apart(tmp_path):
    from autograder import mutation_report
    from autograder.course import REPO, Course
    course = Course(root=tmp_path)
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    toml = tmp_path / "tests" / "mutants" / "99-toy.toml"
    toml.parent.mkdir(parents=True)
    toml.write_text("".join(f'[[mutant]]\nname = "{n}"\ncell = "answer_x"\nkills = ["test_x"]\nhint = "{n} hint"\n'
                            f'code = "pass"\n\n' for n in ("sum", "same")))
    cell = graded_cell([])
    record = record_for(cell, {"x": {"returned": 3.0}}, mutants={"sum": ("sum hint", {"x": {"returned": 9.0}}),
                                                              "same": ("same hint", {"x": {"returned": 3.0}})})
    store = expected.path(course, "99-toy")
    store.parent.mkdir(parents=True)
    store.write_text(json.dumps({"format": expected.FORMAT, "assignment": "99-toy", "inputs": {},
                                 "notebooks": {"99-toy.ipynb": {"test_x": record}}}))
    assert mutation_report.row(course, "99-toy") == {"assignment": "99-toy", "mutants": 2, "killed": 1,
                                                     "named": "1 of 2", "judged": "yes"}


def test_a_reference_run_writes_nothing_into_the_source_folder(tmp_path):
    """A mutant that saves to a fixed path must not leave a file that the release would hand out."""
    folder = tmp_path / "source" / "99-toy"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("open('stray.pt', 'w').write('x')\nimport os\nprint(os.getcwd())")])
    ran = expected.run(Course(), nb, folder)
    assert ran.cells[0].outputs[0]["text"].strip().endswith("99-toy")
    assert list(folder.iterdir()) == []
