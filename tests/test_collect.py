"""`collect`: the submissions folder built from a Moodle or Canvas zip, GitHub Classroom clones and
nbgrader's exchange, each made here in its documented naming, with hostile inputs beside the honest
ones; then the collected folder goes through intake and one submission through grading."""
from __future__ import annotations

import csv
import os
import subprocess
import zipfile

import pytest

from autograder import cli, export, grading, intake, lms
from autograder.collect import collect
from autograder.course import Course, CourseError
from autograder.intake import TIMESTAMP

from toycourse import TOY, make_toy_course

NB = f"{TOY}.ipynb"
MB = 1024**2
ROSTER = ("student_id,name,email,moodle_id,canvas_id,github\n"
          "ada,Ada Lovelace,ada@uni.example,101,9001,ada-l\n"
          "ben,Ben Franklin,ben@uni.example,102,9002,benf\n"
          "cleo,Cleo Patra,cleo@uni.example,,9003,cleo\n")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy course (source, release and solutions) and the bytes of its solution notebook."""
    course = make_toy_course(tmp_path_factory.mktemp("collect"), due="2026-01-10 12:00:00 UTC")
    return course, (course.solutions_dir / TOY / NB).read_bytes()


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    return path


def make_zip(path, members):
    """members: name -> bytes, or (bytes, mode) for a member with Unix mode bits (a link)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if isinstance(data, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = data[1] << 16
                archive.writestr(info, data[0])
            else:
                archive.writestr(name, data)
    return path


def report(out):
    return list(csv.DictReader((out / f"collect-{TOY}.csv").open()))


def reasons(out):
    return {row["source"]: row["note"] for row in report(out) if row["status"] == "skipped"}


def test_moodle_zip_in_folders_and_flat(toy, roster, tmp_path):
    course, solution = toy
    source = make_zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_101_assignsubmission_file_/Copy of 99-toy.ipynb": solution,
        "Ada Lovelace_101_assignsubmission_file_/notes.pdf": b"%PDF",
        "Ben Franklin_102_assignsubmission_file_99-toy.ipynb": b"ben's",            # the flat layout
        "Ben Franklin_102_assignsubmission_onlinetext_onlinetext.html": b"<p>hi</p>",
        "Cleo Patra_555_assignsubmission_file_/99-toy.ipynb": b"cleo's",           # matched by her name
        "Zed Unknown_999_assignsubmission_file_/99-toy.ipynb": b"zed's",
        "stray.ipynb": b"?",
    })
    out = tmp_path / "subs"
    result = collect(course, TOY, "moodle", source, out, roster)
    assert (out / "ada" / TOY / NB).read_bytes() == solution
    assert (out / "ben" / TOY / NB).read_bytes() == b"ben's"
    assert (out / "cleo" / TOY / NB).read_bytes() == b"cleo's"
    assert sorted(p.name for p in out.iterdir()) == ["ada", "ben", "cleo", f"collect-{TOY}.csv"]
    assert not (out / "ada" / TOY / TIMESTAMP).exists(), "Moodle's zip has no submission time"
    notes = {row["student_id"]: row["note"] for row in report(out) if row["status"] == "collected"}
    assert f"renamed Copy of {NB} to {NB}" in notes["ada"]
    assert "matched to the roster by name (Cleo Patra)" in notes["cleo"]
    skipped = reasons(out)
    assert skipped["Ada Lovelace_101_assignsubmission_file_/notes.pdf"] == "not a notebook"
    assert skipped["Ben Franklin_102_assignsubmission_onlinetext_onlinetext.html"].startswith("not a file submission")
    assert skipped["Zed Unknown_999_assignsubmission_file_/99-toy.ipynb"] == "not on the roster (moodle 999 (Zed Unknown))"
    assert skipped["stray.ipynb"].startswith("not named as Moodle names")
    assert result.summary().startswith("collected 3 notebooks of 3 students")


