"""The adversarial suite: every hostile or broken submission gets its score and its reason, the
batch goes on, and no other grade is touched (issue 3's threat model, on the toy course)."""
from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from nbgrader.preprocessors import ClearHiddenTests

from autograder import grading, guard, notebooks as nbs, records, variants
from autograder.sandbox import keyrings, layers, processes, view
from autograder.course import REPO, Course
from autograder.sandbox.policy import Policy
from autograder.nbgrader_api import gradebook_for

from hostile import CASES, GRADERS_KEY, OVER_CAP_NOTE, PLANTED, REFERENCE, RIGHT_MEAN, TEST_LIMITS, Case, Where, answer, hand_in
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("hostile")  # one worker grades the class once
LAYERS = layers.available_layers()
RUNNABLE = [case for case in CASES if case.runs_with(LAYERS)]
# Students with different scores: enough to show that the order of grading does not matter.
SMALL_CLASS = [c for c in CASES if c.name in ("sys-exit", "tests-reordered", "patch-numpy", "corrupt-json")]


def build_class(course: Course, out: Path, cases: list[Case]) -> None:
    """The reference and `cases` as handed in under `out`."""
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    nbs.write(solution, out / REFERENCE / TOY / f"{TOY}.ipynb")
    hand_in(cases, solution, Where(course.root, course.work, out), out)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, outside_file):
    root = tmp_path_factory.mktemp("hostile")
    course = make_toy_course(root)
    with (root / "nbgrader_config.py").open("a") as fh:
        fh.write(TEST_LIMITS)
    (course.data_dir / "given.csv").parent.mkdir(exist_ok=True)
    (course.data_dir / "given.csv").write_text("x\n1\n")
    build_class(course, root / "subs", RUNNABLE)
    with pytest.MonkeyPatch.context() as patch, graders_key():   # the uids drawn, for what may outlive a submission
        recording_uids(patch, DRAWN)
        rows = {r.student: r for r in grading.grade(course, TOY, root / "subs", jobs=2)}
    return course, rows


@contextlib.contextmanager
def graders_key():
    """A key in the grader's own user keyring while the class is graded (reads-the-graders-keys)."""
    if keyrings.SYS_KEYCTL is None:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    add_key = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    key = libc.syscall(add_key, b"user", GRADERS_KEY, b"s3cret", 6, ctypes.c_long(keyrings.USER_KEYRING))
    try:
        yield
    finally:
        libc.syscall(keyrings.SYS_KEYCTL, ctypes.c_long(keyrings.INVALIDATE), ctypes.c_long(key))


DRAWN: list[int] = []   # the submission uids hostile_run drew


def recording_uids(patch: pytest.MonkeyPatch, drawn: list[int]) -> list[int]:
    """`drawn`, which from now on gets every submission uid the grader draws."""
    draw = processes.submission_uid
    patch.setattr(processes, "submission_uid", lambda: drawn.append(draw()) or drawn[-1])
    return drawn


def test_no_connection_folder_outlives_its_submission(hostile_run):
    """Each kernel's connection folder (as root a tmpfs of the grader's, without root a folder in a
    private one) is gone after the run: even for the submissions whose worker was killed over its
    time (loop-ignores-sigint), and the one whose kernel locked folders in it and opened it to all
    (locks-its-connection-folder)."""
    if "user" in LAYERS:
        left = [str(folder) for folder in processes.KERNEL_ROOT.iterdir() if folder.lstat().st_uid in set(DRAWN)]
    else:
        left = [str(folder) for uid in DRAWN
                for folder in Path(tempfile.gettempdir()).glob(f"{processes.PRIVATE_PREFIX}{uid}-*")]
    assert DRAWN and not left


def test_the_suite_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission_gets_its_outcome(case, hostile_run):
    if case not in RUNNABLE:
        pytest.skip(f"needs one of the isolation layers {', '.join(case.needs)} "
                    f"({', '.join(layers.missing_layers(LAYERS))} missing here)")
    _, rows = hostile_run
    record = rows[case.name]
    assert (record.status, record.score) == (case.status, case.score), f"{record.seconds} s, {record.reason!r}"
    if case.status != "graded":
        assert record.reason, "a submission that was not graded must say why"
    assert record.reason != grading.GRADER_FAILED, "a notebook, however hostile, is not a fault of the grader"


def test_the_reference_submission_is_untouched(hostile_run):
    _, rows = hostile_run
    assert (rows[REFERENCE].status, rows[REFERENCE].score) == ("graded", 5)


