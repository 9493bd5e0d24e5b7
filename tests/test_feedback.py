"""Feedback pages on the toy class: each part's score, message and misconception, the grader's notes,
lateness, no hidden test, nothing loaded from the network."""
from __future__ import annotations

import dataclasses
import re
import shutil

import nbformat
import pytest
from bs4 import BeautifulSoup

from autograder import grading, notice, records, notebooks as nbs
from autograder.course import REPO
from autograder import feedback_filters as filters
from autograder.feedback_filters import MATH, mathtext_tex, render_maths, split_hint, tex_image

from toycourse import TOY

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker

STUDENTS = ["ada", "ben", "cleo", "eve", "finn", "ivy", "jon"]


def page(run, student: str) -> BeautifulSoup:
    return BeautifulSoup(run.feedback_page(student).read_text(), "html.parser")


def headline(run, student: str) -> str:
    return " ".join(page(run, student).find(id="eds-headline").get_text(" ", strip=True).split()).replace(" ;", ";").replace(" .", ".")


def summary_row(run, student: str, part: str) -> str:
    return page(run, student).find(id=f"eds-part-{part}").get_text(" ", strip=True)


def test_each_part_shows_its_score_message_and_misconception(toy_run):
    failing = summary_row(toy_run, "ivy", "test_mean")
    assert "0 / 2" in failing
    assert "mean_of([1.0, 2.0, 6.0])" in failing and "9.0" in failing
    assert "Misconception: the sum was not divided by the number of values" in failing
    assert "3 / 3" in summary_row(toy_run, "ivy", "test_double")
    assert "Misconception" not in page(toy_run, "ada").find(id="eds-summary").get_text()


def test_written_answers_waiting_for_a_ta_show_as_pending(toy_run):
    assert "pending: a TA grades it / 2" in summary_row(toy_run, "ada", "q_outliers")


def test_the_first_line_gives_the_autograded_score_and_the_pending_points(toy_run):
    assert headline(toy_run, "ada") == ("Autograded: 5 / 5; 2 point(s) of written answers pending: a TA grades "
                                        "them. Score so far: 5 / 7.")
    assert headline(toy_run, "ivy").startswith("Autograded: 3 / 5;")


def test_nothing_on_the_page_says_0_for_a_written_answer_not_graded_yet(toy_run):
    soup = page(toy_run, "ada")
    text = " ".join(soup.get_text(" ").split())
    assert "Written response" not in text and not soup.find(id="toc")   # nbgrader's list, replaced by ours
    heading = soup.find("a", attrs={"name": "q_outliers"}).find_next(class_="panel-heading").get_text(" ", strip=True)
    assert "pending: a TA grades it / 2" in heading and "Score: 0" not in heading


def test_a_late_page_gives_the_rule_the_due_date_and_the_submission_time(toy_run):
    assert "late penalty −1." in headline(toy_run, "jon") and headline(toy_run, "jon").endswith("Score so far: 4 / 7.")
    late = " ".join(page(toy_run, "jon").find(id="eds-late").get_text(" ").split())
    assert late == ("Submitted 2026-01-12 11:00 UTC, due 2026-01-10 12:00 UTC: 2 day(s) late (started days). "
                    "Rule: 10 % of the score per started day late, never more than the score; penalty 1 point(s).")


def test_a_crashed_notebook_gets_the_cell_the_kernel_died_in_and_what_to_do(toy_run):
    soup = page(toy_run, "finn")
    assert "kernel died" in soup.find(id="eds-reason").get_text()
    where = " ".join(soup.find(id="eds-stopped").get_text().split())
    assert "stopped in cell 5 of the notebook as graded" in where and "kernel died" in where
    source, output = (pre.get_text() for pre in soup.find_all("pre"))
    assert "os._exit(3)" in source and "leaving for good" in output, "its code and its last output in the grader's run"
    assert "Restart Kernel and Run All Cells" in soup.find(id="eds-steps").get_text()
    assert "original name" in page(toy_run, "cleo").find(id="eds-steps").get_text()   # rejected: hand it in right


def test_without_the_graders_record_the_page_guesses_the_cell_that_ends_python(toy_run):
    """nbgrader's own autograde keeps no record of where a run died: the handed-in notebook is read."""
    record = dataclasses.replace(records.load(grading.grading_course(toy_run.course), TOY, "finn"), stopped=None)
    soup = BeautifulSoup(notice.notice_page(toy_run.course, record), "html.parser")
    assert "Cell 5 of 8" in soup.find(id="eds-stopped").get_text() and "ends Python" in soup.find(id="eds-stopped").get_text()


def test_every_page_has_a_viewport_and_runs_no_script(toy_run):
    """A student's cell can put out HTML or Javascript: the page's policy keeps it inert."""
    for student in STUDENTS:
        soup = page(toy_run, student)
        assert soup.find("meta", attrs={"name": "viewport"}), student
        policy = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert policy and "script-src 'none'" in policy["content"], student
        assert "img-src 'self' data:" in policy["content"], student   # no remote image: no beacon
        assert not soup.find("script"), f"{student}: the page itself needs no script"


