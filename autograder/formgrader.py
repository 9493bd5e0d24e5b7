"""nbgrader's formgrader for this course, served by `jupyter server` on 127.0.0.1.

The formgrader reads nbgrader_config.py from the folder the server starts in. To serve a course
whose working folder was moved (the demo's var/demo, a test's tmp folder), the server starts in
a small folder holding a config that loads the course's own and points it at that working folder.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from .course import Course
from .grading import grading_course

COURSE_DIRECTORY_TRAITS = ("root", "submitted_directory", "autograded_directory", "feedback_directory",
                           "solution_directory", "release_directory", "db_url")


def config_folder(course: Course) -> Path:
    """work/formgrader/nbgrader_config.py: the course's config, with this Course's folders."""
    cd = grading_course(course).config().CourseDirectory
    folder = course.work / "formgrader"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"load_subconfig({str(course.root / 'nbgrader_config.py')!r})  # noqa: F821"]
    lines += [f"c.CourseDirectory.{trait} = {str(cd[trait])!r}  # noqa: F821" for trait in COURSE_DIRECTORY_TRAITS]
    (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(course: Course, port: int = 0) -> tuple[subprocess.Popen, str]:
    """Start the server; returns it and the formgrader's URL with its token (ready seconds later)."""
    port, token = port or free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={course.root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    folder = config_folder(course)
    with (folder / "server.log").open("w") as log:
        server = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/formgrader?token={token}"


def serve(course: Course, port: int = 0) -> None:
    """Run the formgrader until Ctrl+C."""
    server, url = start(course, port)
    print(f"formgrader: {url}\nserver log: {course.work / 'formgrader' / 'server.log'}\n(Ctrl+C to stop)",
          flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait()