def test_nothing_was_planted_outside(hostile_run):
    course, _ = hostile_run
    assert not [name for name in PLANTED if (course.work / name).exists()]
    import numpy
    targets = [Path(numpy.__file__).parent / "planted.py", REPO / "autograder" / "planted.py",
               course.data_dir / "planted.csv", course.root / "release" / "planted.py"]
    assert not [str(path) for path in targets if path.exists()]
    if "tmp" in LAYERS:
        assert not Path("/tmp/eds-planted").exists()


def test_what_a_kernel_wrote_is_not_kept(hostile_run):
    """The working copy keeps the graded notebook alone: nbgrader's feedback would copy the 256 MB
    the huge-file case wrote into that student's feedback folder."""
    if "huge-file" not in {c.name for c in RUNNABLE}:
        pytest.skip("the huge-file case needs the limits layer")
    course, _ = hostile_run
    folder = grading.grading_course(course).dir_of("autograded") / "huge-file" / TOY
    assert [p.name for p in folder.iterdir()] == [f"{TOY}.ipynb"]


def test_nbgraders_feedback_reads_every_graded_notebook(hostile_run):
    """nbgrader's feedback stops on a hidden-test delimiter in any cell but a test cell (and stops
    for the whole class): none may be left where a student wrote one."""
    course, rows = hostile_run
    folder = grading.grading_course(course).dir_of("autograded")
    for student in (s for s, r in rows.items() if r.status == "graded"):
        ClearHiddenTests().preprocess(nbs.read(folder / student / TOY / f"{TOY}.ipynb"), {})


def test_a_kernel_that_fills_its_disk_caps_is_told_why(hostile_run):
    """Its writes stopped at the caps (tmpfs in its view), its grade stands, its record says so; the
    reference, graded beside it, carries no such note."""
    if "disk-filler" not in {c.name for c in RUNNABLE}:
        pytest.skip("the disk caps are tmpfs in the kernel's view")
    _, rows = hostile_run
    for filler in ("disk-filler", "inode-filler"):   # bytes, then files
        assert [n for n in rows[filler].notes if n.startswith(OVER_CAP_NOTE)], rows[filler].notes
    assert not [n for n in rows[REFERENCE].notes if n.startswith(OVER_CAP_NOTE)]


def tampering_found(course, student: str) -> list[str]:
    """What the probe reported in one student's graded notebook (the instructor's copy)."""
    folder = grading.grading_course(course).dir_of("autograded") / student / TOY
    return [o["evalue"] for c in nbs.read(folder / f"{TOY}.ipynb").cells
            for o in c.get("metadata", {}).get("eds", {}).get("kernel_outputs", [])
            if o.get("ename") == "TamperingDetected"]


def test_replacements_under_a_library_file_name_are_found(hostile_run):
    """The probe judges by identity against its report from the kernel's start, held by the grader:
    code compiled under numpy's file name, a class planted in a fake module with that file, and
    faked trace getters are all named (issue 22: they passed as the library's)."""
    course, _ = hostile_run
    found = tampering_found(course, "tamper-under-a-library-file-name")
    assert found, "the probe found nothing"
    for what in ("builtins.sorted was replaced", "numpy.array_equal was replaced", "sys.getprofile was replaced",
                 "input or AST transformers, or event callbacks, were added by the notebook"):
        assert what in found[0], found[0]


def test_the_probe_compares_identities_with_the_start_and_judges_newcomers_by_their_code():
    """A watched name that is another object than at the start is replaced, whatever its code claims;
    one that was not there at the start (a module imported later) and every hook added since are
    judged by the probe's verdict on their code; without a report from the start, all are."""
    start = {"watched": {"builtins.sorted": [1, True], "numpy.allclose": [2, True]}, "hooks": [[10, True]],
             "traced": False}
    now = {"watched": {"builtins.sorted": [3, True], "numpy.allclose": [2, True],
                       "pandas.testing.assert_frame_equal": [4, False]},
           "hooks": [[10, True], [11, True], [12, False]], "traced": True}
    assert guard.findings(start, now) == [
        "builtins.sorted was replaced", "pandas.testing.assert_frame_equal was replaced",
        "a trace or profile function was set",
        "input or AST transformers, or event callbacks, were added by the notebook"]
    assert guard.findings(guard.NO_SNAPSHOT, {**now, "hooks": [[11, True]], "traced": False}) == [
        "pandas.testing.assert_frame_equal was replaced"]