def test_a_test_cell_fails_on_whatever_error_output_it_has():
    judged = nbformat.v4.new_code_cell("assert f(1) == 2", metadata={"nbgrader": {"grade": True, "grade_id": "t"}})
    judged.outputs = [nbformat.v4.new_output("error", ename="TestFailed", evalue="f(1) gave 3\nMisconception: off by one",
                                             traceback=[])]
    assert split_hint(filters.test_failure(judged)) == ("TestFailed: f(1) gave 3", "off by one")
    judged.outputs = []
    assert filters.test_failure(judged) == ""


def test_the_graders_notes_and_lateness_are_shown(toy_run):
    notes = page(toy_run, "eve").find(class_="eds-notes").get_text(" ")
    assert "test_double was edited" in notes and "test_mean was deleted" in notes
    assert "kernel died" in page(toy_run, "finn").get_text()
    assert "2 day(s) late" in page(toy_run, "jon").find(id="eds-late").get_text(" ", strip=True)
    assert page(toy_run, "ada").find(class_="eds-late") is None


def test_no_hidden_test_line_even_in_tracebacks(toy_run):
    source = nbs.read(REPO / "tests" / "fixtures" / "toy" / f"{TOY}.ipynb")
    hidden = {line.strip() for c in source.cells for line in nbs.region(c.source, nbs.HIDDEN_MARKERS)
              if len(line.strip()) >= 12}
    assert hidden
    for student in STUDENTS:
        text = toy_run.feedback_page(student).read_text()
        assert not [line for line in hidden if line in text], student


def test_pages_load_nothing_from_the_network(toy_run):
    for student in STUDENTS:
        soup = page(toy_run, student)
        remote = [t for t in soup.find_all(["script", "link", "img", "iframe"])
                  if re.match(r"(https?:)?//", t.get("src") or t.get("href") or "")]
        assert not remote, (student, remote)
        assert not soup.find("script", type="text/x-mathjax-config"), student


def test_maths_is_drawn_as_images_and_code_and_dollars_are_kept():
    out = render_maths(r"slope $\beta_1$ and $$y = a x + b$$ cost \$5, see `echo $HOME` and `$x$`")
    images = BeautifulSoup(out, "html.parser").find_all("img")
    assert [i["alt"] for i in images] == [r"\beta_1", "y = a x + b"]
    assert all(i["src"].startswith("data:image/svg+xml;base64,") for i in images)
    assert r"\$5" in out and "`echo $HOME`" in out and "`$x$`" in out


def test_unparsable_maths_falls_back_to_code():
    assert render_maths(r"$\notacommand{x}$") == r"<code>\notacommand{x}</code>"


def test_tex_that_mathtext_lacks_is_rewritten():
    assert mathtext_tex(r"\tfrac12 \le \frac1n \big( x \bigr) \sqrt 3") == r"\frac{1}{2} \leq \frac{1}{n} ( x ) \sqrt{3}"


def test_a_matrix_is_laid_out_as_a_grid_of_formulas():
    out = BeautifulSoup(render_maths(r"$$X = \begin{pmatrix} t_1 & 1 \\ t_N & 1 \end{pmatrix}.$$"), "html.parser")
    rows = out.find(class_="eds-matrix").find_all(class_="eds-row")
    assert [[img["alt"] for img in row.find_all("img")] for row in rows] == [["t_1", "1"], ["t_N", "1"]]
    assert "&" not in out.get_text() and not out.find("code")


def test_every_formula_of_the_release_notebooks_is_drawn():
    raw = [(path.name, m[0]) for path in sorted((REPO / "release").glob("*/*.ipynb"))
           for cell in nbs.read(path).cells if cell.cell_type == "markdown"
           for m in MATH.finditer(cell.source) if not m[1] and "<code>" in tex_image(m[2] or m[3], bool(m[2]))]
    assert not raw


def test_the_hint_line_is_split_from_the_message():
    assert split_hint("got 9, expected 3.\nMisconception: forgot to divide") == ("got 9, expected 3.", "forgot to divide")
    assert split_hint("got 9") == ("got 9", "")


def test_an_output_that_quotes_the_hidden_tests_is_withheld():
    """Red-teamed: an audit hook on compile caught the hidden tests as they ran, and a later answer
    cell printed them, onto the student's own feedback page."""
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n_rng = np.random.default_rng(11)\n### END HIDDEN TESTS\n"
                                     "assert f(1) == 2", metadata={"nbgrader": {"grade": True, "grade_id": "t"}})
    spy = nbformat.v4.new_code_cell("for s in _CAPT: print(s)")
    spy.outputs = [nbformat.v4.new_output("stream", name="stdout", text="----\n_rng = np.random.default_rng(11)\n"),
                   nbformat.v4.new_output("execute_result", {"text/plain": "'my own result'"})]
    shown = nbformat.v4.new_code_cell("print('np.random.default_rng')")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="np.random.default_rng\n")]
    nb = nbformat.v4.new_notebook(cells=[test, spy, shown])
    nb, _ = filters.WithholdQuotedTests().preprocess(nb, {})
    assert nb.cells[1].outputs[0]["text"].startswith("[output withheld") and nb.cells[1].outputs[1]["data"]
    assert nb.cells[2].outputs[0]["text"] == "np.random.default_rng\n", "a fragment of a line is not a quote"


