"""JupyterLab as a student should see it: of nbgrader's tools, Validate only.

nbgrader's lab extension shows everyone the instructor's Formgrader and Create Assignment, and an
Assignment List that, in a course handing out by git or the LMS rather than nbgrader's exchange,
greets a student with "Error fetching courses!". This server turns them off for itself only (its
own config folder in the working folder, found through JUPYTER_CONFIG_PATH, and a --config file):
an instructor's JupyterLab, started as usual, keeps them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .course import Course

HIDDEN_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:course-list")
SERVER_EXTENSIONS = {"nbgrader.server_extensions.formgrader": False,
                     "nbgrader.server_extensions.assignment_list": False,
                     "nbgrader.server_extensions.course_list": False,
                     "nbgrader.server_extensions.validate_assignment": True}


def config_folder(course: Course) -> Path:
    """work/lab/: the page config that hides the plugins, and the server config without their backends."""
    folder = course.work / "lab"
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    disabled = {plugin: True for plugin in HIDDEN_PLUGINS}
    (folder / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}, indent=1))
    (folder / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": SERVER_EXTENSIONS}}, indent=1))
    return folder


def command(course: Course, extra: list[str]) -> tuple[list[str], dict[str, str]]:
    """The `jupyter lab` command and environment of a student's server, opened on release/."""
    folder = config_folder(course)
    env = {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(
        [str(folder), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))])}
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--config={folder / 'jupyter_server_config.json'}",
           f"--ServerApp.root_dir={course.release_dir}", *extra]
    return cmd, env


def run(course: Course, extra: list[str]) -> int:
    cmd, env = command(course, extra)
    return subprocess.call(cmd, env=env)
