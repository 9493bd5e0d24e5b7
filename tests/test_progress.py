"""The progress line of a grading run: on a terminal only, with done/total, rate, ETA and totals."""
from __future__ import annotations

import io

from autograder.progress import Progress
from autograder.records import FAILED, GRADED, REJECTED, Record


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(stream) -> str:
    clock = Clock()
    progress = Progress(stream, clock=clock)
    statuses = [GRADED, FAILED, GRADED, REJECTED]
    for done, status in enumerate(statuses, 1):
        clock.now += 30.0
        progress(Record(f"s{done}", "00-x", status), done, len(statuses))
    progress.close()
    return stream.getvalue()


def test_terminal_gets_rate_eta_and_totals():
    out = run(Terminal())
    lines = out.split("\r")
    assert "1/4 graded  2.0/min  ETA 1m30s  0 not graded" in lines[1]
    assert "3/4 graded  2.0/min  ETA 0m30s  1 not graded" in lines[3]
    assert "4 submissions in 2m00s: 1 failed, 2 graded, 1 rejected (not graded: s2, s4)" in lines[-1]
    assert out.endswith("\n")


def test_a_label_starts_every_line():
    progress = Progress(Terminal(), clock=Clock(), label="00-x")
    progress(Record("s1", "00-x", GRADED), 1, 2)
    progress.close()
    assert [line[:14] for line in progress.stream.getvalue().split("\r")[1:]] == ["00-x: 1/2 grad", "00-x: 1 submis"]


def test_nothing_when_not_a_terminal():
    assert run(io.StringIO()) == ""
