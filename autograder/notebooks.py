"""Reading nbgrader's cell metadata: which cells are answers, tests and manual questions."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def read(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=nbformat.NO_CONVERT)


def write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    return meta(cell).get("grade_id")


def is_answer(cell: NotebookNode) -> bool:
    """An autograded answer: code the student writes."""
    m = meta(cell)
    return bool(m.get("solution")) and not m.get("grade") and cell.cell_type == "code"


def is_test(cell: NotebookNode) -> bool:
    m = meta(cell)
    return bool(m.get("grade")) and not m.get("solution")


def is_manual(cell: NotebookNode) -> bool:
    """A free-text or free-code answer graded by a TA."""
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def cells_by_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


def region(source: str, markers: tuple[str, str]) -> list[str]:
    """The lines strictly between a pair of markers (all such regions of the cell)."""
    inside, lines = False, []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(markers[0]):
            inside = True
        elif stripped.startswith(markers[1]):
            inside = False
        elif inside:
            lines.append(line)
    return lines


def without_markers(source: str, markers: tuple[str, str] = SOLUTION_MARKERS) -> str:
    """The source with the marker lines removed and what they enclosed kept."""
    return "\n".join(line for line in source.splitlines()
                     if not line.strip().startswith(markers))


def output_text(output: NotebookNode) -> str:
    """What an output showed, as text: a stream, a result, or an error's name and message."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    return output.get("data", {}).get("text/plain", "")