def test_an_untampered_kernel_is_not_reported(hostile_run):
    """No false alarm: the reference and the cases that only read, write or compute have no finding
    (matplotlib's own hooks, numpy imported by the notebook, pandas' helpers are the library's)."""
    course, rows = hostile_run
    honest = [REFERENCE, "sys-exit", "tests-reordered", "reads-the-course-data", "huge-output"]
    assert {s: tampering_found(course, s) for s in honest if s in rows} == {s: [] for s in honest if s in rows}


def test_a_timestamp_that_is_not_a_date_is_a_note(hostile_run):
    _, rows = hostile_run
    assert "timestamp.txt is not a date: \"not a date'; DROP TABLE grade;--\"; graded as on time" in \
        rows["timestamp-not-a-date"].notes


def test_tampering_is_explained_in_the_graded_notebook(hostile_run):
    """The probe's finding stays in the instructor's copy (the judge keeps a test cell's own outputs
    in its metadata); no score depends on it."""
    course, rows = hostile_run
    folder = grading.grading_course(course).dir_of("autograded") / "patch-builtins-right-answers" / TOY
    errors = [o for c in nbs.read(folder / f"{TOY}.ipynb").cells
              for o in c.get("metadata", {}).get("eds", {}).get("kernel_outputs", [])
              if o.get("ename") == "TamperingDetected"]
    assert errors and "builtins.abs was replaced" in errors[0]["evalue"]


def test_every_log_lists_the_isolation_layers(hostile_run):
    course, rows = hostile_run
    work = grading.grading_course(course)
    for student in rows:
        log = records.log_path(work, TOY, student).read_text()
        for layer in layers.expected_layers():
            assert f"isolation {layer}: " in log or f"isolation MISSING {layer}: " in log, (student, layer)
        assert ("MISSING" in log) == bool(layers.missing_layers(LAYERS))
        if "view" in LAYERS:  # what the kernel's root holds, the course's data among it
            assert str(course.data_dir) in log.split("isolation view: ")[1].splitlines()[0], student


@pytest.mark.skipif("view" not in LAYERS, reason="no view here: the log names no data folder")
def test_the_log_names_the_data_the_kernel_has_mounted_for_a_variant_assignment():
    """For an assignment with variants the kernel mounts its student's variant of the data, not data/
    (issue 22: the log named data/); grade_one and GuardedExecute take it from guard.student_policy."""
    course = grading.grading_course(Course())
    assignment = "01-regression"
    student = next(s for s in (f"student{i}" for i in range(100)) if variants.of_student(course, assignment, s))
    policy = guard.student_policy(course, Policy.of(course), assignment, student)
    assert policy.data_dir != course.data_dir
    line = next(text for text in layers.describe_layers(policy) if text.startswith("isolation view: "))
    mounted = [part.split(" (")[0] for part in line.split(", ")]
    assert str(policy.data_dir) in mounted and str(course.data_dir) not in mounted, line


def test_parallel_grading_gives_the_sequential_gradebook(tmp_path):
    """Same class, --jobs 1 and --jobs 2: the same scores, cell by cell."""
    results = []
    for jobs in (1, 2):
        root = tmp_path / f"jobs{jobs}"
        course = make_toy_course(root)
        build_class(course, root / "subs", SMALL_CLASS)
        grading.grade(course, TOY, root / "subs", jobs=jobs)
        with gradebook_for(grading.grading_course(course)) as gb:
            results.append(sorted((g.student.id, g.name, g.score) for a in gb.assignments for s in a.submissions
                                  for n in s.notebooks for g in n.grades
                                  for _ in [setattr(g, "student", s.student)] ))
    assert results[0] == results[1]


# Right only in the environment `grade` gives every kernel: where the data is, one BLAS thread.
SEES_GRADING_ENVIRONMENT = Case("sees-the-grading-environment", answer(
    "answer_mean", "import os\nimport numpy as np\ndef mean_of(values):\n"
    "    if 'EDS_DATA_DIR' in os.environ and os.environ.get('OMP_NUM_THREADS') == '1':\n"
    "        return float(np.mean(values))\n    return -1.0\n"), "graded", 5)
NBGRADER_PATH = [c for c in CASES if c.name in ("read-source", "read-gradebook")] + [SEES_GRADING_ENVIRONMENT]


@pytest.fixture
def course_where_courses_live():
    """A toy course outside /tmp (which the tmp layer empties for the kernel anyway), in a folder
    anyone may cross, as a real course: then only the sandbox keeps its secrets."""
    (REPO / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=REPO / "var", prefix="test-course-"))
    try:  # removed also when the course cannot be built or the test is skipped
        os.chmod(folder, 0o755)
        course = make_toy_course(folder / "course")
        if "user" in LAYERS and subprocess.run(["setpriv", f"--reuid={processes.job_uid(0)}", "--clear-groups",
                                                "test", "-r", str(course.source_dir)]).returncode:
            pytest.skip(f"other users cannot reach {folder} here: its modes alone would keep a kernel out")
        yield course
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(not NBGRADER_PATH[0].runs_with(LAYERS), reason=f"no layer hides the course's secrets here "
                    f"({', '.join(layers.missing_layers(LAYERS))} missing)")
