"""`collect`: the submissions folder built from a Moodle or Canvas zip, GitHub Classroom clones and
nbgrader's exchange, each made here in its documented naming, with hostile inputs beside the honest
ones."""
from __future__ import annotations

import csv
import zipfile

import pytest

from autograder.collect import collect
from autograder.course import CourseError
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


def test_lms_formats_need_a_roster(toy, tmp_path):
    course, _ = toy
    with pytest.raises(CourseError, match="needs --roster"):
        collect(course, TOY, "canvas", make_zip(tmp_path / "c.zip", {}), tmp_path / "subs")
