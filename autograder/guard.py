"""Executing a submission so that the student's code cannot talk its way past the tests.

The tests run in the student's own kernel, so whatever the student's code changed is still in
force when a test runs. Before every test cell the grader asks the kernel, out of band (a silent
request answered through `user_expressions`), whether anything that decides a test's outcome was
replaced: builtins, `sys`'s trace functions, NumPy's and pandas' comparison helpers, IPython's
traceback display, input or AST transformers (which could read or rewrite the hidden tests), event
hooks, trace functions (kernel_probe.py). The first report is taken as the kernel starts, before any
of the student's code, and kept here, outside the kernel: later ones are compared with it by the
identity of each object, so a replacement is found whatever file name its code claims. A test cell
run after such a change gets an error output naming what was replaced, and the reason is in the
feedback. Test cells run without history, so `In`/`_ih` never hold hidden-test source.

What the check can claim: that none of the watched objects is another than at the kernel's start,
and that no hook was added but the installed libraries' own. It runs in the student's kernel, so code
that replaces what the probe itself uses (exec, the kernel's messaging) could still make it answer
falsely; no grade rests on it (the judge decides outside the kernel), which is why the kernel also
runs in the sandbox, and why the README states that limit.
"""
from __future__ import annotations

import ast
import contextlib
from pathlib import Path

from nbformat import NotebookNode
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from nbgrader.utils import setenv
from traitlets import Bool, Instance

from . import variants
from .course import Course
from .emitter import InstallsEmitter
from .notebooks import is_test, output_text
from .parts import cell_labels
from .sandbox import workcopy
from .sandbox.kernel import SandboxKernelManager
from .sandbox.policy import Policy

PROBE_SOURCE = (Path(__file__).parent / "kernel_probe.py").read_text()
SHOWN = 2000   # characters of a dead cell's source and last output kept for its student's page

# The cell that was running when the kernel died or ran out of time, and what the grader noticed
# about the run (a write over the disk caps). A grading worker is a process of its own for one
# submission, so what it leaves here is that submission's (take_stop, take_notes).
_stop: dict | None = None
_notes: list[str] = []
# What a write over a cap says: a tmpfs of the view full (ENOSPC), a file over RLIMIT_FSIZE (EFBIG).
OVER_CAP = ("No space left on device", "File too large")
# The kernel warm.py started for this worker's submission before its turn: (student, kernel manager).
_ready: list[tuple[str, SandboxKernelManager]] = []


def take_stop() -> dict | None:
    """Where this process's last run stopped, once: its cell's number, part, source and last output."""
    global _stop
    stop, _stop = _stop, None
    return stop


def take_notes() -> list[str]:
    """What the grader noticed about this process's last run, once."""
    notes = list(_notes)
    _notes.clear()
    return notes


def hand_over(student: str, km: SandboxKernelManager) -> None:
    """The kernel started for `student` before its turn: this worker's next notebook runs in it."""
    _ready[:] = [(student, km)]


def wrote_too_much(nb: NotebookNode, limits) -> str | None:
    """A note for a run whose kernel hit a disk cap (a write failed with ENOSPC or EFBIG, in any
    cell's output), in the student's words; None if none did. A student who prints the message
    only gets the note."""
    for number, cell in enumerate(nb.cells, 1):
        shown = " ".join(output_text(o) for o in cell.get("outputs", []))
        found = next((text for text in OVER_CAP if text in shown), None)
        if found:
            mb = lambda size: size // 1024**2  # noqa: E731
            return (f"the notebook wrote more than it may (cell {number}: \"{found}\"): at most "
                    f"{mb(limits.workcopy_bytes)} MB in its folder, {mb(limits.home_bytes)} MB in its home "
                    f"folder, {mb(limits.tmp_bytes)} MB in /tmp, and no file over {mb(limits.file_bytes)} MB; "
                    "the write that went over failed, and so did what needed it")
    return None


