"""Repairing what would make nbgrader fail on a notebook, before nbgrader sees it.

nbgrader trusts a submission's grading metadata and text: an answer cell given a test's metadata
crashes its autograde (it looks for a test that the gradebook does not have), and a cell that
mentions its hidden-test delimiters crashes the feedback of the whole class. A student would read
"unknown nbgrader error", or get no feedback page at all. Here each such cell is put back the way
the course wrote it, or, when that would change what the student's code does, refused with the
reason. Every repair is said in a note.

`repaired` is intake's whole repair (with normalise.py's); `RestoreCourseShape` applies it inside
nbgrader's own sanitize pipeline too, so that the formgrader's Autograde button and `nbgrader
autograde` grade a tampered notebook as `make grade` does.
"""
from __future__ import annotations

import io
import tokenize

from pathlib import Path

from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from . import notebooks as nbs
from .normalise import normalise

# What nbgrader's ClearHiddenTests looks for anywhere in a line of any cell (its default delimiters).
HIDDEN_DELIMITERS = tuple(marker.removeprefix("### ") for marker in nbs.HIDDEN_MARKERS)


def restore_grading_metadata(nb: NotebookNode, released: NotebookNode) -> list[str]:
    """The course's grading metadata back on each cell the assignment has (an answer given `grade`
    and `points`, a test made an answer), and metadata that is not even a mapping dropped."""
    originals, changed = nbs.cells_by_id(released), []
    for cell in nb.cells:
        if not isinstance(cell.get("metadata", {}).get("nbgrader", {}), dict):
            cell.metadata.pop("nbgrader")
            changed.append("(unreadable)")
            continue
        gid = nbs.grade_id(cell)
        if gid in originals and nbs.meta(cell) != nbs.meta(originals[gid]):
            cell.metadata["nbgrader"] = NotebookNode(dict(nbs.meta(originals[gid])))
            changed.append(gid)
    return [f"grading metadata was changed on cells {', '.join(changed)}; the assignment's was put back "
            "before grading"] if changed else []


def neutralise_hidden_delimiters(nb: NotebookNode) -> tuple[list[str], str]:
    """The hidden-test delimiters lowercased wherever a student wrote them: in text, and in the
    comments of code (which changes nothing the code does). Test cells are left alone, since nbgrader
    puts the course's back. Returns the notes, and the reason to refuse the notebook when a
    delimiter is in code itself (a string, say), where changing it would change the program."""
    fixed = []
    for index, cell in enumerate(nb.cells):
        if nbs.is_test(cell) or not _has_delimiter(cell.source):
            continue
        name = nbs.grade_id(cell) or f"number {index + 1}"
        source = _in_comments(cell.source) if cell.cell_type == "code" else _lowered(cell.source)
        if source is None:
            return [], (f"cell {name} contains '{HIDDEN_DELIMITERS[0]}' or '{HIDDEN_DELIMITERS[1]}' in its "
                        "code, words the grader reserves for its hidden tests: reword it and submit again")
        cell.source = source
        fixed.append(name)
    return [f"the words {' / '.join(HIDDEN_DELIMITERS)} were put in lower case in cells {', '.join(fixed)} "
            "(the grader reserves them)"] if fixed else [], ""


def _has_delimiter(text: str) -> bool:
    return any(delimiter in text for delimiter in HIDDEN_DELIMITERS)


def _lowered(text: str) -> str:
    for delimiter in HIDDEN_DELIMITERS:
        text = text.replace(delimiter, delimiter.lower())
    return text


def _in_comments(source: str) -> str | None:
    """The code with the delimiters lowercased in its comments; None if one is anywhere else, or if
    the code cannot be split into tokens (then what is a comment is not known)."""
    lines = source.splitlines(keepends=True)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type == tokenize.COMMENT:
            (row, col), end = token.start, token.start[1] + len(token.string)
            lines[row - 1] = lines[row - 1][:col] + _lowered(token.string) + lines[row - 1][end:]
    fixed = "".join(lines)
    return None if _has_delimiter(fixed) else fixed


def repaired(nb: NotebookNode, released: NotebookNode) -> tuple[NotebookNode, list[str], str]:
    """The notebook in the course's shape, what was changed, and why it cannot be graded (or "")."""
    notes = restore_grading_metadata(nb, released)
    nb, changes = normalise(nb, released)
    fixed, problem = neutralise_hidden_delimiters(nb)
    return nb, notes + changes + fixed, problem


class Unrepairable(ValueError):
    """A submission nbgrader must not grade: the reason is the student's to read."""


class RestoreCourseShape(NbGraderPreprocessor):
    """The repairs of `repaired`, as a step of nbgrader's sanitize pipeline: before DeduplicateIds,
    which would empty the metadata of a second copy of a test and so crash OverwriteCells."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        released = Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"]))
        nb, notes, problem = repaired(nb, nbs.read(released / f"{info['notebook']}.ipynb"))
        if problem:
            raise Unrepairable(problem)
        for note in notes:
            self.log.info("%s", note)
        return nb, resources
