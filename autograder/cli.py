"""`python -m autograder <verb>`: the commands behind the Makefile targets."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .course import Course, CourseError


def _course(args) -> Course:
    return Course(workdir=Path(args.workdir).resolve() if args.workdir else None)


def _assignments(course: Course, names: list[str]) -> list[str]:
    return [course.check_assignment(n) for n in names] if names else course.assignments()


def cmd_list(args) -> None:
    print("\n".join(_course(args).assignments()))


def cmd_release(args) -> None:
    from . import build
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(build.release(course, name).relative_to(course.root))


def cmd_solutions(args) -> None:
    from . import build
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(build.solutions(course, name).relative_to(course.root))


def cmd_grade(args) -> None:
    from . import export, grading
    course = _course(args)
    rows = grading.grade(course, args.assignment, Path(args.submissions), force=args.force)
    print(export.summary_table(rows))


def cmd_feedback(args) -> None:
    from . import feedback
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(feedback.generate(course, name))


def cmd_export(args) -> None:
    from . import export
    course = _course(args)
    print(export.nbgrader_csv(course, course.work / "grades.csv"))
    print(export.status_csv(course, course.assignments(), course.work / "submissions.csv"))


def cmd_demo(args) -> None:
    from . import demo
    demo.run(_course(args), _assignments(_course(args), args.assignments))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    p.add_argument("--workdir", help="working folder for submissions, gradebook and feedback (default: var/)")
    sub = p.add_subparsers(dest="verb", required=True)
    sub.add_parser("list", help="the assignments in source/").set_defaults(func=cmd_list)
    for verb, func, text in [("release", cmd_release, "regenerate release/ from source/"),
                             ("solutions", cmd_solutions, "regenerate solutions/ from release/ and source/"),
                             ("feedback", cmd_feedback, "write feedback for every graded student"),
                             ("demo", cmd_demo, "grade the bundled sample class end to end")]:
        s = sub.add_parser(verb, help=text)
        s.add_argument("assignments", nargs="*", help="default: every assignment")
        s.set_defaults(func=func)
    g = sub.add_parser("grade", help="autograde every submission of one assignment")
    g.add_argument("assignment")
    g.add_argument("--submissions", required=True, help="folder of <student>/<assignment>/*.ipynb")
    g.add_argument("--force", action="store_true", help="regrade submissions already graded")
    g.set_defaults(func=cmd_grade)
    sub.add_parser("export", help="write grades.csv and submissions.csv").set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except CourseError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    return 0