def test_nbgraders_own_autograde_hides_the_secrets_too(course_where_courses_live):
    """A TA who presses the formgrader's Autograde runs nbgrader's path, not `grade`: the kernel is
    kept from the hidden tests and the gradebook all the same, and finds the course's data."""
    course = course_where_courses_live
    hand_in(NBGRADER_PATH, nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb"),
            Where(course.root, course.work, course.dir_of("submitted")), course.dir_of("submitted"))
    set_by_grade = ("EDS_DATA_DIR", "OMP_NUM_THREADS")  # by this process, or by a shell
    env = {k: v for k, v in os.environ.items() if k not in set_by_grade}
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", TOY], cwd=course.root, check=True,
                   capture_output=True, env={**env, "PYTHONPATH": str(REPO)})
    with gradebook_for(course) as gb:
        scores = {case.name: gb.find_submission(TOY, case.name).score for case in NBGRADER_PATH}
    assert scores == {case.name: case.score for case in NBGRADER_PATH}


# A process that leaves its thread-group leader a zombie while a thread of it runs on, then waits for
# the next student's kernel to read or kill it.
EXIT_LEADER_ONLY = {"x86_64": 60, "aarch64": 93}.get(os.uname().machine)   # SYS_exit, not exit_group
LINGERER = Case("zombie-leader-lingers", answer("answer_mean", (
    "import ctypes, os, signal, threading, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    def prey():\n"
    "        while True:\n"
    "            for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "                try:\n"
    "                    if os.stat(f'/proc/{pid}').st_uid != os.getuid():\n"
    "                        os.kill(int(pid), signal.SIGKILL)\n"
    "                except OSError:\n"
    "                    pass\n"
    "            time.sleep(0.05)\n"
    "    threading.Thread(target=prey).start()\n"
    f"    ctypes.CDLL(None).syscall({EXIT_LEADER_ONLY}, 0)\n") + RIGHT_MEAN), "graded", 5)
NEXT = "zzz-next-student"


def left_by(uids: set[int]) -> list[int]:
    """Processes, zombie leaders with a live thread included, still running under one of `uids`."""
    return [proc.pid for proc in psutil.process_iter(["uids", "status"])
            if proc.info["uids"] and proc.info["uids"].real in uids and processes.lingering(proc)]


@pytest.mark.skipif("user" not in LAYERS or EXIT_LEADER_ONLY is None,
                    reason="kernels have no uid of their own here (not root), or no known exit syscall")
def test_a_zombie_leaders_thread_neither_outlives_grading_nor_reaches_the_next_student(tmp_path, monkeypatch):
    """The next student, graded after it in the same run, gets full marks; nothing of the first
    student's uid remains once grade returns."""
    drawn = recording_uids(monkeypatch, [])
    course = make_toy_course(tmp_path / "course")
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    hand_in([LINGERER], solution, Where(course.root, course.work, tmp_path / "subs"), tmp_path / "subs")
    nbs.write(solution, tmp_path / "subs" / NEXT / TOY / f"{TOY}.ipynb")
    rows = {r.student: r for r in grading.grade(course, TOY, tmp_path / "subs", jobs=1)}
    assert (rows[LINGERER.name].status, rows[LINGERER.name].score) == ("graded", 5), rows[LINGERER.name].reason
    assert (rows[NEXT].status, rows[NEXT].score) == ("graded", 5), rows[NEXT].reason
    assert len(drawn) == 2 and not left_by(set(drawn))


# A key planted in every keyring a kernel reaches (issue 22: keyrings were left per uid, and the
# grader's session keyring was every kernel's), and a next student whose answer is right only if it
# finds none of them.
KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(os.uname().machine)   # add_key, keyctl
KEY_PRELUDE = (f"import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nADD_KEY, KEYCTL = {KEYCTL}\n"
               "RINGS = (-3, -4, -5)   # session, user, user session\n")
KEY_PLANTER = Case("keyring-planter", answer("answer_mean", KEY_PRELUDE + (
    "for ring in RINGS:\n"
    "    libc.syscall(ADD_KEY, b'user', b'eds-planted', b'x' * 100, 100, ctypes.c_long(ring))\n"
    "persistent = libc.syscall(KEYCTL, ctypes.c_long(22), ctypes.c_long(-1), ctypes.c_long(-3))\n"
    "libc.syscall(ADD_KEY, b'user', b'eds-planted', b'x', 1, ctypes.c_long(persistent))\n") + RIGHT_MEAN),
    "graded", 5)
