"""nbgrader's formgrader for this course, served by `jupyter server` on 127.0.0.1.

The formgrader reads nbgrader_config.py from the folder the server starts in. To serve a course
whose working folder was moved (the demo's var/demo, a test's tmp folder), the server starts in
a small folder holding a config that loads the course's own and points it at that working folder.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from .course import Course
from .feedback import NBGRADER_TEMPLATES, TEMPLATES
from .grading import grading_course

# nbgrader's grading view with its maths typeset by the MathJax the course's venv serves, not a CDN's:
# offline, a TA saw raw TeX and formgrade.js stopped for want of MathJax.
OFFLINE_MATHS = TEMPLATES / "formgrade_offline"
COURSE_DIRECTORY_TRAITS = ("root", "submitted_directory", "autograded_directory", "feedback_directory",
                           "solution_directory", "release_directory", "db_url")


def config_folder(course: Course) -> Path:
    """work/formgrader/nbgrader_config.py: the course's config, with this Course's folders."""
    cd = grading_course(course).config().CourseDirectory
    folder = course.work / "formgrader"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"load_subconfig({str(course.root / 'nbgrader_config.py')!r})  # noqa: F821"]
    lines += [f"c.CourseDirectory.{trait} = {str(cd[trait])!r}  # noqa: F821" for trait in COURSE_DIRECTORY_TRAITS]
    # The course hands nothing out through nbgrader's exchange, but the formgrader warns on every
    # page when the exchange folder is missing: an empty one of this working folder's own.
    exchange = course.work / "exchange"
    exchange.mkdir(exist_ok=True)
    lines.append(f"c.Exchange.root = {str(exchange)!r}  # noqa: F821")
    (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    return folder


def server_config(folder: Path) -> Path:
    """A jupyter_server_config.py that puts the offline MathJax macro first on the grading view's
    template path. The server's config is the one nbgrader's exporter reads (not nbgrader_config.py),
    and nbgrader overrides its template name and base folders, so the search path is given whole."""
    from nbconvert.exporters import HTMLExporter
    default = HTMLExporter(template_name="formgrade", extra_template_basedirs=[str(NBGRADER_TEMPLATES)])
    paths = [str(OFFLINE_MATHS), *default.template_paths]
    path = folder / "jupyter_server_config.py"
    path.write_text(f"c.HTMLExporter.template_paths = {paths!r}  # noqa: F821\n")
    return path


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
    command.append(f"--config={server_config(folder)}")
    with (folder / "server.log").open("w") as log:
        server = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/formgrader?token={token}"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def serve(course: Course, port: int = 0) -> None:
    """Run the formgrader until Ctrl+C, a kill or a closed terminal; the server (which holds the
    port and the token) always stops with it."""
    server, url = start(course, port)
    print(f"formgrader: {url}\nserver log: {course.work / 'formgrader' / 'server.log'}\n(Ctrl+C to stop)",
          flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
