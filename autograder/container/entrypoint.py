"""The grading image's entry point: grade every submission under /submissions, write /out.

The image is run as
    docker run --rm --network none -v $PWD/submissions:/submissions:ro -v $PWD/out:/out IMAGE
with submissions laid out as `<student>/<assignment>/<notebook>.ipynb`. Every assignment found there
is graded with the course's own `grading.grade` (the same sandbox, records and reasons as
`make grade`), then /out gets `grades.csv` (the LMS columns), `grades.json` (the same rows with the
reason and notes of each submission) and `feedback/<student>/<assignment>/`. The gradebook, the
records and the grading logs stay in /out too, so that a surprising score can be looked into.

The image runs as uid 1000: each kernel is kept from /course/source, /out and /submissions by
unprivileged namespaces where the engine allows them (podman does; add `--security-opt
unmask=/proc/*` for the kernel's own /proc). The isolation in force is printed first, and is in
every submission's log.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SAWarning

from autograder import export, feedback, grading
from autograder.sandbox.layers import describe_layers
from autograder.sandbox.policy import Policy
from autograder.course import Course, CourseError


def assignments_in(course: Course, submissions: Path) -> list[str]:
    """The course's assignments that some student handed in; other folder names are reported."""
    found = {p.name for p in submissions.glob("*/*") if p.is_dir()}
    unknown = sorted(name for name in found if name not in course.assignments())
    if unknown:
        print(f"ignored folders that are no assignment of this course: {', '.join(unknown)}", file=sys.stderr)
    return sorted(name for name in found if name in course.assignments())


def handed_in(submissions: Path, assignment: str, view: Path) -> Path:
    """A folder of links to the students who handed in `assignment`: `grading.grade` gives every
    student folder of its class a record, and a student who only handed in another assignment of
    the same batch must not get a 'missing' one for this."""
    folder = view / assignment
    folder.mkdir(parents=True)
    for student in submissions.iterdir():  # a folder that is a link is handed in too: grading rejects it
        if os.path.lexists(student / assignment):
            (folder / student.name).symlink_to(student.resolve(), target_is_directory=True)
    return folder


def write_grades(course: Course, assignments: list[str], out: Path) -> pd.DataFrame:
    """grades.csv for the LMS (its fixed columns) and grades.json with every detail of each row."""
    table = pd.concat([export.submission_table(course, a) for a in assignments], ignore_index=True)
    table.rename(columns={"student": "student_id"})[export.LMS_COLUMNS].to_csv(out / "grades.csv", index=False)
    (out / "grades.json").write_text(json.dumps(table.to_dict(orient="records"), indent=1, default=str))
    return table


def grade_all(submissions: Path, out: Path, jobs: int = 1) -> pd.DataFrame:
    """Grade every assignment found under `submissions` into `out`; returns the grades table."""
    course = Course(workdir=out)
    print("\n".join(describe_layers(Policy.of(course))), file=sys.stderr)
    assignments = assignments_in(course, submissions)
    if not assignments:
        raise CourseError(f"no submission of a known assignment under {submissions}")
    with tempfile.TemporaryDirectory() as view:
        for assignment in assignments:
            grading.grade(course, assignment, handed_in(submissions, assignment, Path(view)), jobs=jobs)
            feedback.generate(course, assignment)
    return write_grades(course, assignments, out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.container.entrypoint", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--submissions", default="/submissions", help="default: /submissions")
    p.add_argument("--out", default="/out", help="default: /out")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    args = p.parse_args(argv)
    if not os.access(args.out, os.W_OK):
        print(f"{args.out} is not writable by uid {os.getuid()}: mount a folder it may write "
              "(mkdir out && chmod a+rwx out), or run the image with --user $(id -u)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's harmless session noise
    try:
        table = grade_all(Path(args.submissions), Path(args.out), args.jobs)
    except CourseError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 1
    print(table[["student", "assignment", "status", "score", "max_score", "reason"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
