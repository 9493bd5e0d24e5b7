"""Invariants every assignment in source/ must keep; a new assignment is checked with no new code."""
from __future__ import annotations

from collections import Counter

import pytest
from bs4 import BeautifulSoup

from autograder import build, expected, judge, mutation_report, notebooks as nbs, variants
from autograder.course import Course

from conftest import ASSIGNMENTS, COURSE, mutants_of

pytestmark = pytest.mark.parametrize("assignment", ASSIGNMENTS)

MIN_AUTOGRADED_PARTS, MIN_MANUAL, MIN_POINTS = 8, 3, 50


def source_nb(assignment):
    return nbs.read(COURSE.source_dir / assignment / f"{assignment}.ipynb")


def hidden_and_solution_lines(assignment) -> set[str]:
    """Lines of the source that must never reach a student: long enough to mean something, and
    not also written in the open elsewhere in the notebook (a plotting line shown to students)."""
    secret, public = set(), set()
    for cell in source_nb(assignment).cells:
        inside = set()
        for markers in (nbs.SOLUTION_MARKERS, nbs.HIDDEN_MARKERS):
            inside |= {line.strip() for line in nbs.region(cell.source, markers)}
        secret |= inside
        public |= {line.strip() for line in cell.source.splitlines()} - inside
    return {line for line in secret - public if len(line) >= 12 and not line.startswith("#")}


def lines_of(path) -> set[str]:
    """Every stripped line a student can read in a shipped file (cell sources for notebooks)."""
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbs.read(path).cells)
    else:
        text = path.read_text(errors="replace")
    return {line.strip() for line in text.splitlines()}


def test_metadata_is_sane(assignment):
    cells = source_nb(assignment).cells
    ids = [nbs.grade_id(c) for c in cells if nbs.grade_id(c)]
    assert not [i for i, n in Counter(ids).items() if n > 1], "grade_id must be unique"
    graded = [c for c in cells if nbs.meta(c).get("grade")]
    assert all(nbs.meta(c).get("points", 0) > 0 for c in graded), "every graded cell needs points"
    tests = [c for c in cells if nbs.is_test(c)]
    assert all(nbs.meta(c).get("locked") for c in tests), "test cells must be locked"
    answers = [i for i, c in enumerate(cells) if nbs.is_answer(c)]
    for here, nxt in zip(answers, answers[1:] + [len(cells)]):
        assert any(nbs.is_test(c) for c in cells[here + 1:nxt]), \
            f"answer {nbs.grade_id(cells[here])} has no test cell before the next answer"
    assert len(answers) >= MIN_AUTOGRADED_PARTS
    assert sum(nbs.is_manual(c) for c in cells) >= MIN_MANUAL
    assert sum(nbs.meta(c)["points"] for c in tests) >= MIN_POINTS


def test_every_notebook_has_cell_ids(assignment):
    """Without ids (nbformat < 4.5) JupyterLab adds them on opening, so a student's untouched notebook
    opens as modified, and nbgrader cannot tell cells apart by id."""
    for root in (COURSE.source_dir, COURSE.release_dir, COURSE.solutions_dir):
        nb = nbs.read(root / assignment / f"{assignment}.ipynb")
        ids = [c.get("id") for c in nb.cells]
        assert (nb.nbformat, nb.nbformat_minor) >= (4, 5) and all(ids), f"{root.name}/{assignment} has cells without ids"
        assert len(set(ids)) == len(ids), f"{root.name}/{assignment} has duplicate cell ids"


def test_every_test_cell_has_a_mutant(assignment):
    cells = nbs.cells_by_id(source_nb(assignment))
    tests = {gid for gid, c in cells.items() if nbs.is_test(c)}
    killed = {t for m in mutants_of(assignment) for t in m.kills}
    assert killed <= tests, f"mutants target unknown test cells: {killed - tests}"
    assert tests <= killed, f"test cells no mutant targets: {sorted(tests - killed)}"
    names = [m.name for m in mutants_of(assignment)]
    assert len(names) == len(set(names)), "mutant names must be unique"


def test_release_and_solutions_leak_nothing(assignment):
    released = set().union(*(lines_of(p) for p in (COURSE.release_dir / assignment).rglob("*") if p.is_file()))
    leaks = sorted(hidden_and_solution_lines(assignment) & released)
    assert not leaks, f"release/{assignment} shows solution or hidden-test lines: {leaks[:5]}"
    hidden = {line.strip() for c in source_nb(assignment).cells
              for line in nbs.region(c.source, nbs.HIDDEN_MARKERS) if len(line.strip()) >= 12}
    shown = hidden & lines_of(COURSE.solutions_dir / assignment / f"{assignment}.ipynb")
    assert not shown, f"hidden tests in solutions/: {sorted(shown)[:3]}"