def test_canvas_zip_late_flag_resubmission_and_lms_id(toy, tmp_path):
    course, _ = toy
    roster = tmp_path / "roster.csv"   # the LMS export's roster: Canvas's user id is its lms_id
    roster.write_text("student_id,name,email,lms_id\nada,Ada,a@x,9001\nben,Ben,b@x,9002\n")
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_9001_555001_99-toy-1.ipynb": b"ada's second upload",
        "franklinben_late_9002_555002_99-toy.ipynb": b"ben's",
        "franklinben_late_9002_555002_data.csv": b"1,2",
        "nobody_9999_555003_99-toy.ipynb": b"?",
    })
    out = tmp_path / "subs"
    collect(course, TOY, "canvas", source, out, roster)
    assert (out / "ada" / TOY / NB).read_bytes() == b"ada's second upload"
    assert (out / "ben" / TOY / NB).read_bytes() == b"ben's"
    assert not list(out.glob(f"*/{TOY}/{TIMESTAMP}")), "Canvas's zip has no submission time"
    notes = {row["student_id"]: row["note"] for row in report(out) if row["status"] == "collected"}
    assert notes["ada"] == f"renamed 99-toy-1.ipynb to {NB}"
    assert "Canvas marks it late" in notes["ben"]
    assert reasons(out) == {"franklinben_late_9002_555002_data.csv": "not a notebook",
                            "nobody_9999_555003_99-toy.ipynb": "not on the roster (canvas 9999 (nobody))"}


def test_a_hostile_zip_writes_nothing_outside_and_says_why(toy, roster, tmp_path):
    course, solution = toy
    inside = "Ada Lovelace_101_assignsubmission_file_"
    source = make_zip(tmp_path / "hostile.zip", {
        f"{inside}/../../../escaped.ipynb": b"slip",
        "/tmp/absolute.ipynb": b"abs",
        "C:\\evil\\99-toy.ipynb": b"drive",
        f"{inside}/99-toy.ipynb": (b"/etc/passwd", 0o120777),                     # a link member
        "Ben Franklin_102_assignsubmission_file_/99-toy.ipynb": b"\0" * (50 * MB + 1),  # over the cap, ~50 kB zipped
        "Cleo Patra_555_assignsubmission_file_/99-toy.ipynb": solution,
    })
    assert source.stat().st_size < MB
    out = tmp_path / "work" / "subs"
    result = collect(course, TOY, "moodle", source, out, roster)
    assert [c.student for c in result.collected] == ["cleo"]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        ["hostile.zip", "roster.csv", f"work/subs/collect-{TOY}.csv", f"work/subs/cleo/{TOY}/{NB}"])
    skipped = reasons(out)
    assert skipped[f"{inside}/../../../escaped.ipynb"] == "not read: its name climbs out of the archive (..)"
    assert skipped["/tmp/absolute.ipynb"] == "not read: its name is an absolute path"
    assert skipped["C:\\evil\\99-toy.ipynb"] == "not read: its name holds a backslash or NUL"
    assert skipped[f"{inside}/99-toy.ipynb"].startswith("not read: a link in the zip")
    assert skipped["Ben Franklin_102_assignsubmission_file_/99-toy.ipynb"].startswith("not read: larger than 50 MB")


def test_a_member_that_lies_about_its_size_is_not_read_past_the_cap(toy, roster, tmp_path):
    """A zip bomb's header may claim a small size: the read still stops at the cap (here, on the
    CRC zipfile checks at the claimed end) and the member is skipped, not written."""
    course, _ = toy
    source = make_zip(tmp_path / "bomb.zip", {"Ben Franklin_102_assignsubmission_file_/99-toy.ipynb": b"A" * 4096})
    raw = bytearray(source.read_bytes())
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):   # uncompressed size: claim 10 bytes
        at = raw.index(header) + offset
        raw[at:at + 4] = (10).to_bytes(4, "little")
    source.write_bytes(bytes(raw))
    out = tmp_path / "subs"
    result = collect(course, TOY, "moodle", source, out, roster)
    assert result.collected == [] and not (out / "ben").exists()
    assert list(reasons(out).values())[0].startswith("could not be read")


def git(repo, *args, date=None):
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=s", "-c", "user.email=s@x", *args],
                   env=env, check=True, capture_output=True)


def commit(repo, files, date):
    for name, data in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.unlink(missing_ok=True)
            path.symlink_to(data)
        else:
            path.write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "work", date=date)