def test_the_course_own_cells_are_never_too_heavy_to_render():
    """The caps on a student's content leave every cell of the released notebooks as it is."""
    heavy = [(path.name, heavy) for path in sorted((REPO / "release").glob("*/*.ipynb"))
             for cell in nbs.read(path).cells if cell.cell_type == "markdown"
             for heavy in [filters.heaviness(cell.source)] if heavy]
    assert not heavy


def test_a_students_maths_is_drawn_within_the_caps_the_assignments_always(monkeypatch):
    """Past MAX_OWN_FORMULAS, or too long or too deeply nested, a student's formula is shown as TeX;
    the assignment's own formulas are drawn whatever the student wrote before them."""
    own = " ".join(f"$x_{{{i}}}$" for i in range(filters.MAX_OWN_FORMULAS + 5))
    deep = "$" + r"\frac{" * 40 + "1" + "}{2}" * 40 + "$"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(own + " " + deep + r" and $\beta_1$")])
    monkeypatch.setattr(filters, "assignment_formulas", lambda path: frozenset({r"\beta_1"}))
    nb, _ = filters.RenderMaths(workdir="/nowhere").preprocess(nb, {"nbgrader": {"assignment": "a", "notebook": "a"}})
    source = nb.cells[0].source
    assert source.count('class="eds-math"') == filters.MAX_OWN_FORMULAS + 1   # the cap, and \beta_1
    assert r"<code>x_{61}</code>" in source and r"<code>\frac{\frac{" in source
    assert 'alt="\\beta_1"' in source


def test_heavy_markup_is_shown_as_plain_text():
    nested = "<div>" * 20000 + "x" + "</div>" * 20000
    cell = nbformat.v4.new_code_cell("display(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": nested, "text/plain": "n"}),
                    nbformat.v4.new_output("display_data", {"text/html": "<b>fine</b>", "text/plain": "f"})]
    answer = nbformat.v4.new_markdown_cell("[" * 20000 + "x](y)" + "*_" * 20000)
    nb = nbformat.v4.new_notebook(cells=[cell, answer])
    nb, _ = filters.CapHeavyContent().preprocess(nb, {})
    assert set(nb.cells[0].outputs[0]["data"]) == {"text/plain"}
    assert nb.cells[0].outputs[0]["data"]["text/plain"].startswith("[shown as plain text")
    assert nb.cells[0].outputs[1]["data"]["text/html"] == "<b>fine</b>"
    assert nb.cells[1].source.startswith("*[shown as plain text") and "```text\n[[[[" in nb.cells[1].source
    assert len(nb.cells[1].source) < filters.SHOWN_CHARS + 500


HEAVY_ANSWER = ("Answer: $" + r"\frac{" * 400 + "1" + "}{2}" * 400 + "$ "
                + " ".join(f"$x_{{{i}}}^{{{i}}}$" for i in range(3000)) + "<div>" * 20000 + "[" * 20000)


def test_a_page_full_of_maths_and_nesting_is_written_in_seconds(toy_run, tmp_path):
    """Red-teamed: 3000 formulas, \\frac nested 400 deep, 20 000 nested <div>s and '['s in a written
    answer, and an HTML output nested 100 000 deep, took 50 s (400 s on a busy machine) for one
    student's page. The caps that make it fast hold (the time is printed, not asserted: speed is
    the benchmarks' to measure): no more formulas drawn than the student's budget and the
    assignment's own, no nested markup rendered, and the page says why its content is shown as text."""
    import time

    from autograder import feedback

    course = toy_run.copy(tmp_path / "course")
    folder = grading.grading_course(course).dir_of("autograded")
    for other in [p for p in folder.iterdir() if p.name != "ada"]:
        shutil.rmtree(other)
    path = folder / "ada" / TOY / f"{TOY}.ipynb"
    nb = nbs.read(path)
    nbs.cells_by_id(nb)["q_outliers"].source = HEAVY_ANSWER
    answer = nbs.cells_by_id(nb)["answer_double"]
    answer.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<div>" * 100000 + "x" + "</div>" * 100000,
                                                                "text/plain": "n"}),
                      nbformat.v4.new_output("display_data", {"text/markdown": "> " * 5000 + "x", "text/plain": "m"})]
    nbs.write(nb, path)
    started = time.monotonic()
    feedback.generate(course, TOY)
    seconds = time.monotonic() - started
    text = (grading.grading_course(course).dir_of("feedback") / "ada" / TOY / f"{TOY}.html").read_text()
    print(f"the heavy page took {seconds:.1f} s")
    release = course.work / "release" / TOY / f"{TOY}.ipynb"   # where RenderMaths reads the assignment's formulas
    assert text.count('class="eds-math"') <= filters.MAX_OWN_FORMULAS + len(filters.assignment_formulas(str(release)))
    assert "<div>" * 100 not in text and "> " * 100 not in text
    assert "shown as plain text" in text
