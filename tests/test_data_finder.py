"""The notebooks find the course's data from any working folder (packages/eds_data)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import eds_data
from autograder.course import REPO

from conftest import ASSIGNMENTS, COURSE


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working folder outside the course, no EDS_DATA_DIR, and a Python that is not the course's."""
    monkeypatch.delenv("EDS_DATA_DIR", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    return tmp_path


def test_the_environment_variable_wins(elsewhere, monkeypatch):
    monkeypatch.setenv("EDS_DATA_DIR", str(elsewhere / "mine"))
    assert eds_data.data_dir() == elsewhere / "mine"


def test_found_from_a_folder_inside_the_course(elsewhere, monkeypatch):
    monkeypatch.chdir(REPO / "release" / "00-python-warmup")
    assert eds_data.data_dir() == REPO / "data"


def test_found_from_the_notebook_jupyterlab_names(elsewhere, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", str(REPO / "release" / "00-python-warmup" / "00-python-warmup.ipynb"))
    assert eds_data.data_dir() == REPO / "data"


def test_found_from_the_courses_own_environment(elsewhere, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(REPO / ".venv"))
    assert eds_data.data_dir() == REPO / "data"


def test_a_stray_data_folder_is_not_taken(elsewhere):
    (elsewhere / "data" / "something").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="Set EDS_DATA_DIR"):
        eds_data.data_dir()


def test_a_handed_out_variant_is_read_from_beside_the_notebook(elsewhere, monkeypatch):
    notebook_folder = elsewhere / "my-copy"
    notebook_folder.mkdir()
    (notebook_folder / "variant.txt").write_text("0\n")
    monkeypatch.chdir(notebook_folder)
    monkeypatch.setattr(sys, "prefix", str(REPO / ".venv"))
    assert eds_data.data_dir("01-regression") == REPO / "data"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_solution_runs_from_a_folder_outside_the_course(assignment, tmp_path):
    """As an instructor runs it by hand: kernel in another folder, no EDS_DATA_DIR, the course's Python."""
    nb = nbformat.read(COURSE.root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("EDS_DATA_DIR", "JPY_SESSION_NAME")}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.km = client.create_kernel_manager()
    try:
        client.execute(env={**env, "EDS_SELF_CHECK": "1", "OMP_NUM_THREADS": "1"})
    except CellExecutionError as error:
        pytest.fail(f"{assignment} run from {tmp_path}: {str(error).splitlines()[-1]}")