@pytest.fixture
def classroom(tmp_path):
    """Clones named <assignment>-<username>: ada commits before and after the deadline, ben only after,
    cleo's notebook is a link to a file outside her repository, one repository's owner is unknown,
    one has no commit, one is a link to another repository."""
    folder = tmp_path / "classroom"
    for name in ("toy-ada-l", "toy-benf", "toy-cleo", "toy-mallory", "toy-empty"):
        (folder / name).mkdir(parents=True)
        git(folder / name, "init", "-q")
    commit(folder / "toy-ada-l", {NB: b"ada on time"}, "2026-01-09T10:00:00+00:00")
    commit(folder / "toy-ada-l", {NB: b"ada late", ".ipynb_checkpoints/99-toy-checkpoint.ipynb": b"cp"},
           "2026-01-11T10:00:00+00:00")
    commit(folder / "toy-benf", {f"work/Copy of {NB}": b"ben late", "README.md": b"hi"}, "2026-01-12T11:00:00+00:00")
    commit(folder / "toy-cleo", {NB: str(tmp_path / "secret.ipynb")}, "2026-01-09T09:00:00+00:00")
    commit(folder / "toy-mallory", {NB: b"?"}, "2026-01-09T09:00:00+00:00")
    (folder / "toy-link").symlink_to(folder / "toy-ada-l")
    return folder


def test_github_classroom_repositories_at_the_deadline(toy, roster, classroom, tmp_path):
    course, _ = toy
    (tmp_path / "secret.ipynb").write_text("the solutions")
    out = tmp_path / "subs"
    collect(course, TOY, "github", classroom, out, roster, deadline=_utc("2026-01-10 12:00:00"))
    assert (out / "ada" / TOY / NB).read_bytes() == b"ada on time", "the last commit at or before the deadline"
    assert (out / "ada" / TOY / TIMESTAMP).read_text() == "2026-01-09 10:00:00.000000 UTC"
    assert (out / "ben" / TOY / NB).read_bytes() == b"ben late", "no commit before it: the latest, late"
    assert (out / "ben" / TOY / TIMESTAMP).read_text() == "2026-01-12 11:00:00.000000 UTC"
    assert not (out / "cleo").exists()
    skipped = reasons(out)
    assert skipped[f"toy-cleo/{NB}"] == "a link in the repository: never followed"
    assert skipped[f"toy-mallory/{NB}"] == "not on the roster (github toy-mallory)"
    assert skipped["toy-empty"] == "no commit: nothing was handed in"
    assert skipped["toy-link"].startswith("not a repository folder (a link")
    assert f"toy-ada-l/.ipynb_checkpoints/99-toy-checkpoint.ipynb" not in skipped, "not in the deadline commit"
    notes = {row["student_id"]: row["note"] for row in report(out) if row["status"] == "collected"}
    assert "no commit at or before the deadline" in notes["ben"] and f"renamed Copy of {NB}" in notes["ben"]


def test_github_without_a_deadline_takes_head(toy, roster, classroom, tmp_path):
    course, _ = toy
    out = tmp_path / "subs"
    collect(course, TOY, "github", classroom, out, roster)
    assert (out / "ada" / TOY / NB).read_bytes() == b"ada late"
    assert (out / "ada" / TOY / TIMESTAMP).read_text() == "2026-01-11 10:00:00.000000 UTC"
    assert reasons(out)["toy-ada-l/.ipynb_checkpoints/99-toy-checkpoint.ipynb"].startswith("Jupyter's checkpoint")


def _utc(text):
    from nbgrader.utils import parse_utc
    from autograder.collect.entries import utc
    return utc(parse_utc(text))


def inbound(tmp_path, solution):
    """nbgrader's exchange: ada submits twice before the deadline and once after, ben once after,
    eve hands in a link to the solutions; another assignment's folder is not ours to read."""
    folder = tmp_path / "exchange" / "course101" / "inbound"
    subs = {f"ada+{TOY}+2026-01-09 08:00:00.000000 UTC+aaa": b"ada first",
            f"ada+{TOY}+2026-01-10 11:59:00.000000 UTC+bbb": solution,
            f"ada+{TOY}+2026-01-11 08:00:00.000000 UTC+ccc": b"ada after",
            f"ben+{TOY}+2026-01-12 11:00:00.000000 UTC+ddd": solution,
            f"ben+00-python-warmup+2026-01-01 08:00:00.000000 UTC+eee": b"other"}
    for name, data in subs.items():
        (folder / name).mkdir(parents=True)
        (folder / name / NB).write_bytes(data)
        (folder / name / TIMESTAMP).write_text(name.split("+")[2])
    eve = folder / f"eve+{TOY}+2026-01-09 08:00:00.000000 UTC+fff"
    eve.mkdir()
    (eve / NB).symlink_to(tmp_path / "solutions.ipynb")
    return folder.parent


