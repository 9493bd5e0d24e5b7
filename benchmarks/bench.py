"""`make bench`: how much grading costs, measured in one run, written to benchmarks/RESULTS.md.

- overhead ratio per assignment: wall time to autograde the solution (intake, sandbox, guard, gradebook)
  over a plain nbclient execution of the same notebook, for the first submission of a small class and
  for the next ones, whose kernels start while the one before is graded;
- parallel scaling: a class of simulated warm-up submissions graded with --jobs 1, 2 and 4;
- peak memory of the largest worker or kernel, and the time to the first graded submission;
- cost growth: 10, 20 and 40 submissions;
- the judge: its share of a warm-up submission's grading time, and recording the expected
  observations at release (`--judge-only` measures just this and rewrites only its section);
- where one submission's time goes, stage by stage, beside a plain run (breakdown.py;
  `--breakdown-only` measures just this and rewrites only its section).
Reports only: nothing here passes or fails.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograder import expected, grading, judge, notebooks as nbs  # noqa: E402
from autograder.course import REPO, Course  # noqa: E402
from autograder.sandbox.environment import KernelEnvironment  # noqa: E402

import breakdown  # noqa: E402

warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's "not in session" noise, every run
WARMUP = "00-python-warmup"
OUT = REPO / "benchmarks" / "RESULTS.md"
CLASS = 3   # submissions per assignment in the overhead table: the first, and two with warm kernels


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def plain_run(course: Course, assignment: str) -> float:
    """The solution executed by nbclient alone, in the same environment the grader gives kernels.

    NBGRADER_EXECUTION is set as nbgrader sets it, so the self-check cell stays idle as it does
    while grading (otherwise it runs the notebook a second time).
    """
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    client = breakdown.plain_client(course.solutions_dir / assignment, assignment)
    started = time.monotonic()
    client.execute(**breakdown.QUIET)
    return time.monotonic() - started


def make_class(course: Course, assignment: str, folder: Path, size: int) -> Path:
    solution = nbs.read(course.solutions_dir / assignment / f"{assignment}.ipynb")
    for i in range(size):
        nbs.write(solution, folder / f"student-{i:03d}" / assignment / f"{assignment}.ipynb")
    return folder


def graded_run(scratch: Path, assignment: str, size: int, jobs: int) -> dict:
    """Grade a fresh class of `size` solutions; wall time, time to first record, throughput."""
    tag = f"{assignment}-{size}-j{jobs}"
    course = Course(workdir=scratch / tag / "work")
    subs = make_class(course, assignment, scratch / tag / "subs", size)
    first: list[float] = []
    started = time.monotonic()
    rows = grading.grade(course, assignment, subs, jobs=jobs,
                         on_graded=lambda r, done, total: first or first.append(time.monotonic() - started))
    wall = time.monotonic() - started
    later = [r.seconds for r in rows[1:]]   # each from its turn, its kernel started while it waited
    return {"wall": wall, "first": first[0], "rate": size / wall * 60, "seconds": rows[0].seconds,
            "later": sum(later) / len(later) if later else float("nan"),
            "graded": sum(r.status == "graded" for r in rows), "size": size}


def judge_seconds(notebook: Path) -> float:
    """The judge's work on one graded notebook, its test cells given back the kernel's outputs."""
    nb = nbs.read(notebook)
    cells = [c for c in nb.cells if nbs.is_test(c)]
    for cell in cells:
        cell.outputs = cell.metadata["eds"]["kernel_outputs"]
    records = expected.load(Course(), WARMUP)["notebooks"][notebook.name]
    started = time.perf_counter()
    for cell in cells:
        judge.judge_cell(cell, records[nbs.grade_id(cell)])
    return time.perf_counter() - started


def judge_section(scratch: Path) -> list[str]:
    """What the judge costs per submission, and what recording its store costs at release."""
    run = graded_run(scratch, WARMUP, 1, 1)
    graded = Course(workdir=scratch / f"{WARMUP}-1-j1" / "work")
    notebook = grading.grading_course(graded).dir_of("autograded") / "student-000" / WARMUP / f"{WARMUP}.ipynb"
    judged = judge_seconds(notebook)
    copy = scratch / "course-copy"
    for part in ("source", "data", "tests/mutants", "nbgrader_config.py"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy)(REPO / part, copy / part)
    started = time.monotonic()
    expected.record(Course(root=copy), WARMUP)
    recorded = time.monotonic() - started
    return ["## The judge (warm-up solution)\n",
            f"Judging its {sum(1 for _ in expected.load(Course(), WARMUP)['notebooks'][notebook.name])} test cells: "
            f"{judged * 1000:.1f} ms of the submission's {run['seconds']:.1f} s of grading "
            f"({100 * judged / run['seconds']:.2f} %).  ",
            f"Recording the expected observations at release (the reference run and "
            f"{len(expected.mutant_files.batches(expected.mutant_files.load(expected.mutants_path(Course(), WARMUP))))} "
            f"mutant batches): {recorded:.1f} s.", ""]


def update_section(lines: list[str]) -> None:
    """Put one section into RESULTS.md in place of its previous version, the rest untouched."""
    text = OUT.read_text() if OUT.exists() else "# Benchmarks\n"
    head, found, rest = text.partition(lines[0].split("(")[0])   # its title, whatever its parenthesis said
    tail = rest[rest.find("\n## "):] if found and "\n## " in rest else ""
    OUT.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines).rstrip("\n") + "\n" + tail.rstrip("\n") + "\n")


def overhead_section(course: Course, assignments: list[str], scratch: Path) -> list[str]:
    """The overhead table: per assignment, a plain run beside a small class graded with --jobs 1."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [f"## Overhead ratio (solution notebook, a class of {CLASS}, --jobs 1)\n",
             "first = the first submission's grading time (intake, sandboxed kernel, guard, gradebook), its "
             "kernel started on its turn; next = the mean of the others', each counted from its turn, its kernel "
             "started and its libraries imported while the one before was graded (warm.py); whole call = the "
             "`grade` call, release into the gradebook included.\n",
             "| assignment | plain nbclient (s) | first (s) | ratio | next (s) | ratio | whole call (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for assignment in assignments:
        run = graded_run(scratch, assignment, CLASS, 1)   # first: the plain run then finds a warm file cache
        plain = plain_run(course, assignment)
        lines.append(f"| {assignment} | {plain:.1f} | {run['seconds']:.1f} | {run['seconds'] / plain:.2f} "
                     f"| {run['later']:.1f} | {run['later'] / plain:.2f} | {run['wall']:.1f} |")
        print(lines[-1], flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return lines + ["", f"Measured {stamp}; load average {load} at the start.", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--class-size", type=int, default=20)
    parser.add_argument("--growth", default="10,20,40")
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--judge-only", action="store_true", help="measure the judge and rewrite its section only")
    parser.add_argument("--breakdown-only", action="store_true",
                        help="measure where a submission's time goes and rewrite that section only")
    parser.add_argument("--overhead-only", action="store_true",
                        help="measure the overhead ratio per assignment and rewrite that section only")
    parser.add_argument("--breakdown", nargs="*", default=[WARMUP, "03-seismology", "05-cnn"],
                        help="the assignments of the breakdown (default: %(default)s)")
    args = parser.parse_args()
    course = Course()
    load = os.getloadavg()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    scratch = Path(tempfile.mkdtemp(prefix="eds-bench-"))
    os.environ.update(KernelEnvironment.of(Course(workdir=scratch).data_dir).settings)  # the plain runs' kernels too
    if args.judge_only or args.breakdown_only or args.overhead_only:
        lines = (judge_section(scratch) if args.judge_only else
                 breakdown.section(course, args.breakdown, scratch) if args.breakdown_only else
                 overhead_section(course, args.assignments or course.assignments(), scratch))
        update_section(lines + [f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}."])
        shutil.rmtree(scratch, ignore_errors=True)
        print(f"wrote a section of {OUT}")
        return
    lines = [f"# Benchmarks\n\nCommand: `{' '.join(['python', *sys.argv])}` (`make bench`)  ",
             f"Machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}  ",
             f"Date: {started_at}; load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"]
    lines += overhead_section(course, args.assignments or course.assignments(), scratch)
    lines += ["", f"## Parallel scaling ({args.class_size} warm-up solutions)\n",
              "| --jobs | wall (s) | submissions/min | speed-up | first graded after (s) |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    runs = {}
    for jobs in (1, 2, 4):
        runs[jobs] = graded_run(scratch, WARMUP, args.class_size, jobs)
        r = runs[jobs]
        lines.append(f"| {jobs} | {r['wall']:.1f} | {r['rate']:.1f} | {runs[1]['wall'] / r['wall']:.2f} | {r['first']:.1f} |")
        print(lines[-1], flush=True)
    lines += ["", "## Cost growth (warm-up, --jobs 2)\n", "| submissions | wall (s) | s per submission |",
              "| ---: | ---: | ---: |"]
    for size in (int(n) for n in args.growth.split(",")):
        r = runs[2] if size == args.class_size else graded_run(scratch, WARMUP, size, 2)
        lines.append(f"| {size} | {r['wall']:.1f} | {r['wall'] / size:.2f} |")
        print(lines[-1], flush=True)
    lines += [""] + judge_section(scratch) + [""] + breakdown.section(course, args.breakdown, scratch)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines += ["", f"Peak memory of the largest worker or kernel process over the whole run: {peak:.0f} MiB "
              "(ru_maxrss of the reaped children).",
              f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}. On a shared, loaded "
              "machine the absolute times and the scaling are pessimistic; the ratios were measured "
              "side by side in this one run."]
    OUT.write_text("\n".join(lines) + "\n")
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
