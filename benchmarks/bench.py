"""`make bench`: how much grading costs, measured in one run, written to benchmarks/RESULTS.md.

- overhead ratio per assignment: wall time to autograde the solution (intake, sandbox, guard, gradebook)
  over a plain nbclient execution of the same notebook;
- parallel scaling: a class of simulated warm-up submissions graded with --jobs 1, 2 and 4;
- peak memory of the largest worker or kernel, and the time to the first graded submission;
- cost growth: 10, 20 and 40 submissions.
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

import nbclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograder import grading, notebooks as nbs  # noqa: E402
from autograder.course import REPO, Course  # noqa: E402

warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's "not in session" noise, every run
WARMUP = "00-python-warmup"
OUT = REPO / "benchmarks" / "RESULTS.md"


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
    nb = nbs.read(course.solutions_dir / assignment / f"{assignment}.ipynb")
    started = time.monotonic()
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(course.solutions_dir / assignment)}}).execute()
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
    return {"wall": wall, "first": first[0], "rate": size / wall * 60, "seconds": rows[0].seconds,
            "graded": sum(r.status == "graded" for r in rows), "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--class-size", type=int, default=20)
    parser.add_argument("--growth", default="10,20,40")
    parser.add_argument("--assignments", nargs="*", default=None)
    args = parser.parse_args()
    course = Course()
    load = os.getloadavg()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    scratch = Path(tempfile.mkdtemp(prefix="eds-bench-"))
    os.environ.update(grading.kernel_environment(Course(workdir=scratch)))  # the plain runs' kernels too
    lines = [f"# Benchmarks\n\nCommand: `{' '.join(['python', *sys.argv])}` (`make bench`)  ",
             f"Machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}  ",
             f"Date: {started_at}; load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n",
             "## Overhead ratio (solution notebook, one submission, --jobs 1)\n",
             "autograde = the submission's own grading time (intake, sandboxed kernel, guard, gradebook); "
             "with setup = the whole `grade` call, release into the gradebook included (cold start).\n",
             "| assignment | plain nbclient (s) | autograde (s) | ratio | with setup (s) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for assignment in args.assignments or course.assignments():
        run = graded_run(scratch, assignment, 1, 1)   # first: the plain run then finds a warm file cache
        plain = plain_run(course, assignment)
        lines.append(f"| {assignment} | {plain:.1f} | {run['seconds']:.1f} | {run['seconds'] / plain:.2f} "
                     f"| {run['wall']:.1f} |")
        print(lines[-1], flush=True)
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