def student_policy(course: Course, policy: Policy, assignment: str, student: str) -> Policy:
    """`policy` for one student's kernel: it reads the data of the student's variant, which the grader
    decides (variants.py); the grading log describes this one, what the kernel has mounted."""
    return policy.with_data(variants.data_for(course, assignment, variants.of_student(course, assignment, student)))


NO_SNAPSHOT = {"watched": {}, "hooks": [], "traced": False}


def findings(before: dict, now: dict) -> list[str]:
    """What changed between the probe's report as the kernel started (`before`, kept by the grader)
    and `now`: a watched callable that is another object than at the start, or that was not there at
    the start and is not the library's own code; a hook added since that is not the library's; a trace
    or profile function."""
    found = []
    for name, (identity, library) in now["watched"].items():
        known = before["watched"].get(name)
        if (known[0] != identity) if known else not library:
            found.append(f"{name} was replaced")
    if now["traced"]:
        found.append("a trace or profile function was set")
    started = {identity for identity, _ in before["hooks"]}
    if any(identity not in started and not library for identity, library in now["hooks"]):
        found.append("input or AST transformers, or event callbacks, were added by the notebook")
    return found


def probe_expression(function: str, argument) -> str:
    """An expression that defines the probe afresh in a private namespace and calls it."""
    return f"(lambda ns: (exec({PROBE_SOURCE!r}, ns), ns[{function!r}]({argument!r}))[1])({{}})"


