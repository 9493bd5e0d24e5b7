"""One gradebook on a real PostgreSQL server, written by shards grading at once (issue 11).

The server is Debian's `postgresql` (initdb + pg_ctl as the postgres user, on a free local port, in
a temporary folder); where it cannot start, the tests skip and say why.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder import grading, notebooks as nbs, records
from autograder.course import Course, CourseError

from gradebook_view import record_table, snapshot
from test_shard import cli, finish
from toycourse import DUE, TOY, make_toy_course, report_class

PG_BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) \
    if Path("/usr/lib/postgresql").is_dir() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throw-away PostgreSQL cluster owned by the postgres user."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, _free_port()
        self.data = folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/gradebook"

    def _as_postgres(self, *cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True,
                              timeout=120)

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def start(self) -> str | None:
        """None once the server answers, or why it could not start."""
        if PG_BIN is None or os.geteuid() != 0 or not shutil.which("runuser"):
            return "needs root and Debian's postgresql package (apt-get install postgresql)"
        shutil.chown(self.folder, "postgres")
        done = self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        if done.returncode:
            return f"initdb failed: {done.stderr.strip()[-300:]}"
        return self.resume() or self._createdb()

    def resume(self) -> str | None:
        done = self.pg_ctl("-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                           "-l", str(self.folder / "log"), "start")
        return f"pg_ctl start failed: {done.stderr.strip()[-300:]}" if done.returncode else None

    def _createdb(self) -> str | None:
        done = self._as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "gradebook")
        return f"createdb failed: {done.stderr.strip()[-300:]}" if done.returncode else None

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")


@pytest.fixture(scope="module")
def server():
    """Outside pytest's temporary folders, which the postgres user cannot enter."""
    srv = Server(Path(tempfile.mkdtemp(prefix="eds-pg-")))
    why = srv.start()
    if why:
        shutil.rmtree(srv.folder)
        pytest.skip(f"no PostgreSQL server: {why}")
    yield srv
    srv.stop()
    shutil.rmtree(srv.folder)


def test_concurrent_shards_write_one_gradebook(server, toy_run, tmp_path):
    course = make_toy_course(tmp_path, due=DUE)
    report_class(course, tmp_path / "subs")
    procs = [cli(tmp_path, "--db-url", server.url, "grade", TOY, "--submissions", str(tmp_path / "subs"),
                 "--shard", f"{i}/3") for i in range(3)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    code, _, err = finish(cli(tmp_path, "--db-url", server.url, "merge"))
    assert code == 0, err
    shared = Course(root=tmp_path, db_url=server.url)
    assert snapshot(shared, TOY) == snapshot(toy_run.course, TOY)
    assert record_table(Course(root=tmp_path), TOY) == record_table(toy_run.course, TOY)


def test_database_lost_mid_run_stops_and_keeps_what_was_graded(server, tmp_path):
    url = server.url.replace("/gradebook", "/lost")
    server._as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "lost")
    course = make_toy_course(tmp_path / "course")
    course = Course(root=course.root, workdir=tmp_path / "work", db_url=url)
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    for student in ("amy", "bob", "cat"):
        nbs.write(solution, tmp_path / "subs" / student / TOY / f"{TOY}.ipynb")

    def stop_after_first(record, done, total):
        if done == 1:
            server.stop()

    try:
        with pytest.raises(CourseError, match="gradebook database"):
            grading.grade(course, TOY, tmp_path / "subs", on_graded=stop_after_first)
    finally:
        assert server.resume() is None
    assert [r.student for r in records.load_all(course, TOY)] == ["amy"]
    assert snapshot(course, TOY)["amy"] and set(snapshot(course, TOY)) == {"amy"}
