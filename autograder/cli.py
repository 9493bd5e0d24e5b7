"""`python -m autograder <verb>`: the commands behind the Makefile targets."""
from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path
from types import SimpleNamespace

from .course import Course, CourseError


def _course(args) -> Course:
    return Course(workdir=Path(args.workdir).resolve() if args.workdir else None, db_url=args.db_url)


def _assignments(course: Course, names: list[str]) -> list[str]:
    return [course.check_assignment(n) for n in names] if names else course.assignments()


def cmd_list(args) -> None:
    print("\n".join(_course(args).assignments()))


def cmd_release(args) -> None:
    """The release, then (for a judged assignment) the expected observations of its reference run."""
    from . import build, expected, judge
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(build.release(course, name).relative_to(course.root))
        if judge.judged(course, name):
            print(expected.record(course, name).relative_to(course.root))


def cmd_solutions(args) -> None:
    from . import build
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(build.solutions(course, name).relative_to(course.root))


def cmd_grade(args) -> None:
    from . import export, grading, quiet, shard as shards
    from .progress import Progress
    course = _course(args)
    shard = shards.parse(args.shard) if args.shard else None
    if shard:
        course.check_assignment(args.assignment)
        course = shards.shard_course(course, args.assignment, shard)
    progress = Progress(sys.stderr)
    log = course.work / "logs" / "warnings.log"
    try:
        with contextlib.nullcontext() if args.verbose else quiet.warnings_to(log):
            rows = grading.grade(course, args.assignment, Path(args.submissions), force=args.force, jobs=args.jobs,
                                 shard=shard, on_graded=progress, verbose=args.verbose)
    finally:
        progress.close()
    if shard:
        print(f"shard {shard}: {len(rows)} submissions, merge with `python -m autograder merge`:"
              f" {shards.write_manifest(course, args.assignment, shard, len(rows))}")
    print(export.summary_table(rows))


def cmd_merge(args) -> None:
    from . import merge
    course = _course(args)
    assignment, count = merge.merge(course, [Path(f) for f in args.shards] or None)
    print(f"merged {count} submissions of {assignment} into the course gradebook")


def cmd_slurm_submit(args) -> None:
    """Submit the shards and the merge; or, for a run already submitted, its state or a resubmission."""
    from .slurm import jobs
    course = _course(args)
    if args.db_url:
        raise CourseError("slurm-submit grades into one SQLite gradebook per shard: --db-url is not passed on")
    if args.status or args.resubmit:
        run = jobs.load(course, args.assignment)
        if args.resubmit:
            indices = jobs.resubmit(course, run)
            print(f"resubmitted array index {','.join(map(str, indices))}; new merge job {run.merge}"
                  if indices else "nothing to resubmit: every shard is done, waiting or running")
        print(jobs.describe(course, run, jobs.queue()))
        return
    if not args.submissions or not args.shards:
        raise CourseError("slurm-submit needs --submissions and --shards (or --status / --resubmit)")
    print(jobs.describe(course, jobs.submit(course, args.assignment, Path(args.submissions), args.shards, args.jobs)))


def cmd_feedback(args) -> None:
    from . import feedback
    course = _course(args)
    for name in _assignments(course, args.assignments):
        print(feedback.generate(course, name))


def cmd_export(args) -> None:
    from . import export, lms
    course = _course(args)
    graded = [a for a in course.assignments() if not export.submission_table(course, a).empty]
    print(export.nbgrader_csv(course, course.work / "grades.csv"))
    print(export.status_csv(course, graded, course.work / "submissions.csv"))
    print(export.lms_csv(course, graded, course.work / "lms.csv"))
    roster = Path(args.roster) if args.roster else course.work / "roster.csv"
    options = lms.Options(provisional=args.provisional, decimals=args.decimals)
    print("\n".join(str(path) for path in lms.write(course, graded, roster, options, course.work / "lms")))


def cmd_collect(args) -> None:
    from nbgrader.utils import parse_utc
    from . import collect
    from .collect.entries import utc
    try:
        deadline = utc(parse_utc(args.deadline)) if args.deadline else None
    except (ValueError, OverflowError) as exc:
        raise CourseError(f"cannot read the deadline {args.deadline!r} (e.g. '2026-01-10 12:00:00 UTC')") from exc
    result = collect.collect(_course(args), args.assignment, args.format, Path(args.source), Path(args.out),
                             Path(args.roster) if args.roster else None, deadline, replace=args.replace,
                             moodle_worksheet=Path(args.moodle_worksheet) if args.moodle_worksheet else None,
                             timezone=args.timezone)
    print(result.summary())


