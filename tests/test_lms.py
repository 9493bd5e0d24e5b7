"""Gradebook files for Canvas and Moodle from the graded toy class: one row per student, final
scores only (unless asked), the late rule on the whole score, in step with a TA's later grades."""
from __future__ import annotations

import csv

import pytest

from autograder import export, grading, lms
from autograder.nbgrader_api import gradebook_for

from toycourse import TOY

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker


def rows(path):
    return list(csv.reader(path.open()))


@pytest.fixture
def course(toy_run, tmp_path):
    """A copy of the graded toy class, with a roster that knows two of its students."""
    course = grading.grading_course(toy_run.copy(tmp_path / "course"))
    (tmp_path / "roster.csv").write_text("student_id,name,email,lms_id,sis_id,section\n"
                                         "ada,Ada Lovelace,ada@uni.example,101,S-1,A\n"
                                         "zoe,Zoe Absent,zoe@uni.example,102,S-2,A\n")
    return course


def write(course, tmp_path, **options):
    return lms.write(course, [TOY], tmp_path / "roster.csv", lms.Options(**options), tmp_path / "lms")


def test_canvas_and_moodle_files_have_their_columns_and_one_row_per_student(course, tmp_path):
    canvas, moodle, parts = write(course, tmp_path)
    table = rows(canvas)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TOY]
    assert table[1][0] == "Points Possible" and table[1][5] == "7"
    by_login = {r[3]: r for r in table[2:]}
    assert by_login["ada"][:3] == ["Ada Lovelace", "101", "S-1"]
    assert by_login["zoe"][5] == "", "a student on the roster who handed nothing in has no score"
    assert {"ben", "cleo", "eve", "jon"} <= set(by_login), "graded students missing from the roster keep a row"
    assert len(by_login) == len(table) - 2
    header = rows(moodle)[0]
    assert header == ["Email address", "ID number", "First name", "Last name", TOY]
    assert {r[1]: r for r in rows(moodle)[1:]}["ada"][:4] == ["ada@uni.example", "ada", "Ada", "Lovelace"]
    assert rows(parts)[0] == ["student_id", "assignment", "part", "score", "max_score", "pending"]


def test_only_final_scores_unless_provisional_ones_are_asked_for(course, tmp_path):
    canvas, _, parts = write(course, tmp_path)
    assert {r[3]: r[5] for r in rows(canvas)[2:]}["ada"] == "", "ada's written answer waits for a TA"
    assert {r[3]: r[5] for r in rows(canvas)[2:]}["cleo"] == "0", "a rejected notebook is final: 0"
    pending = [r for r in rows(parts) if r[0] == "ada" and r[2] == "q_outliers"]
    assert pending == [["ada", TOY, "q_outliers", "", "2.0", "yes"]]
    canvas, _, _ = write(course, tmp_path, provisional=True)
    assert {r[3]: r[5] for r in rows(canvas)[2:]}["ada"] == "5"


def test_a_tas_grade_and_the_late_rule_reach_every_file(course, tmp_path):
    with gradebook_for(course) as gb:
        for student in ("ada", "jon"):
            grade = gb.find_grade("q_outliers", TOY, TOY, student)
            grade.manual_score, grade.needs_manual_grade = 2, False   # as the formgrader records a TA's grade
        gb.db.commit()
    canvas, _, _ = write(course, tmp_path)
    final = {r[3]: r[5] for r in rows(canvas)[2:]}
    assert final["ada"] == "7"
    assert final["jon"] == "5.6", "two started days late: 20 % of the whole score, written part included"
    status = {r["student"]: r for r in csv.DictReader(export.status_csv(course, [TOY], tmp_path / "s.csv").open())}
    assert (status["ada"]["status"], float(status["ada"]["score"])) == ("graded", 7.0)


@pytest.mark.parametrize("argv", [["--workdir", "w", "export"], ["export", "--workdir", "w"],
                                  ["--workdir", "w", "grade", "00-python-warmup", "--submissions", "s"],
                                  ["grade", "00-python-warmup", "--submissions", "s", "--workdir", "w"]])
def test_the_working_folder_is_taken_before_or_after_the_verb(argv):
    from autograder import cli
    assert cli.parser().parse_args(argv).workdir == "w"
    assert cli.parser().parse_args([a for a in argv if a not in ("--workdir", "w")]).workdir is None
