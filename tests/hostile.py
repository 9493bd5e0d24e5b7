"""Hostile and broken submissions of the toy assignment, each with the outcome the grader owes it.

The toy has two autograded parts: `double` (test_double, 3 points) and `mean_of` (test_mean,
2 points). Each case rewrites the reference submission (`aaa-reference`, handed in beside them) and
is owed (status, autograded score), provided one of the isolation layers it `needs` is in force
(else the test skips and says which).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from autograder import notebooks as nbs
from autograder.course import REPO

from toycourse import TOY

RIGHT_DOUBLE = "def double(x):\n    return 2 * np.asarray(x)\n"
RIGHT_MEAN = "def mean_of(values):\n    return float(np.mean(values))\n"
WRONG_BOTH = "def double(x):\n    return x\n\ndef mean_of(values):\n    return 0.0\n"
REFERENCE = "aaa-reference"
OUTSIDE_FILE = Path("/srv/staging/other.ipynb")  # world-readable, outside every course (made by the suite)
PLANTED = ("planted.py", "planted-by-link")  # what the cases try to leave in the working folder
SECRETS = ("user", "view")  # the layers that keep the grader's files from the kernel
# The limits the suite grades with (appended to the course's nbgrader_config.py): short enough for
# the time cases, small enough for the oversized one.
TEST_LIMITS = """
c.Execute.timeout = 10
c.GradingLimits.notebook_seconds = 150
c.GradingLimits.submission_bytes = 2 * 1024**2
c.GradingLimits.workcopy_bytes = 64 * 1024**2
c.GradingLimits.home_bytes = 32 * 1024**2
c.GradingLimits.tmp_bytes = 32 * 1024**2
"""
# The note the record of a kernel that wrote past its caps carries (disk-filler).
OVER_CAP_NOTE = "the notebook wrote more than it may"


@dataclass(frozen=True)
class Where:
    """Where the grader keeps what a hostile kernel goes after."""
    root: Path  # the course (source/ under it)
    work: Path  # the working folder (gradebook, submitted/)
    subs: Path  # the submissions folder as handed in
    repo: Path = REPO  # the grader's own code (autograder/)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable  # (solution notebook, Where) -> notebook, or raw bytes for a broken file
    status: str
    score: float
    needs: tuple[str, ...] = ()  # isolation layers, any of which this outcome relies on
    plant: Callable | None = None  # (submission folder, Where) -> None: links and special files beside it

    def runs_with(self, layers) -> bool:
        """Whether the outcome is owed where `layers` are in force."""
        return not self.needs or bool(set(self.needs) & set(layers))


def answer(gid: str, source: str):
    """Replace one answer cell of the solution ({root}, {work}, {subs} stand for the Where)."""
    def make(nb, where: Where):
        nb = nbformat.from_dict(nb)
        placed = source
        for key in ("root", "work", "subs", "repo"):
            placed = placed.replace("{" + key + "}", str(getattr(where, key)))
        nbs.cells_by_id(nb)[gid].source = placed
        return nb
    return make


def hand_in(cases: list[Case], solution, where: Where, folder: Path) -> None:
    """Each case as its student hands it in under `folder` (which the grader will see as where.subs)."""
    for case in cases:
        made = case.make(solution, where)
        path = folder / case.name / TOY / f"{TOY}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(made) if isinstance(made, bytes) else nbs.write(made, path)
        if case.plant:
            case.plant(path.parent, where)


EVADE_PROBE = """
import builtins, sys, types, numpy
from IPython import get_ipython
LIBRARY_NAME = numpy.__file__.replace('__init__.py', 'core/numeric.py')
def library_looking(source, name, ns):
    exec(compile(source, LIBRARY_NAME, 'exec'), ns)
    return ns[name]