KEY_SEEKER = Case("zzz-keyring-seeker", answer("answer_mean", KEY_PRELUDE + (
    "import numpy as np\ndef mean_of(values):\n"
    "    found = [libc.syscall(KEYCTL, ctypes.c_long(10), ctypes.c_long(ring), b'user', b'eds-planted', "
    "ctypes.c_long(0)) for ring in RINGS]\n"
    "    return float(np.mean(values)) if all(key < 0 for key in found) else -1.0\n")), "graded", 5)


@pytest.mark.skipif(KEYCTL is None, reason="no keyctl syscall numbers for this machine")
def test_keyrings_neither_reach_the_next_student_nor_outlive_the_submission(tmp_path, monkeypatch):
    """The next student's kernel finds none of the keys; once grade returns, no submission uid holds a
    key (/proc/key-users) and the grader's own keyrings hold none of them (/proc/keys)."""
    drawn = recording_uids(monkeypatch, [])
    course = make_toy_course(tmp_path / "course")
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    hand_in([KEY_PLANTER, KEY_SEEKER], solution, Where(course.root, course.work, tmp_path / "subs"), tmp_path / "subs")
    before = Path("/proc/keys").read_text().count("eds-planted")
    rows = {r.student: r for r in grading.grade(course, TOY, tmp_path / "subs", jobs=1)}
    for case in (KEY_PLANTER, KEY_SEEKER):
        assert (rows[case.name].status, rows[case.name].score) == ("graded", 5), rows[case.name].reason
    def planted_keys() -> tuple[set[int], int]:
        return set(drawn) & set(keyrings.holders()), Path("/proc/keys").read_text().count("eds-planted")

    for _ in range(100):   # the kernel frees invalidated keys, and a user namespace's keyrings, a moment later
        if planted_keys() == (set(), before):
            break
        time.sleep(0.1)
    assert planted_keys() == (set(), before)


@pytest.fixture
def nobodys_home():
    """A kernel home as the non-root path makes it (in /tmp, which any user may cross), owned by nobody."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root to run the check as another user (runuser)")
    home = Path(tempfile.mkdtemp(prefix="eds-kernel-"))
    try:
        os.chown(home, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
        yield home
    finally:
        shutil.rmtree(home)


def test_the_view_holds_only_what_the_kernel_needs_without_root(nobodys_home, monkeypatch, outside_file):
    """The non-root path (unprivileged user namespaces, as in the grading image), run by a user
    this machine has: what is outside its view is not there, what is inside is read-only but for
    its home and tmp. The kernel's Python is left out (it may sit where that user cannot reach):
    the shell and coreutils of /usr do the looking."""
    nobody = pwd.getpwnam("nobody")
    if subprocess.run(["runuser", "-u", "nobody", "--", "unshare", "--user", "--map-root-user", "true"],
                      capture_output=True).returncode:
        pytest.skip("no unprivileged user namespaces for other users here")
    home = nobodys_home
    capped = home / "capped"   # as the kernel's home and working copy: a tmpfs of 1 MiB, its contents copied
    capped.mkdir()
    (capped / "given.txt").write_text("given")
    for path in (capped, capped / "given.txt"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    monkeypatch.setattr(os, "getuid", lambda: nobody.pw_uid)
    monkeypatch.setattr(os, "getgid", lambda: nobody.pw_gid)
    built = view.View(readonly=(), writable=(str(home),), home=str(home), workdir=str(home),
                      capped=((str(capped), 1024**2),), tmp_bytes=1024**2)
    checks = (f"! ls /home; ! cat {outside_file}; ! ls {REPO}; ! touch /usr/planted; ! touch /planted; "
              f"touch {home}/written && touch /tmp/written && ls /proc/1 >/dev/null && "
              f"grep -q given {capped}/given.txt && touch {capped}/written && "
              f"! head -c 3000000 /dev/zero > {capped}/big && ! head -c 3000000 /dev/zero > /tmp/big && id -u")
    run = subprocess.run(["runuser", "-u", "nobody", "--", *built.command(["sh", "-c", checks], pids=True, limits=[],
                                                                         as_root=False)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == str(nobody.pw_uid) and (home / "written").exists()
    assert not (capped / "written").exists() and not (capped / "big").exists()  # the kernel's writes stay in its tmpfs