def test_exchange_keeps_the_latest_on_time_and_needs_no_roster(toy, tmp_path):
    course, solution = toy
    out = tmp_path / "subs"
    collect(course, TOY, "exchange", inbound(tmp_path, solution), out, deadline=_utc("2026-01-10 12:00:00 UTC"))
    assert (out / "ada" / TOY / NB).read_bytes() == solution
    assert (out / "ada" / TOY / TIMESTAMP).read_text() == "2026-01-10 11:59:00.000000 UTC"
    assert (out / "ben" / TOY / TIMESTAMP).read_text() == "2026-01-12 11:00:00.000000 UTC"
    skipped = reasons(out)
    assert skipped[f"ada+{TOY}+2026-01-09 08:00:00.000000 UTC+aaa/{NB}"].startswith("an earlier submission")
    assert skipped[f"ada+{TOY}+2026-01-11 08:00:00.000000 UTC+ccc/{NB}"].startswith("after the deadline")
    assert skipped[f"eve+{TOY}+2026-01-09 08:00:00.000000 UTC+fff/{NB}"].startswith("a link")
    assert not any("00-python-warmup" in source for source in skipped)


def test_an_earlier_collection_is_replaced_only_when_asked(toy, tmp_path):
    course, solution = toy
    exchange, out = inbound(tmp_path, solution), tmp_path / "subs"
    collect(course, TOY, "exchange", exchange, out)
    (out / "ada" / TOY / NB).write_bytes(b"graded already")
    (out / "zoe" / TOY).mkdir(parents=True)
    with pytest.raises(CourseError, match="already holds a collection of 99-toy"):
        collect(course, TOY, "exchange", exchange, out)
    assert (out / "ada" / TOY / NB).read_bytes() == b"graded already"
    collect(course, TOY, "exchange", exchange, out, replace=True)
    assert (out / "ada" / TOY / NB).read_bytes() == b"ada after", "no deadline: the latest"
    assert not (out / "zoe" / TOY).exists() and not list(out.glob(".collecting-*"))


def test_lms_formats_need_a_roster(toy, tmp_path):
    course, _ = toy
    with pytest.raises(CourseError, match="needs --roster"):
        collect(course, TOY, "canvas", make_zip(tmp_path / "c.zip", {}), tmp_path / "subs")


def test_the_command_line_collects_and_prints_the_summary(toy, roster, tmp_path, capsys, monkeypatch):
    course, solution = toy
    monkeypatch.setattr(cli, "_course", lambda args: course)
    source = make_zip(tmp_path / "canvas.zip", {"lovelaceada_9001_1_99-toy.ipynb": solution})
    argv = ["collect", TOY, "canvas", str(source), "--roster", str(roster), "--out", str(tmp_path / "subs"),
            "--workdir", str(tmp_path / "w"), "--deadline", "2026-01-10 12:00:00 UTC"]
    assert cli.parser().parse_args(argv).workdir == str(tmp_path / "w")
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == (f"collected 1 notebook of 1 student into {tmp_path / 'subs'}, "
                                               f"skipped 0: see {tmp_path / 'subs' / f'collect-{TOY}.csv'}")
    assert cli.main(argv) == 2, "a second run would replace the first"
    assert "already holds a collection" in capsys.readouterr().err


def test_intake_accepts_what_was_collected_and_grading_sees_the_late_time(toy, tmp_path):
    """The round trip: collected from the exchange, checked by intake, then ben's late notebook graded."""
    course, solution = toy
    out = tmp_path / "subs"
    collect(course, TOY, "exchange", inbound(tmp_path, solution), out, deadline=_utc("2026-01-10 12:00:00 UTC"))
    ada = intake.check(course, TOY, out / "ada" / TOY, MB)
    assert ada.ok and ada.timestamp == "2026-01-10 11:59:00.000000 UTC" and ada.notes == []
    work = Course(root=course.root, workdir=tmp_path / "var")
    graded = {r.student: r for r in grading.grade(work, TOY, out)}
    assert set(graded) == {"ada", "ben"}
    assert graded["ben"].status == "graded" and graded["ben"].timestamp == "2026-01-12 11:00:00.000000 UTC"
    assert graded["ada"].score == 5, "every autograded point; the written answer waits for a TA"
    late = export.submission_table(grading.grading_course(work), TOY).set_index("student")["days_late"]
    assert late.to_dict() == {"ada": 0, "ben": 2}, "the toy is due 2026-01-10 12:00 UTC"