ns = {'sorted': builtins.sorted}
builtins.sorted = library_looking('def sorted(*a, **k):\\n    return ns_sorted(*a, **k)\\n', 'sorted', {'ns_sorted': sorted})
numpy.array_equal = library_looking('def array_equal(*a, **k):\\n    return True\\n', 'array_equal', ns)
fake = types.ModuleType('numpy_fake')
fake.__file__ = LIBRARY_NAME
sys.modules['numpy_fake'] = fake
exec(compile('class T:\\n    def __call__(self, lines):\\n        return lines\\n', LIBRARY_NAME, 'exec'), fake.__dict__)
fake.T.__module__ = 'numpy_fake'
get_ipython().input_transformers_post.append(fake.T())
sys.setprofile(library_looking('def profile(*a):\\n    return None\\n', 'profile', ns))
sys.getprofile = library_looking('def getprofile():\\n    return None\\n', 'getprofile', ns)
"""


GRADERS_KEY = b"eds-grader-secret"   # put in the grader's own user keyring by the suite
LOCK_CONNECTION_FOLDER = """import ipykernel, os, shutil, sys
folder = os.path.dirname(ipykernel.get_connection_file())
try:
    os.makedirs(os.path.join(folder, 'locked', 'sub'))
    open(os.path.join(folder, 'locked', 'sub', 'f'), 'w').write('x')
    os.chmod(os.path.join(folder, 'locked', 'sub'), 0o500)
    os.chmod(os.path.join(folder, 'locked'), 0)
    shutil.copy(os.path.realpath(sys.executable), os.path.join(folder, 'py'))
    os.chmod(os.path.join(folder, 'py'), 0o4755)
    here = os.getcwd()
    os.mkdir(os.path.join(folder, 'deep'))
    os.chdir(os.path.join(folder, 'deep'))
    for _ in range(3000):   # deeper than Python's recursion limit: a recursive removal fails
        os.mkdir('d')
        os.chdir('d')
    os.chdir(here)
    os.chmod(folder, 0o755)
except OSError:
    pass
"""
# Link every keyring /proc/keys shows into the session keyring (which makes their keys possessed),
# then read the grader's key by its serial number.
READ_GRADERS_KEYS = f"""import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
KEYCTL = {{'x86_64': 250, 'aarch64': 219}}[os.uname().machine]
lines = [line.split() for line in open('/proc/keys').read().splitlines()]
for fields in lines:
    if fields[7] == 'keyring':
        libc.syscall(KEYCTL, 8, int(fields[0], 16), -3)
