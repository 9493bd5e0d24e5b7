"""What intake reads of a submission folder (regular files only, never through a link, never past
the cap) and what it repairs in a notebook before nbgrader sees it. Fast: no kernel runs."""
from __future__ import annotations

import os
import socket
import stat

import nbformat
import pytest

from autograder import intake, records, sanitize
from autograder import notebooks as nbs
from autograder.intake import Unreadable, read_file

from toycourse import TOY, make_toy_course

MB = 1024**2


@pytest.fixture
def folder(tmp_path):
    """A submission folder with a file, a link to it, a link to /proc/self/mem, a FIFO and a socket."""
    sub = tmp_path / "ada" / TOY
    sub.mkdir(parents=True)
    (sub / "notes.txt").write_text("mine")
    (sub / "link").symlink_to(sub / "notes.txt")
    (sub / "mem").symlink_to("/proc/self/mem")
    os.mkfifo(sub / "pipe")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sub / "sock"))
    yield sub
    listener.close()


def test_only_regular_files_are_read(folder):
    fd = intake.open_folder(folder)
    try:
        assert read_file(fd, "notes.txt", MB) == b"mine"
        for name, kind in [("link", "link"), ("mem", "link"), ("pipe", "FIFO"), ("sock", "socket")]:
            with pytest.raises(Unreadable, match=f"{name} is a {kind}, not a file"):
                read_file(fd, name, MB)  # the FIFO would block an open without O_NONBLOCK: none is made
    finally:
        os.close(fd)


def test_a_device_is_never_opened(folder):
    try:
        os.mknod(folder / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("only root makes device files")
    fd = intake.open_folder(folder)
    try:
        with pytest.raises(Unreadable, match="null is a device"):
            read_file(fd, "null", MB)
    finally:
        os.close(fd)


def test_a_file_over_the_cap_is_refused_unread(folder):
    (folder / "big.ipynb").write_bytes(b"x" * 2001)
    fd = intake.open_folder(folder)
    try:
        with pytest.raises(Unreadable, match="larger than"):
            read_file(fd, "big.ipynb", 2000)
        assert len(read_file(fd, "big.ipynb", 2001)) == 2001
    finally:
        os.close(fd)


def test_the_fingerprint_reads_no_link_and_sees_every_change(folder):
    """A link to /proc/self/mem crashed the fingerprint, and with it the whole batch."""
    first = intake.fingerprint(folder, MB)
    assert first and intake.fingerprint(folder, MB) == first
    (folder / "mem").unlink()
    (folder / "mem").symlink_to("/etc/hostname")  # the same name and kind: what it points to is never read
    assert intake.fingerprint(folder, MB) == first
    (folder / "notes.txt").write_text("changed")
    assert intake.fingerprint(folder, MB) != first
    assert intake.fingerprint(folder / "gone", MB) is None


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    course = make_toy_course(tmp_path_factory.mktemp("intake"))
    return course, nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")


def test_a_notebook_that_is_a_link_is_rejected_unread(toy, tmp_path):
    course, solution = toy
    sub = tmp_path / "ada" / TOY
    sub.mkdir(parents=True)
    (sub / f"{TOY}.ipynb").symlink_to(course.solutions_dir / TOY / f"{TOY}.ipynb")
    found = intake.check(course, TOY, sub, MB)
    assert not found.ok and found.reason.startswith(f"{TOY}.ipynb is a link, not a file")


def test_a_submission_folder_that_is_a_link_is_rejected(toy, tmp_path):
    course, _ = toy
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / TOY).symlink_to(course.solutions_dir / TOY)
    found = intake.check(course, TOY, tmp_path / "ada" / TOY, MB)
    assert not found.ok and "is a link or a file, not a folder" in found.reason


def test_links_and_special_files_beside_the_notebook_are_listed_not_read(toy, folder):
    course, solution = toy
    nbs.write(solution, folder / f"{TOY}.ipynb")
    (folder / "timestamp.txt").symlink_to("/proc/self/mem")
    found = intake.check(course, TOY, folder, MB)
    assert found.ok and found.timestamp is None
    assert found.notes == ["ignored files that are not part of the assignment: notes.txt",
                           "never opened, as links and special files are not read: link (a link), mem (a link), "
                           "pipe (a FIFO), sock (a socket), timestamp.txt (a link)"]