def comparable(nb) -> list:
    """What must not change between two builds of a notebook (ids and outputs aside)."""
    return [(c.cell_type, c.source, c.get("metadata", {}).get("nbgrader")) for c in nb.cells]


def test_committed_release_and_solutions_are_fresh(assignment, tmp_path):
    course = Course(workdir=tmp_path / "var", release=tmp_path / "release")
    build.release(course, assignment)
    build.solutions(course, assignment, out_dir=tmp_path / "solutions")
    for kind, fresh_root in (("release", tmp_path / "release"), ("solutions", tmp_path / "solutions")):
        committed_dir = COURSE.root / kind / assignment
        fresh_dir = fresh_root / assignment
        files = sorted(p.relative_to(fresh_dir) for p in fresh_dir.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(committed_dir) for p in committed_dir.rglob("*") if p.is_file()), \
            f"{kind}/{assignment} has other files than a fresh build: run `make release solutions`"
        for rel in files:
            if rel.suffix == ".ipynb":
                same = comparable(nbs.read(fresh_dir / rel)) == comparable(nbs.read(committed_dir / rel))
            else:
                same = (fresh_dir / rel).read_bytes() == (committed_dir / rel).read_bytes()
            assert same, f"{kind}/{assignment}/{rel} is stale: run `make release solutions A={assignment}`"


def errors(nb) -> list[tuple]:
    """(cell, exception, message) of every error in a graded notebook: the judge's verdicts and what
    the kernel raised, which the judge keeps in a test cell's metadata."""
    return [(nbs.grade_id(c) or c.source[:40], o.get("ename"), o.get("evalue")) for c in nb.cells
            for o in c.get("outputs", []) + c.get("metadata", {}).get("eds", {}).get("kernel_outputs", [])
            if o.get("output_type") == "error"]


def test_solution_runs_top_to_bottom_with_full_marks(assignment, graded):
    """The graded solution is the source notebook (hidden tests restored): it must run clean."""
    run = graded(assignment)
    assert run.record("solution").status == "graded", run.record("solution").reason
    errors_ = errors(run.autograded_notebook("solution"))
    assert not errors_, f"the solution raises: {errors_}"
    lost = {gid: s for gid, s in run.cell_scores("solution").items()
            if s[0] < s[1] and nbs.is_test(nbs.cells_by_id(source_nb(assignment))[gid])}
    assert not lost, f"the solution loses points in {lost}"


def test_release_scores_zero_and_fails_only_on_stubs(assignment, graded):
    run = graded(assignment)
    tests = {gid for gid, c in nbs.cells_by_id(source_nb(assignment)).items() if nbs.is_test(c)}
    scored = {gid: s for gid, s in run.cell_scores("release").items() if gid in tests and s[0] > 0}
    assert not scored, f"the blank release earns points in {scored}: those tests cannot fail"
    other = [(cell, name) for cell, name, _ in errors(run.autograded_notebook("release"))
             if name not in ("NotImplementedError", judge.VERDICT)]
    assert not other, f"the release raises more than the stubs' NotImplementedError: {other}"


def test_each_mutant_loses_exactly_its_cells(assignment, graded):
    run = graded(assignment)
    tests = {gid for gid, c in nbs.cells_by_id(source_nb(assignment)).items() if nbs.is_test(c)}
    wrong = []   # every batch is checked, so one run of the suite lists every mistaken kill list
    for i, batch in enumerate(run.batches):
        scores = run.cell_scores(f"mutants-{i}")
        killed = {t for m in batch for t in m.kills}
        survivors = sorted(t for t in killed if scores[t][0] > 0)
        collateral = sorted(t for t in tests - killed if scores[t][0] < scores[t][1])
        if survivors or collateral:
            wrong.append(f"{[m.name for m in batch]}: cells {survivors} kept points, {collateral} lost points too")
    assert not wrong, "\n".join(wrong)


def test_feedback_names_each_mutants_misconception(assignment, graded):
    run = graded(assignment)
    missing = []
    for i, batch in enumerate(run.batches):
        text = BeautifulSoup(run.feedback_html(f"mutants-{i}"), "html.parser").get_text()
        missing += [m.name for m in batch if m.hint and f"Misconception: {m.hint}" not in text]
    assert not missing, f"feedback does not name the misconception of {missing}"


def test_feedback_shows_no_hidden_test(assignment, graded):
    run = graded(assignment)
    hidden = {line.strip() for c in source_nb(assignment).cells
              for line in nbs.region(c.source, nbs.HIDDEN_MARKERS) if len(line.strip()) >= 12}
    for student in ["release"] + [f"mutants-{i}" for i in range(len(run.batches))]:
        text = BeautifulSoup(run.feedback_html(student), "html.parser").get_text()
        own = run.submitted_lines(student)   # a mutant may write the wrong answer a hidden test imitates
        shown = sorted(line for line in hidden - own if line in text)
        assert not shown, f"feedback of {student} quotes hidden tests: {shown[:3]}"


