"""Putting a submission back in the course's shape before nbgrader grades it.

nbgrader restores the source of edited or deleted test cells from its gradebook, but it trusts
the student's cell order and any grading metadata found in the notebook. Here locked cells keep the
course's order, and metadata on cells the course never had is dropped, so that neither a moved test
cell nor an injected "test" with points can change a grade. Every change is said in a note.
"""
from __future__ import annotations

import copy

from nbformat import NotebookNode

from . import notebooks as nbs


def test_cell_notes(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """What the student did to the locked test cells (nbgrader puts them back)."""
    theirs = nbs.cells_by_id(submitted)
    notes = []
    for gid, cell in nbs.cells_by_id(released).items():
        if not nbs.is_test(cell):
            continue
        if gid not in theirs:
            notes.append(f"test cell {gid} was deleted; the original was put back before grading")
        elif theirs[gid].cell_type != cell.cell_type or theirs[gid].source != cell.source:
            notes.append(f"test cell {gid} was edited; the original was put back before grading")
    return notes


def drop_foreign_metadata(nb: NotebookNode, released: NotebookNode) -> list[str]:
    """Grading metadata on a cell the course does not have, or on a second copy of one, goes."""
    known, seen, dropped = set(nbs.cells_by_id(released)), set(), []
    for cell in nb.cells:
        gid = nbs.grade_id(cell)
        if gid is None and not nbs.meta(cell):
            continue
        if gid not in known or gid in seen:
            cell.metadata.pop("nbgrader", None)
            dropped.append(str(gid))
        seen.add(gid)
    return [f"grading metadata was removed from cells the assignment does not have: {', '.join(dropped)}"
            ] if dropped else []


def restore_order(nb: NotebookNode, released: NotebookNode) -> list[str]:
    """Locked test cells back after the graded cell they follow in the assignment.

    Only test cells move (students may not move them); the student's own cells stay where they are.
    """
    order = list(nbs.cells_by_id(released))
    found = [nbs.grade_id(c) for c in nb.cells if nbs.grade_id(c) in order]
    if found == [gid for gid in order if gid in found]:
        return []
    theirs = nbs.cells_by_id(nb)
    for before, gid in zip(order, order[1:]):
        cell = theirs.get(gid)
        if cell is not None and nbs.is_test(cell) and before in theirs:
            nb.cells.remove(cell)
            nb.cells.insert(nb.cells.index(theirs[before]) + 1, cell)
    return ["test cells had been moved; the assignment's order was put back before grading"]


def restore_test_cell_types(nb: NotebookNode, released: NotebookNode) -> None:
    """A test cell turned into markdown would never run (and so never fail): make it code again."""
    originals = nbs.cells_by_id(released)
    for i, cell in enumerate(nb.cells):
        gid = nbs.grade_id(cell)
        if gid in originals and nbs.is_test(originals[gid]) and cell.cell_type != originals[gid].cell_type:
            nb.cells[i] = copy.deepcopy(originals[gid])


def normalise(submitted: NotebookNode, released: NotebookNode) -> tuple[NotebookNode, list[str]]:
    nb = copy.deepcopy(submitted)
    notes = test_cell_notes(nb, released) + drop_foreign_metadata(nb, released)
    restore_test_cell_types(nb, released)
    return nb, notes + restore_order(nb, released)
