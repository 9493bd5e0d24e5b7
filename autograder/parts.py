"""The name a person gives a graded cell: "Part 1.1 · Sort the stations by altitude", not a test id.

Students and TAs know an assignment by the headings of its source notebook ("### Part 1.1 — Sort
the stations by altitude (3 points)", "**Question 2 (2 points).**"); test ids are the author's.
Each graded cell takes the last such heading above it; a cell with none above keeps its id.
"""
from __future__ import annotations

import re

from nbformat import NotebookNode

from .notebooks import grade_id, is_manual, meta

# "## Part 2 · Title (7 points)", "### Part 1.1 — Title (3 points)", "## Part 5 — Title [auto, 6 pts]",
# "## 3 · Title" (not "# 00 · Title", the notebook's own title)
PART = re.compile(r"^##+\s*(?:Part\s+)?(\d+(?:\.\d+)*)\s*[—–·:-]\s*(.+?)\s*(?:[(\[][^)\]]*\b(?:points?|pts)\b[^)\]]*[)\]])?\s*$")
QUESTION = re.compile(r"^(?:\*\*|#+\s*)Question\s*(\d*)\s*\(")


def cell_labels(nb: NotebookNode) -> list[tuple[str | None, str | None]]:
    """For each cell, the (part, question) headings above it, or None where there is none yet."""
    labels, part, question = [], None, None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not meta(cell).get("grade"):
            for line in cell.source.splitlines():
                if found := PART.match(line.strip()):
                    part, question = f"Part {found[1]} · {found[2]}", None
                elif found := QUESTION.match(line.strip()):
                    question = f"Question {found[1]}" if found[1] else f"{part or 'Question'}, written question"
        labels.append((part, question))
    return labels


def part_names(nb: NotebookNode) -> dict[str, str]:
    """grade_id -> display name of every graded cell of a notebook, in notebook order."""
    names = {}
    for cell, (part, question) in zip(nb.cells, cell_labels(nb)):
        if meta(cell).get("grade"):
            name = question if is_manual(cell) and question else part
            names[grade_id(cell)] = name or grade_id(cell)
    return names
