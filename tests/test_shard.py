"""Sharding: N graders, each on a deterministic 1/N of the class, merged into the gradebook a single
run would have written (issue 11). The shards run as separate processes through the command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import merge, shard as shards
from autograder.course import Course, CourseError

from gradebook_view import record_table, snapshot
from toycourse import DUE, TOY, make_toy_course, report_class

# The command line, with the course root moved to a toy course (argv[1]).
CLI = ("import functools, pathlib, sys; from autograder import cli; from autograder.course import Course; "
       "cli.Course = functools.partial(Course, root=pathlib.Path(sys.argv[1])); sys.exit(cli.main(sys.argv[2:]))")


def cli(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, str(root), *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate()
    return proc.returncode, out, err


def test_parse_accepts_zero_based_indices():
    assert shards.parse("2/3") == shards.Shard(2, 3)
    for bad in ("3/3", "-1/3", "0/0", "one/3", "1"):
        with pytest.raises(CourseError):
            shards.parse(bad)


def test_every_student_is_in_exactly_one_shard():
    students = [f"s{i:03d}" for i in range(300)]
    owners = [[i for i in range(4) if shards.Shard(i, 4).has(s)] for s in students]
    assert all(len(o) == 1 for o in owners)
    assert all(40 < sum(o == [i] for o in owners) < 110 for i in range(4))   # spread, not all in one


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The toy class of the toy_run fixture graded as 3 shards at once, each in its own process."""
    root = tmp_path_factory.mktemp("sharded")
    course = make_toy_course(root, due=DUE)
    report_class(course, root / "subs")
    procs = [cli(root, "grade", TOY, "--submissions", str(root / "subs"), "--shard", f"{i}/3") for i in range(3)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    return course


def test_merged_shards_equal_one_run(sharded, toy_run):
    folders = shards.Shard(0, 3).folder(sharded, TOY).parent
    assert len(list(folders.glob(f"*/{shards.MANIFEST}"))) == 3
    code, out, err = finish(cli(sharded.root, "merge"))
    assert code == 0, err
    assert "merged 10 submissions" in out
    assert snapshot(sharded, TOY) == snapshot(toy_run.course, TOY)
    assert record_table(sharded, TOY) == record_table(toy_run.course, TOY)
    for student in ("ada", "jon"):
        assert (sharded.dir_of("autograded") / student / TOY / f"{TOY}.ipynb").is_file()


def test_shard_out_of_range_is_one_line_and_writes_nothing(tmp_path):
    code, out, err = finish(cli(tmp_path, "--workdir", str(tmp_path / "w"), "grade", TOY,
                                "--submissions", str(tmp_path), "--shard", "3/3"))
    assert code == 2 and err.strip().count("\n") == 0 and "out of range" in err, err
    assert not (tmp_path / "w").exists()


def bad_merge(course: Course, folders: list[Path], workdir: Path) -> str:
    """A merge that must fail with a CourseError (one line, exit 2 on the command line) and leave
    the working folder untouched."""
    with pytest.raises(CourseError) as failed:
        merge.merge(Course(root=course.root, workdir=workdir), folders)
    assert not workdir.exists()
    return str(failed.value)


def test_merge_refuses_shards_that_do_not_belong_together(sharded, tmp_path):
    folders = [shards.Shard(i, 3).folder(sharded, TOY) for i in range(3)]
    assert "0/3" in bad_merge(sharded, folders[:2], tmp_path / "missing")
    other = tmp_path / "other-assignment"
    shutil.copytree(folders[2], other)
    manifest = json.loads((other / shards.MANIFEST).read_text())
    (other / shards.MANIFEST).write_text(json.dumps({**manifest, "assignment": "00-python-warmup"}))
    assert "different assignments" in bad_merge(sharded, [*folders[:2], other], tmp_path / "mixed")
    edited = tmp_path / "edited-course"
    shutil.copytree(sharded.root / "source", edited / "source")
    shutil.copy(sharded.root / "nbgrader_config.py", edited)
    with (edited / "source" / TOY / f"{TOY}.ipynb").open("a") as fh:
        fh.write("\n")
    assert "another version" in bad_merge(Course(root=edited), folders, tmp_path / "edited-work")