class GuardedExecute(InstallsEmitter, Execute):
    """nbgrader's Execute, with the kernel in the sandbox, and the probe and the observation emitter
    before each test cell."""

    guard = Bool(True, help="probe the kernel for tampering before each test cell").tag(config=True)
    policy = Instance(Policy, allow_none=True,
                      help="the sandbox policy `grade` built for this submission; without it, the one of "
                           "the course nbgrader was configured with").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)
        self._run_policy: Policy | None = None   # this run's: self.policy, for the student's data
        self._snapshot: dict | None = None   # the probe's report as the kernel started (kernel_probe)

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):
        """Runs the notebook, in the kernel started for it before its turn if there is one (warm.py);
        then, the kernel gone, its working copy is sealed before nbgrader writes the graded notebook
        into it (through a link the kernel left there, otherwise) and copies it to the feedback folder
        (with every file the kernel wrote, otherwise)."""
        policy = self._run_policy = self.run_policy(resources)
        path = (resources or {}).get("metadata", {}).get("path")
        before = workcopy.contents(Path(path)) if path else set()
        _notes.clear()
        self._snapshot = None
        km = km or self._ready_kernel(nb, resources)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if km is not None:   # nbclient stops only the kernels it started
                self._shut_down()
            note = wrote_too_much(getattr(self, "nb", None) or nb, policy.limits)
            if note:
                _notes.append(note)
            if path:
                workcopy.seal(Path(path), kept=before, policy=policy)

    def run_policy(self, resources: dict | None) -> Policy:
        """The policy this submission's kernel runs under, the course's secrets locked first,
        whichever way grading was started (`grade`, the formgrader, nbgrader's CLI): nbgrader's own
        ways pass no policy, so the course's is built here, from the same configuration. The kernel
        reads the data of the student's variant, which the grader decides (variants.py)."""
        course = Course.of_nbgrader(CourseDirectory(config=self.config))
        policy = self.policy or Policy.of(course)
        workcopy.protect(policy.secrets, policy.layers)
        info = (resources or {}).get("nbgrader", {})
        student, assignment = info.get("student"), info.get("assignment")
        if student and assignment:
            policy = student_policy(course, policy, assignment, student)
        return policy   # kept by the caller, not in self.policy: nbclient re-initialises from the config

    def start_before_turn(self, resources: dict, modules: tuple[str, ...]) -> SandboxKernelManager:
        """Start the kernel of the notebook this client was made with, as nbclient would start it for
        `resources`, and import `modules` in it (silently: no history, no names bound, no output)."""
        self._check_assign_resources(resources)
        self._run_policy = self.run_policy(resources)
        self.km = self.create_kernel_manager()
        try:
            with setenv(NBGRADER_EXECUTION="autograde"):
                self.start_new_kernel()
            self.start_new_kernel_client()
            code = f"[__import__('importlib').import_module(name) for name in {list(modules)!r}]"
            self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
            self.kc.stop_channels()
        except BaseException:
            self._shut_down()
            raise
        return self.km

    def _ready_kernel(self, nb: NotebookNode, resources: dict | None) -> SandboxKernelManager | None:
        """The kernel started for this submission before its turn, if it is this student's and of
        the notebook's kernel (else it is shut down, and nbclient starts one as usual)."""
        if not _ready:
            return None
        (student, km), = _ready
        _ready.clear()
        name = nb.metadata.get("kernelspec", {}).get("name")
        if student == (resources or {}).get("nbgrader", {}).get("student") and name in (None, km.kernel_name):
            return km
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)
        return None

    def _shut_down(self) -> None:
        """Stop a kernel nbclient did not start; a kernel already dead, or one that will not stop, is
        the worker's to end (processes.reap, as for any kernel)."""
        with contextlib.suppress(Exception):
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)

    def create_kernel_manager(self) -> SandboxKernelManager:
        """nbclient's kernel manager, given this run's policy (its kernel does not start without)."""
        km = super().create_kernel_manager()
        km.policy = self._run_policy
        return km

    async def async_start_new_kernel_client(self):
        """A kernel that dies while starting (rare, seen under heavy load) is started once more."""
        try:
            return await super().async_start_new_kernel_client()
        except RuntimeError as exc:
            if "died before replying" not in str(exc):
                raise
        self.km = self.create_kernel_manager()
        await self.async_start_new_kernel()
        return await super().async_start_new_kernel_client()

    async def _ask(self, expression: str) -> str | None:
        reply = await self.async_wait_for_reply(self.kc.execute(
            "", silent=True, store_history=False, user_expressions={"r": expression}))
        value = (reply or {}).get("content", {}).get("user_expressions", {}).get("r", {})
        return value.get("data", {}).get("text/plain") if value.get("status") == "ok" else None

    async def _state(self, function: str) -> dict | None:
        """The probe's report (kernel_probe.state or .snapshot), None if the kernel gave none."""
        answer = await self._ask(probe_expression(function, None))
        try:
            state = ast.literal_eval(answer) if answer else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return state if isinstance(state, dict) and {"watched", "hooks", "traced"} <= set(state) else None

    async def _tampering(self) -> str | None:
        now = await self._state("state")
        if now is None:
            return "the kernel did not answer the grader's integrity check"
        found = findings(self._snapshot or NO_SNAPSHOT, now)
        return "; ".join(found) if found else None

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int, execution_count=None,
                                 store_history: bool = True) -> NotebookNode:
        """A cell run as nbgrader runs it, the probe first for a test cell; a cell the kernel dies in
        or runs out of time in is remembered for its student's page (take_stop)."""
        global _stop
        try:
            return await self._guarded(cell, cell_index, execution_count, store_history)
        except (DeadKernelError, CellTimeoutError):
            outputs = [text for text in map(output_text, cell.get("outputs", [])) if text.strip()]
            _stop = {"number": cell_index + 1, "part": cell_labels(self.nb)[cell_index][0],
                     "source": cell.source[:SHOWN], "output": outputs[-1][-SHOWN:] if outputs else "", "seen": True}
            raise

    async def _guarded(self, cell: NotebookNode, cell_index: int, execution_count, store_history: bool) -> NotebookNode:
        if not self.guard:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._snapshot is None:   # before any of the student's code runs; without an answer in time,
            # every callable is judged by its code alone
            self._snapshot = await self._state("snapshot") or NO_SNAPSHOT
        if not (cell.cell_type == "code" and is_test(cell)):
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        problem = await self._tampering()
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history=False)
        if problem:
            cell.outputs.append(NotebookNode(output_type="error", ename="TamperingDetected",
                                             evalue=f"this test was not trusted: {problem}",
                                             traceback=[f"TamperingDetected: {problem}"]))
        return cell

    # nbclient binds its synchronous entry points to its own coroutines: point them at ours.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)
