"""The adversarial suite again, graded by a user that is not root (issue 22).

As root each kernel gets a uid of its own. A grader without root has only unprivileged user
namespaces, and its kernels run with its own uid: its venv, its copy of the course, its data and
the next run's submissions are all writable by that uid, and only the kernel's view stands between
them and a hostile notebook. So this test makes such a grader for real: a user of its own, owning a
copy of the course and a venv of its own (the same packages, on a Python that user may run), and
runs tests/test_adversarial.py as that user with a user's PATH (no /usr/sbin). It needs root to
create the user; elsewhere it skips and says why.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from autograder.course import REPO
from autograder.sandbox import processes

GRADER = "eds-nonroot-grader"
USER_PATH = "/usr/local/bin:/usr/bin:/bin"   # Debian's PATH for a user: no sbin
# What the adversarial suite can only check as root (each skips saying so).
ROOT_ONLY = {"test_a_zombie_leaders_thread_neither_outlives_grading_nor_reaches_the_next_student",
             "test_the_view_holds_only_what_the_kernel_needs_without_root"}
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Grader:
    home: Path

    @property
    def course(self) -> Path:
        return self.home / "course"

    @property
    def python(self) -> Path:
        return self.course / ".venv" / "bin" / "python"

    def run(self, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """`cmd` as the grader, in its course, with a user's environment and nothing of ours."""
        env = [f"PATH={USER_PATH}", f"HOME={self.home}", "LANG=C.UTF-8", f"USER={GRADER}", f"LOGNAME={GRADER}"]
        return subprocess.run(["runuser", "-u", GRADER, "--", "env", "-i", *env, *cmd], cwd=self.course,
                              capture_output=True, text=True, timeout=timeout)


def base_python(grader: Grader) -> str | None:
    """A Python of this version the grader may run: the one our venv was made from, unless it sits
    in a home the grader cannot enter (pyenv under /root), then the system's. The adversarial suite
    grades on either; nbconvert's HTML export (feedback pages) needs a later 3.11 than Debian 12's
    3.11.2, whose `re` fails on a selector soupsieve compiles, so this test makes no pages."""
    for python in (Path(sys.base_prefix) / "bin" / f"python{VERSION}", Path(f"/usr/bin/python{VERSION}")):
        if python.exists() and grader.run(str(python), "-c", "pass").returncode == 0:
            return str(python)
    return None


def copy_course(dest: Path) -> None:
    """The course's files as a clone holds them (no .venv, no var/)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source, target = REPO / name, dest / name
        if source.is_file() or source.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)


def make_venv(grader: Grader, python: str) -> None:
    """A venv of the grader's own holding a copy of ours: its site-packages, its share/ (nbconvert's
    templates) and the scripts nbgrader runs (alembic), their first line pointing at the new Python."""
    venv = grader.course / ".venv"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    ours = Path(sys.prefix)
    for folder in (f"lib/python{VERSION}/site-packages", "share"):
        if (venv / folder).exists():
            shutil.rmtree(venv / folder)
        if (ours / folder).exists():
            subprocess.run(["cp", "-a", str(ours / folder), str(venv / folder)], check=True)
    for script in (ours / "bin").iterdir():
        target = venv / "bin" / script.name
        if script.is_symlink() or target.exists() or not script.is_file():
            continue
        lines = script.read_bytes().split(b"\n", 1)
        if lines[0].startswith(b"#!") and b"python" in lines[0] and len(lines) == 2:
            target.write_bytes(b"#!" + str(grader.python).encode() + b"\n" + lines[1])
            target.chmod(0o755)


@pytest.fixture(scope="module")
def grader(outside_file):
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("useradd", "userdel", "runuser", "git")):
        pytest.skip("needs root, useradd and runuser to make a grader that is not root")
    home = Path("/home") / GRADER
    subprocess.run(["userdel", "-r", GRADER], capture_output=True)   # what an interrupted run left
    subprocess.run(["useradd", "--system", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh", GRADER],
                   check=True, capture_output=True)
    made = Grader(home)
    try:
        copy_course(made.course)
        python = base_python(made)
        if python is None:
            pytest.skip(f"no Python {VERSION} that {GRADER} may run (ours is under {sys.base_prefix})")
        make_venv(made, python)
        subprocess.run(["chown", "-R", f"{GRADER}:", str(home)], check=True)
        yield made
    finally:
        for proc in processes_of(GRADER):
            with contextlib.suppress(psutil.Error):
                proc.kill()
        subprocess.run(["userdel", "-r", GRADER], capture_output=True)


def processes_of(user: str) -> list[psutil.Process]:
    """`user`'s processes that still run: a zombie whose threads have all ended waits only for its
    parent to read its status (the grader's ones, a moment after grade returns), and runs nothing."""
    uid = pwd.getpwnam(user).pw_uid
    return [p for p in psutil.process_iter(["uids", "status"]) if p.info["uids"] and uid in p.info["uids"]
            and processes.lingering(p)]


def outcomes(junit: Path) -> dict[str, str]:
    """test name -> passed, failed, error or skipped, from pytest's JUnit XML."""
    found = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[case.get("name")] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return found


def test_the_hostile_suite_holds_for_a_grader_without_root(grader):
    """Every hostile case gets its outcome, nothing lands in the grader's course, venv or home, and
    only what needs root is skipped."""
    junit = grader.home / "adversarial.xml"
    run = grader.run(str(grader.python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                     f"--basetemp={grader.home / 'pytest'}", f"--junitxml={junit}", "tests/test_adversarial.py",
                     timeout=1800)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    found = outcomes(junit)
    skipped = {name for name, outcome in found.items() if outcome == "skipped"}
    assert skipped <= ROOT_ONLY, run.stdout[-3000:]
    assert sum(outcome == "passed" for outcome in found.values()) >= 70
    assert not [str(path) for path in grader.home.rglob("*planted*")]
    assert not processes_of(GRADER), "a kernel's process outlived the run"