def cmd_demo(args) -> None:
    from . import demo
    demo.run(_course(args), _assignments(_course(args), args.assignments), jobs=args.jobs, verbose=args.verbose)


def cmd_report(args) -> None:
    from . import report
    course = _course(args)
    print(report.generate(course, _assignments(course, args.assignments), formgrader=args.formgrader))


def cmd_formgrader(args) -> None:
    from . import formgrader
    formgrader.serve(_course(args), port=args.port)


def cmd_lab(args) -> int:
    from . import studentlab
    return studentlab.run(_course(args), args.jupyter_args)


def cmd_mutants(args) -> None:
    from . import mutation_report
    course = _course(args)
    print(mutation_report.render(course, _assignments(course, args.assignments), cells=args.cells))


def cmd_handout(args) -> None:
    from . import lms, variants
    course = _course(args)
    roster = Path(args.roster) if args.roster else course.work / "roster.csv"
    students = list(lms.read_roster(roster)["student_id"])
    if not students:
        raise CourseError(f"no students in {roster}: the handout needs a roster (student_id, optional variant)")
    for path in variants.handout(course, course.check_assignment(args.assignment), students, Path(args.out)):
        print(path)


def cmd_data(args) -> None:
    """The data folder of the variant named in a handed-out variant.txt (made on first use): what a
    student's own copy of the notebook reads."""
    from . import variants
    course = _course(args)
    text = Path(args.variant_file).read_text().strip()
    if not text.isdigit() or int(text) >= variants.count(course, course.check_assignment(args.assignment)):
        raise CourseError(f"{args.variant_file} does not name a variant of {args.assignment}: ask your instructor")
    print(variants.data_for(course, args.assignment, int(text)))


def cmd_check(args) -> int:
    from . import selfcheck
    return selfcheck.main(Path(args.notebook))


def course_options(p: argparse.ArgumentParser, default=None) -> argparse.ArgumentParser:
    """--workdir and --db-url, accepted before the verb and after it (and shown in every verb's help)."""
    p.add_argument("--workdir", default=default,
                   help="working folder for submissions, gradebook and feedback (default: var/)")
    p.add_argument("--db-url", default=default, help="gradebook database URL, e.g. "
                   "postgresql+psycopg://user@host/db for shards that grade at once (default: SQLite in the working folder)")
    return p