@pytest.mark.parametrize("fmt", ["canvas", "moodle"])
def test_an_lms_download_goes_back_to_the_same_lms_with_its_grades(toy, tmp_path, fmt):
    """The round trip an instructor makes: the LMS's download collected with one roster, graded, and
    exported as the same LMS's gradebook import, where each student is found by the LMS's own key."""
    course, solution = toy
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,lms_id,moodle_id\n"
                      "ada,Ada Lovelace,ada@uni.example,9001,101\nben,Ben Franklin,ben@uni.example,9002,102\n")
    members = {"canvas": {"lovelaceada_9001_555001_99-toy.ipynb": solution, "franklinben_9002_555002_99-toy.ipynb": b"{"},
               "moodle": {"Ada Lovelace_101_assignsubmission_file_/99-toy.ipynb": solution,
                          "Ben Franklin_102_assignsubmission_file_/99-toy.ipynb": b"{"}}[fmt]
    out = tmp_path / "subs"
    collect(course, TOY, fmt, make_zip(tmp_path / f"{fmt}.zip", members), out, roster)
    work = Course(root=course.root, workdir=tmp_path / "var")
    graded = {r.student: r for r in grading.grade(work, TOY, out)}
    assert graded["ada"].score == 5 and graded["ben"].status == "rejected"
    canvas, moodle, _ = lms.write(grading.grading_course(work), [TOY], roster, lms.Options(provisional=True),
                                  tmp_path / "lms")
    table = list(csv.DictReader((canvas if fmt == "canvas" else moodle).open()))
    key, ada, ben = ("ID", "9001", "9002") if fmt == "canvas" else ("Email address", "ada@uni.example", "ben@uni.example")
    scores = {row[key]: row[TOY] for row in table if row.get("Student") != "Points Possible"}
    assert scores[ada] == "5" and scores[ben] == "0", "ada's autograded points (provisional), ben's corrupt notebook"


def test_moodles_grading_worksheet_gives_each_submission_its_time(toy, roster, tmp_path):
    """Moodle's zip has no times; its worksheet does, in the downloader's zone: lateness is graded."""
    course, solution = toy
    source = make_zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_101_assignsubmission_file_/99-toy.ipynb": solution,
        "Ben Franklin_102_assignsubmission_file_/99-toy.ipynb": solution})
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text("\ufeffIdentifier,Full name,Email address,Status,Last modified (submission)\n"
                         "Participant 101,Ada Lovelace,ada@uni.example,Submitted,\"Saturday, 10 January 2026, 12:59 PM\"\n"
                         "Participant 102,Ben Franklin,ben@uni.example,Submitted,\"Monday, 12 January 2026, 9:30 AM\"\n"
                         "Participant 103,Cleo Patra,cleo@uni.example,No submission,-\n")
    out = tmp_path / "subs"
    collect(course, TOY, "moodle", source, out, roster, moodle_worksheet=worksheet, timezone="Europe/Zurich")
    assert (out / "ada" / TOY / TIMESTAMP).read_text() == "2026-01-10 11:59:00.000000 UTC", "12:59 in Zurich"
    assert (out / "ben" / TOY / TIMESTAMP).read_text() == "2026-01-12 08:30:00.000000 UTC"
    worksheet.write_text("Identifier,Last modified (submission)\nParticipant 101,10/01/2026 12:59\n")
    with pytest.raises(CourseError, match="line 2: cannot read the submission time"):
        collect(course, TOY, "moodle", source, tmp_path / "other", roster, moodle_worksheet=worksheet)
    with pytest.raises(CourseError, match="unknown time zone"):
        collect(course, TOY, "moodle", source, tmp_path / "third", roster, moodle_worksheet=worksheet, timezone="Mars/Olympus")
