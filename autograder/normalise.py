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
    """Graded cells back in the course's order, each followed by the cells the student put after it."""
    order = [gid for gid in nbs.cells_by_id(released)]
    found = [nbs.grade_id(c) for c in nb.cells if nbs.grade_id(c) in order]
    if found == [gid for gid in order if gid in found]:
        return []
    groups: dict[str | None, list[NotebookNode]] = {None: []}
    current = None
    for cell in nb.cells:
        if nbs.grade_id(cell) in order:
            current = nbs.grade_id(cell)
            groups[current] = []
        groups[current].append(cell)
    nb.cells = groups[None] + [cell for gid in order for cell in groups.get(gid, [])]
    return ["graded cells had been moved; the assignment's order was put back before grading"]


def normalise(submitted: NotebookNode, released: NotebookNode) -> tuple[NotebookNode, list[str]]:
    nb = copy.deepcopy(submitted)
    notes = test_cell_notes(nb, released) + drop_foreign_metadata(nb, released)
    return nb, notes + restore_order(nb, released)