def parser() -> argparse.ArgumentParser:
    p = course_options(argparse.ArgumentParser(prog="python -m autograder", description=__doc__))
    verbs = p.add_subparsers(dest="verb", required=True)
    # after the verb, an option left out must not undo the same option given before it
    common = course_options(argparse.ArgumentParser(add_help=False), default=argparse.SUPPRESS)
    sub = SimpleNamespace(add_parser=functools.partial(verbs.add_parser, parents=[common]))
    sub.add_parser("list", help="the assignments in source/").set_defaults(func=cmd_list)
    for verb, func, text in [("release", cmd_release, "regenerate release/ from source/"),
                             ("solutions", cmd_solutions, "regenerate solutions/ from release/ and source/"),
                             ("feedback", cmd_feedback, "write feedback for every graded student"),
                             ("demo", cmd_demo, "grade the bundled sample class end to end"),
                             ("report", cmd_report, "write the class report (one page per assignment)")]:
        s = sub.add_parser(verb, help=text)
        s.add_argument("assignments", nargs="*", help="default: every assignment")
        s.set_defaults(func=func)
        if verb == "demo":
            s.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
            s.add_argument("--verbose", action="store_true",
                           help="library warnings on the console (default: logs/warnings.log of the working folder)")
        if verb == "report":
            s.add_argument("--formgrader", metavar="URL", help="the URL `make formgrader` printed: the report "
                           "links each submission waiting for manual grading to it")
    g = sub.add_parser("grade", help="autograde every submission of one assignment")
    g.add_argument("assignment")
    g.add_argument("--submissions", required=True, help="folder of <student>/<assignment>/*.ipynb")
    g.add_argument("--force", action="store_true", help="regrade submissions already graded")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    g.add_argument("--verbose", action="store_true", help="nbgrader's warnings (changed checksums, restored "
                   "cells) in the per-student logs, library warnings on the console (default: logs/warnings.log)")
    g.add_argument("--shard", metavar="i/N", help="grade only shard i of N (0-based), into shards/ of the "
                   "working folder; then `merge`")
    g.set_defaults(func=cmd_grade)
    m = sub.add_parser("merge", help="merge graded shards into the course gradebook, records and copies")
    m.add_argument("shards", nargs="*", help="shard folders (default: every finished one under shards/)")
    m.set_defaults(func=cmd_merge)
    sl = sub.add_parser("slurm-submit", help="grade one assignment as a SLURM array of shards, then merge")
    sl.add_argument("assignment")
    sl.add_argument("--submissions", help="folder of <student>/<assignment>/*.ipynb, on a filesystem the nodes share")
    sl.add_argument("--shards", type=int, help="array tasks, one shard each")
    sl.add_argument("--jobs", type=int, default=2, help="submissions graded at once per shard (its cores, default 2)")
    how = sl.add_mutually_exclusive_group()
    how.add_argument("--status", action="store_true", help="each shard's state and which to resubmit")
    how.add_argument("--resubmit", action="store_true", help="resubmit the shards that failed or were cancelled")
    sl.set_defaults(func=cmd_slurm_submit)
    co = sub.add_parser("collect", help="build a submissions folder from a Moodle or Canvas zip, GitHub "
                        "Classroom clones or nbgrader's exchange, with collect-<assignment>.csv saying what was skipped")
    co.add_argument("assignment")
    co.add_argument("format", choices=["moodle", "canvas", "github", "exchange"])
    co.add_argument("source", help="the zip the LMS gave, the folder of repositories, or the exchange's inbound folder")
    co.add_argument("--out", default="submissions", help="the submissions folder to build (default: submissions)")
    co.add_argument("--roster", help="CSV of student_id and the LMS ids: moodle_id, canvas_id (or lms_id), github, "
                    "name, email (needed for all but the exchange)")
    co.add_argument("--moodle-worksheet", help="Moodle's grading worksheet (CSV): each submission's time, "
                    "so that lateness is graded")
    co.add_argument("--timezone", default="UTC", help="the zone of the worksheet's times, the downloading "
                    "account's (e.g. Europe/Zurich; default UTC)")
    co.add_argument("--deadline", help="keep each student's latest submission at or before it (e.g. "
                    "'2026-01-10 12:00:00 UTC'); a repository is read at its last commit before it")
    co.add_argument("--replace", action="store_true", help="replace an earlier collection of the assignment in --out")
    co.set_defaults(func=cmd_collect)
    e = sub.add_parser("export", help="write grades.csv, submissions.csv, lms.csv and the LMS imports in lms/")
    e.add_argument("--roster", help="CSV of student_id, name, email, lms_id, sis_id, section (default: roster.csv "
                   "of the working folder, if any)")
    e.add_argument("--provisional", action="store_true", help="also write scores still waiting for a TA")
    e.add_argument("--decimals", type=int, default=2, help="scores rounded to this many decimals (default 2)")
    e.set_defaults(func=cmd_export)
    f = sub.add_parser("formgrader", help="serve nbgrader's formgrader for this course on 127.0.0.1")
    f.add_argument("--port", type=int, default=0, help="default: a free port")
    f.set_defaults(func=cmd_formgrader)
    lab = sub.add_parser("lab", help="JupyterLab on release/ with a student's nbgrader tools only (Validate)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="passed on to `jupyter lab`")
    lab.set_defaults(func=cmd_lab)
    mu = sub.add_parser("mutants", help="the mutation report: mutants, killed and named per assignment")
    mu.add_argument("assignments", nargs="*", help="default: every assignment")
    mu.add_argument("--cells", action="store_true", help="also the test cells each mutant kills")
    mu.set_defaults(func=cmd_mutants)
    h = sub.add_parser("handout", help="each roster student's variant.txt for an assignment with variants")
    h.add_argument("assignment")
    h.add_argument("--roster", help="CSV of student_id and an optional variant column (default: roster.csv of "
                   "the working folder); a student without one gets a hash of their id")
    h.add_argument("--out", default="handout", help="writes OUT/<student>/<assignment>/variant.txt (default: handout)")
    h.set_defaults(func=cmd_handout)
    d = sub.add_parser("data", help="the data folder of a variant (generated on first use), from variant.txt")
    d.add_argument("assignment")
    d.add_argument("variant_file", help="the variant.txt your instructor handed out")
    d.set_defaults(func=cmd_data)
    c = sub.add_parser("check", help="a student's self-check: run a notebook's visible tests, list each part")
    c.add_argument("notebook")
    c.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status = args.func(args)
    except CourseError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    return status or 0