buf = ctypes.create_string_buffer(256)
if not any(libc.syscall(KEYCTL, 11, int(fields[0], 16), buf, 256) > 0
           for fields in lines if {GRADERS_KEY.decode()!r} in ' '.join(fields)):
    raise OSError('no key of the grader read')"""


def mean_if_blocked(action: str):
    """mean_of is right only if `action` (reading, writing, connecting) raises OSError."""
    return answer("answer_mean", "import numpy as np\ndef mean_of(values):\n    try:\n"
                  + "".join(f"        {line}\n" for line in action.splitlines())
                  + "        return -1.0\n    except OSError:\n        return float(np.mean(values))\n")


def edit(transform):
    """The solution changed by `transform`, or what `transform` returns instead (raw bytes)."""
    def make(nb, where):
        nb = nbformat.from_dict(nb)
        made = transform(nb, where)
        return nb if made is None else made
    return make


def tamper(patch: str):
    """Wrong answers, plus a patch in the first code cell that would make the tests pass."""
    def transform(nb, where):
        nb.cells[1].source += "\n" + patch
        nbs.cells_by_id(nb)["answer_double"].source = "def double(x):\n    return x\n"
        nbs.cells_by_id(nb)["answer_mean"].source = "def mean_of(values):\n    return float(np.sum(values))\n"
    return edit(transform)


def _reorder(nb, where):
    cells = nbs.cells_by_id(nb)
    nb.cells.remove(cells["test_mean"])
    nb.cells.insert(1, cells["test_mean"])


def _tests_edited_answers_wrong(nb, where):
    cells = nbs.cells_by_id(nb)
    cells["test_double"].source, cells["test_mean"].source = "pass", "assert True"
    cells["answer_double"].source, cells["answer_mean"].source = WRONG_BOTH, "pass"


def _cell_type_changed(nb, where):
    cells = nbs.cells_by_id(nb)
    cells["test_mean"].cell_type = "markdown"
    cells["test_mean"].pop("outputs"), cells["test_mean"].pop("execution_count")
    cells["answer_mean"].source = "def mean_of(values):\n    return 0.0\n"


def _injected(nb, where):
    bonus = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100, "grade_id": "bonus",
        "schema_version": 3}})
    copy = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": dict(nbs.meta(nb.cells[3]))})
    nb.cells += [bonus, copy]
    for cell in nb.cells:
        cell.pop("id", None)


def _prefilled(nb, where):
    cells = nbs.cells_by_id(nb)
    cells["answer_double"].source, cells["answer_mean"].source = "def double(x):\n    return x\n", "pass"
    for gid in ("test_double", "test_mean"):
        cells[gid].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3"}, execution_count=1)]


def _oversized(nb, where):
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * 3_000_000))


AS_HANDED_OUT = edit(lambda nb, where: None)  # the solution itself, for cases that only plant beside it


def _notebook_links_to_the_solution(folder, where):
    (folder / f"{TOY}.ipynb").unlink()
    (folder / f"{TOY}.ipynb").symlink_to(where.root / "solutions" / TOY / f"{TOY}.ipynb")


def _folder_links_to_the_solutions(folder, where):
    shutil.rmtree(folder)
    folder.symlink_to(where.root / "solutions" / TOY)


def _notebook_is_a_fifo(folder, where):
    (folder / f"{TOY}.ipynb").unlink()
    os.mkfifo(folder / f"{TOY}.ipynb")


def _links_and_a_fifo_beside(folder, where):
    (folder / "mem").symlink_to("/proc/self/mem")
    (folder / "timestamp.txt").symlink_to("/proc/self/mem")
    os.mkfifo(folder / "pipe")


def _a_timestamp_that_is_no_date(folder, where):
    (folder / "timestamp.txt").write_text("not a date'; DROP TABLE grade;--")


def _answer_given_grade_metadata(nb, where):
    nbs.cells_by_id(nb)["answer_double"].metadata.nbgrader.update(grade=True, points=30)


def _grading_metadata_not_an_object(nb, where):
    nbs.cells_by_id(nb)["answer_mean"].metadata.nbgrader = "points: 100"


def _duplicate_cell_ids(nb, where):
    """Raw JSON: nbformat would renumber the ids on writing."""
    nb.nbformat_minor = 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = "same" if nbs.grade_id(cell) in ("answer_double", "answer_mean") else f"cell-{i}"
    return json.dumps(nb).encode()


def _kernelspec_that_does_not_exist(nb, where):
    nb.metadata.kernelspec = {"name": "no-such-kernel", "display_name": "Nope", "language": "python"}


def _hidden_tests_marker_in_written_answer(nb, where):
    nbs.cells_by_id(nb)["q_outliers"].source = "Outliers ### BEGIN HIDDEN TESTS (and no end)"


def _nbformat3(nb, where):
    return b'{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}'


def _filler(name: str, write_one: str, folders: str) -> Case:
    """A kernel that repeats `write_one` (a statement of `folder` and `i`) in each of `folders` until
    a write fails, prints why, and answers right: owed its points, and a note on its record."""
    code = ("import os\ndef fill(folder):\n    try:\n        for i in range(200000):\n"
            f"            {write_one}\n    except OSError as e:\n        return (i, str(e))\n"
            f"print([fill(folder) for folder in ({folders})])\n")
    return Case(name, answer("answer_mean", code + RIGHT_MEAN), "graded", 5, needs=("view",))


CASES = [
    # time
    Case("loop-interruptible", answer("answer_mean", "while True:\n    pass"), "graded", 3),
    Case("loop-ignores-sigint", answer("answer_mean", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                       "while True:\n    pass"), "failed", 0),
    Case("sleep-in-tested-function", answer("answer_double", "import time\ndef double(x):\n    time.sleep(600)"),
         "graded", 2),
    # crashes
    Case("os-exit", answer("answer_mean", "import os\nos._exit(3)"), "failed", 0),
    Case("sys-exit", answer("answer_mean", "import sys\nsys.exit(3)"), "graded", 3),
    Case("segfault", answer("answer_mean", "import ctypes\nctypes.string_at(0)"), "failed", 0),
    Case("memory-hog", answer("answer_mean", "hog = bytearray(8 * 1024**3)\n" + RIGHT_MEAN), "graded", 3,
         needs=("limits",)),
    Case("fork-bomb", answer("answer_mean", "import os, time\nfor _ in range(100000):\n    try:\n"
                             "        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)\n"
                             "    except OSError:\n        break\n" + RIGHT_MEAN), "graded", 5, needs=("limits",)),
    # the outside world
    Case("network", answer("answer_mean", "import errno, socket\ndef mean_of(values):\n    try:\n"
                           "        socket.create_connection(('127.0.0.1', 9), timeout=2)\n    except OSError as e:\n"
                           "        if e.errno == errno.ENETUNREACH:\n            return float(np.mean(values))\n"
                           "    return -1.0\n"), "graded", 5, needs=("network",)),
    Case("read-source", mean_if_blocked("open('{root}/source/99-toy/99-toy.ipynb').read()"), "graded", 5,
         needs=SECRETS),
    Case("read-gradebook", mean_if_blocked("open('{work}/gradebook.db', 'rb').read()"), "graded", 5,
         needs=SECRETS),
    Case("read-other-student", mean_if_blocked("open('{work}/submitted/aaa-reference/99-toy/99-toy.ipynb').read()"),
         "graded", 5, needs=SECRETS),
    Case("read-other-inbox", mean_if_blocked("open('{subs}/aaa-reference/99-toy/99-toy.ipynb').read()"),
         "graded", 5, needs=("tmp", "view")),
    Case("read-through-proc", answer("answer_mean", "import os\ndef mean_of(values):\n"
         "    for pid in filter(str.isdigit, os.listdir('/proc')):\n        try:\n"
         "            open(f'/proc/{pid}/root{root}/source/99-toy/99-toy.ipynb').read()\n"
         "            return -1.0\n        except OSError:\n            pass\n"
         "    return float(np.mean(values))\n"), "graded", 5, needs=SECRETS),
    Case("signal-other-processes", answer("answer_mean", "import os\ndef mean_of(values):\n"
         "    for pid in filter(str.isdigit, os.listdir('/proc')):\n        try:\n"
         "            if int(pid) != os.getpid():\n                os.kill(int(pid), 0)\n"
         "                return -1.0\n        except OSError:\n            pass\n"
         "    return float(np.mean(values))\n"), "graded", 5, needs=("user", "pids")),
    Case("write-outside", mean_if_blocked("open('{work}/planted.py', 'w').write('x')"), "graded", 5,
         needs=SECRETS),
    Case("notebook-swapped-for-a-link", answer("answer_mean", "import os\nos.remove('99-toy.ipynb')\n"
         "os.symlink('{work}/planted-by-link', '99-toy.ipynb')\n" + RIGHT_MEAN), "graded", 5),
    Case("write-tmp", mean_if_blocked("open('/tmp/eds-planted', 'w').write('x')\nraise OSError('tmp is private')"),
         "graded", 5, needs=("tmp",)),
    # the kernel's view: only its Python, the course's data, its working copy, home and tmp (issue 22)
    Case("write-into-the-venv", mean_if_blocked("import numpy, os\n"
         "open(os.path.join(os.path.dirname(numpy.__file__), 'planted.py'), 'w').write('x')"), "graded", 5,
         needs=SECRETS),
    Case("write-into-the-grader-code", mean_if_blocked("open('{repo}/autograder/planted.py', 'w').write('x')"),
         "graded", 5, needs=SECRETS),
    Case("write-into-data", mean_if_blocked("import os\n"
         "open(os.path.join(os.environ['EDS_DATA_DIR'], 'planted.csv'), 'w').write('x')"), "graded", 5,
         needs=SECRETS),
    Case("write-into-release", mean_if_blocked("open('{root}/release/planted.py', 'w').write('x')"), "graded", 5,
         needs=SECRETS),
    Case("walk-up-from-the-working-copy", mean_if_blocked("open('../../../gradebook.db', 'rb').read()"), "graded", 5,
         needs=SECRETS),
    # the red team's, as a grader without root (issue 22): a connection folder locked and opened to
    # all with a set-uid Python in it, and the grader's own keyrings reached by serial number
    Case("locks-its-connection-folder", answer("answer_mean", LOCK_CONNECTION_FOLDER + RIGHT_MEAN), "graded", 5),
    Case("reads-the-graders-keys", mean_if_blocked(READ_GRADERS_KEYS), "graded", 5, needs=("syscalls", "user")),
    # /home holds at most the way to the kernel's own Python (a grader's venv in its home)
    Case("list-home", mean_if_blocked("import os, sys\nown = {p.split('/')[2] for p in (sys.prefix,) if p.startswith('/home/')}\n"
                                      "if not set(os.listdir('/home')) - own:\n    raise OSError('no other home')"),
         "graded", 5, needs=("view",)),
    Case("read-outside-the-course", mean_if_blocked(f"open('{OUTSIDE_FILE}').read()"), "graded", 5,
         needs=("view",)),
    Case("reads-the-course-data", answer("answer_mean", "import os\nimport numpy as np\ndef mean_of(values):\n"
         "    os.listdir(os.environ['EDS_DATA_DIR'])\n    return float(np.mean(values))\n"), "graded", 5),
    Case("huge-output", answer("answer_mean", "for _ in range(200):\n    print('x' * 100_000)\n" + RIGHT_MEAN),
         "graded", 5),
    Case("huge-file", mean_if_blocked("open('big.bin', 'wb').write(bytes(400 * 1024**2))"), "graded", 5,
         needs=("limits",)),
    # 18 GiB into home and working copy once (issue 22): now each stops at its tmpfs's cap, the
    # grade stands and the record says why the writes failed
    _filler("disk-filler", "open(os.path.join(folder, f'fill{i}.bin'), 'wb').write(b'z' * 2**24)",
            "os.path.expanduser('~'), '.', '/tmp'"),
    # empty files by the million once (a tmpfs's default inode count): each tmpfs caps its files too
    _filler("inode-filler", "open(os.path.join(folder, f'e{i}'), 'w').close()", "os.path.expanduser('~'), '/tmp'"),
    # 40 MiB written to the kernel's own stdout, past ipykernel's capture: it once filled the file the
    # kernel's output went to, and the kernel blocked on its next write until the time limit
    Case("fd-flood", answer("answer_mean", "import os\nfor _ in range(40):\n    os.write(1, b'x' * 2**20)\n"
                            + RIGHT_MEAN), "graded", 5),
    # files
    Case("corrupt-json", lambda nb, where: b"{ not json", "rejected", 0),
    Case("nbformat-3", _nbformat3, "rejected", 0),
    Case("not-a-notebook-schema", lambda nb, where: b'{"nbformat": 4, "nbformat_minor": 4, "cells": 7}',
         "rejected", 0),
    Case("oversized", edit(_oversized), "rejected", 0),
    # cells
    Case("tests-edited-answers-wrong", edit(_tests_edited_answers_wrong), "graded", 0),
    Case("test-cell-type-changed", edit(_cell_type_changed), "graded", 3),
    Case("tests-reordered", edit(_reorder), "graded", 5),
    Case("injected-grade-cells", edit(_injected), "graded", 5),
    Case("prefilled-outputs", edit(_prefilled), "graded", 0),
    # tampering
    Case("patch-numpy", tamper("np.array_equal = lambda *a, **k: True"), "graded", 0),
    # right answers: the probe reports the patch to the instructor, and the judge scores the answers
    Case("patch-builtins-right-answers", edit(lambda nb, where: nb.cells[1].__setitem__(
        "source", nb.cells[1].source + "\nimport builtins\nbuiltins.abs = lambda x: 0")), "graded", 5),
    Case("patch-numpy-testing", tamper("import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
                                       "np.array_equal = lambda *a, **k: True"), "graded", 0),
    Case("patch-traceback-display", tamper("get_ipython().showtraceback = lambda *a, **k: None"), "graded", 0),
    Case("input-transformer-empties-tests", tamper(
        "get_ipython().input_transformers_cleanup.append(lambda lines: [] if 'HIDDEN' in ''.join(lines) or "
        "'assert' in ''.join(lines) else lines)"), "graded", 0),
    Case("reads-hidden-tests-from-history", answer("answer_mean", "def mean_of(values):\n"
         "    import re\n    seen = ' '.join(get_ipython().user_ns.get('_ih', [])[-2:])\n"
         "    found = re.findall(r'== ([0-9.]+)', seen)\n    return float(found[-1]) if found else 0.0\n"),
         "graded", 3),
    Case("hook-reads-hidden-tests", tamper("get_ipython().events.register('pre_run_cell', lambda info: None)"),
         "graded", 0),
    # replacements compiled under an installed file's name, and sys's trace getters faked to hide a
    # profile function: the probe once judged by that name and saw nothing (issue 22)
    Case("tamper-under-a-library-file-name", tamper(EVADE_PROBE), "graded", 0),
    # links and special files, read as root (issue 22)
    Case("notebook-links-to-the-solution", AS_HANDED_OUT, "rejected", 0,
         plant=_notebook_links_to_the_solution),
    Case("folder-links-to-the-solutions", AS_HANDED_OUT, "rejected", 0,
         plant=_folder_links_to_the_solutions),
    Case("notebook-is-a-fifo", AS_HANDED_OUT, "rejected", 0, plant=_notebook_is_a_fifo),
    Case("links-to-proc-self-mem-beside", AS_HANDED_OUT, "graded", 5,
         plant=_links_and_a_fifo_beside),
    # what nbgrader itself trips on (issue 22)
    Case("answer-given-grade-metadata", edit(_answer_given_grade_metadata), "graded", 5),
    Case("grading-metadata-not-an-object", edit(_grading_metadata_not_an_object), "graded", 5),
    Case("hidden-tests-marker-in-a-comment", answer("answer_mean", "# ### BEGIN HIDDEN TESTS\n" + RIGHT_MEAN),
         "graded", 5),
    Case("hidden-tests-marker-in-a-string", answer("answer_mean", RIGHT_MEAN + "NOTE = '### END HIDDEN TESTS'\n"),
         "rejected", 0),
    Case("hidden-tests-marker-in-written-answer", edit(_hidden_tests_marker_in_written_answer), "graded", 5),
    Case("solution-markers-in-an-answer", answer("answer_mean", "### BEGIN SOLUTION\n" + RIGHT_MEAN
                                                 + "### END SOLUTION\n"), "graded", 5),
    Case("duplicate-cell-ids", edit(_duplicate_cell_ids), "graded", 5),
    Case("kernelspec-that-does-not-exist", edit(_kernelspec_that_does_not_exist), "graded", 5),
    # nbgrader's own error on it was the reason once (issue 22): now a note, and graded as on time
    Case("timestamp-not-a-date", AS_HANDED_OUT, "graded", 5, plant=_a_timestamp_that_is_no_date),
]