@pytest.mark.parametrize("written, timestamp, note", [
    ("not a date'; DROP TABLE grade;--", None,
     "timestamp.txt is not a date: \"not a date'; DROP TABLE grade;--\"; graded as on time"),
    ("9" * 5000, None, "timestamp.txt is not a date: it holds 5000 bytes; graded as on time"),
    ("99999999999999999999", None, "timestamp.txt is not a date: '99999999999999999999'; graded as on time"),
    ("", None, None),
    ("2026-01-12 11:00:00.000000 UTC", "2026-01-12 11:00:00.000000 UTC", None),
])
def test_a_timestamp_that_is_not_a_date_is_a_note_and_the_submission_is_on_time(toy, tmp_path, written,
                                                                                timestamp, note):
    """nbgrader would stop on it (an AttributeError of its own became the student's reason); here it
    is read as a missing timestamp.txt is, and the note says why."""
    course, solution = toy
    sub = tmp_path / "ada" / TOY
    sub.mkdir(parents=True)
    nbs.write(solution, sub / f"{TOY}.ipynb")
    (sub / "timestamp.txt").write_text(written)
    found = intake.check(course, TOY, sub, MB)
    assert found.ok and found.timestamp == timestamp
    assert [n for n in found.notes if "timestamp" in n] == ([note] if note else [])


def cells(nb):
    return nbs.cells_by_id(nb)


def test_grading_metadata_on_an_answer_is_the_courses_again(toy):
    """nbgrader failed on an answer cell with `grade` ("unknown nbgrader error" for the student)."""
    _, solution = toy
    nb = nbformat.from_dict(solution)
    cells(nb)["answer_double"].metadata.nbgrader.update(grade=True, points=30)
    cells(nb)["answer_mean"].metadata.nbgrader = "points: 100"
    notes = sanitize.restore_grading_metadata(nb, solution)
    assert nbs.meta(cells(nb)["answer_double"]) == nbs.meta(cells(solution)["answer_double"])
    assert "nbgrader" not in nb.cells[4].metadata
    assert notes == ["grading metadata was changed on cells answer_double, (unreadable); the assignment's "
                     "was put back before grading"]
    assert sanitize.restore_grading_metadata(solution, solution) == []


@pytest.mark.parametrize("source, expected", [
    ("x = 1  # ### BEGIN HIDDEN TESTS\n# END HIDDEN TESTS", "x = 1  # ### begin hidden tests\n# end hidden tests"),
    ("s = '''\n# BEGIN HIDDEN TESTS\n'''", None),  # a string, though it looks like a comment
    ("print('END HIDDEN TESTS')", None),
    ("def f(:\n    # BEGIN HIDDEN TESTS", None),  # not Python: what is a comment is not known
])
def test_hidden_test_delimiters_in_code_are_lowered_in_comments_only(toy, source, expected):
    _, solution = toy
    nb = nbformat.from_dict(solution)
    cells(nb)["answer_mean"].source = source
    notes, problem = sanitize.neutralise_hidden_delimiters(nb)
    if expected is None:
        assert not notes and problem.startswith("cell answer_mean contains 'BEGIN HIDDEN TESTS'")
    else:
        assert cells(nb)["answer_mean"].source == expected and not problem
        assert notes == ["the words BEGIN HIDDEN TESTS / END HIDDEN TESTS were put in lower case in cells "
                         "answer_mean (the grader reserves them)"]


def test_hidden_test_delimiters_in_text_are_lowered_and_test_cells_left_alone(toy):
    _, solution = toy
    nb = nbformat.from_dict(solution)
    cells(nb)["q_outliers"].source = "outliers ### BEGIN HIDDEN TESTS"
    cells(nb)["test_mean"].source = "### BEGIN HIDDEN TESTS"
    assert sanitize.neutralise_hidden_delimiters(nb)[1] == ""
    assert cells(nb)["q_outliers"].source == "outliers ### begin hidden tests"
    assert cells(nb)["test_mean"].source == "### BEGIN HIDDEN TESTS"  # nbgrader puts the course's back


def test_the_log_keeps_nbgraders_errors_not_its_warnings():
    log = ("[WARNING] Attribute 'checksum' for cell test_double has changed!\n[ERROR] it broke\n"
           "    File x, line 1\n[WARNING] a long\n    warning\nTraceback (most recent call last):\nValueError: y\n")
    assert records.without_warnings(log) == ("[ERROR] it broke\n    File x, line 1\n"
                                             "Traceback (most recent call last):\nValueError: y\n")