def test_correct_answers_get_no_hint(assignment, graded):
    text = BeautifulSoup(graded(assignment).feedback_html("solution"), "html.parser").get_text()
    assert "Misconception:" not in text, "the solution's feedback names a misconception"


def test_no_hint_gives_the_solution_away(assignment):
    solution_lines = {line.strip() for c in source_nb(assignment).cells
                      for line in nbs.region(c.source, nbs.SOLUTION_MARKERS) if len(line.strip()) >= 12}
    for mutant in mutants_of(assignment):
        quoted = [line for line in solution_lines if line in mutant.hint]
        assert not quoted, f"the hint of {mutant.name} quotes the solution: {quoted}"


def judged(assignment: str) -> bool:
    if not judge.judged(COURSE, assignment):
        pytest.skip(f"{assignment} is not judged yet (nbgrader_config.py: c.Judge.unjudged)")
    return True


def test_expected_observations_are_fresh(assignment):
    """Regenerating the release refreshes the store; a change to a test, a check, the data or the
    mutants without it fails here."""
    judged(assignment)
    assert not expected.stale(COURSE, assignment), "run `make release A=...`"


def test_each_mutant_is_told_apart_and_named_by_value(assignment):
    """Offline, from the store: every mutant's observations fail each cell it kills, and the judge
    names that mutant's own misconception from them."""
    judged(assignment)
    hinted = {m.name for m in mutants_of(assignment) if m.hint}
    wrong = [f"{v.mutant} in {v.cell}" for v in mutation_report.verdicts(COURSE, assignment)
             if not v.killed or (v.mutant in hinted and not v.named)]
    assert not wrong, f"mutants the judge does not tell apart or name: {wrong}"


def with_variants(run) -> None:
    if run.variants == 1:
        pytest.skip(f"{run.assignment} has no variants of its data (nbgrader_config.py: c.Variants.count)")


def data_dependent(assignment: str) -> dict[str, dict]:
    """grade_id -> record of the test cells whose expected observations differ between variants."""
    return {gid: record for cells in expected.load(COURSE, assignment)["notebooks"].values()
            for gid, record in cells.items() if record.get("variants")}


def test_another_variants_solution_gets_full_marks_on_its_own_data(assignment, graded):
    run = graded(assignment)
    with_variants(run)
    student = f"variant-{run.variants - 1}"
    tests = {gid for gid, c in nbs.cells_by_id(source_nb(assignment)).items() if nbs.is_test(c)}
    lost = {gid: s for gid, s in run.cell_scores(student).items() if gid in tests and s[0] < s[1]}
    assert not lost, f"the solution on variant {run.variants - 1} loses points in {lost}"
    assert run.record(student).variant == run.variants - 1 and not run.record(student).flags


def test_each_variant_tells_its_data_from_every_other(assignment):
    """From the store: every data-dependent cell has an entry for every variant, and each variant's
    reference observations pass its own checks and fail every other variant's, where the judge
    names the variant they came from."""
    judged(assignment)
    k = variants.count(COURSE, assignment)
    if k == 1:
        pytest.skip(f"{assignment} has no variants of its data")
    cells = data_dependent(assignment)
    assert cells, "no test cell depends on the variant's data: the variants cannot be told apart"
    wrong = []
    for gid, record in cells.items():
        assert set(record["variants"]) == {str(v) for v in range(1, k)}, f"{gid} has no entry for some variant"
        for mine in range(k):
            got = judge.reference_of(record, mine)
            for other in range(k):
                failed = judge.failures(got, judge.reference_of(record, other), record)
                if bool(failed) != (mine != other):
                    wrong.append(f"{gid}: variant {mine}'s values judged as variant {other}")
    assert not wrong, wrong[:5]


def test_a_solution_on_another_variants_data_loses_its_data_cells_and_is_flagged(assignment, graded):
    """The roster gives `swapped` variant 2, its notebook reads variant 1's data."""
    run = graded(assignment)
    with_variants(run)
    scores, dependent = run.cell_scores("swapped"), data_dependent(assignment)
    tests = {gid for gid, c in nbs.cells_by_id(source_nb(assignment)).items() if nbs.is_test(c)}
    kept = sorted(gid for gid in dependent if scores[gid][0] > 0)
    lost = sorted(gid for gid in tests - set(dependent) if scores[gid][0] < scores[gid][1])
    assert not kept and not lost, f"data cells that kept points: {kept}; other cells that lost points: {lost}"
    record = run.record("swapped")
    assert record.variant == 2
    assert sorted(record.flags) == sorted(f"the values of {gid} match variant 1's data, not this student's variant 2"
                                          for gid in dependent), record.flags
    text = BeautifulSoup(run.feedback_html("swapped"), "html.parser").get_text()
    assert "match variant" not in text, "the flag is for the staff, not the feedback"
