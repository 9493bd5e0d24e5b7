"""Mutants: plausible wrong answers that each graded test cell must tell from the right one.

A mutant's code is appended to one answer cell of the solution, so it replaces what it redefines.
Mutants that patch different cells and target disjoint test cells can share one notebook, which is
how the suite grades many of them in few executions.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import notebooks as nbs


@dataclass(frozen=True)
class Mutant:
    name: str
    cell: str
    kills: tuple[str, ...]
    hint: str
    code: str


def load(path: Path) -> list[Mutant]:
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text())["mutant"]
    return [Mutant(e["name"], e["cell"], tuple(e["kills"]), e.get("hint", ""), e["code"])
            for e in entries]


def batches(mutants: list[Mutant]) -> list[list[Mutant]]:
    """Greedy grouping: no two mutants in a batch patch the same cell or target the same test."""
    groups: list[list[Mutant]] = []
    for mutant in mutants:
        for group in groups:
            cells = {m.cell for m in group}
            targets = {t for m in group for t in m.kills}
            if mutant.cell not in cells and not targets & set(mutant.kills):
                group.append(mutant)
                break
        else:
            groups.append([mutant])
    return groups


def apply(solution_nb, mutants: list[Mutant]):
    """A copy of the solution notebook with each mutant's code appended to its answer cell."""
    nb = copy.deepcopy(solution_nb)
    cells = nbs.cells_by_id(nb)
    for mutant in mutants:
        if mutant.cell not in cells or not nbs.is_answer(cells[mutant.cell]):
            raise KeyError(f"mutant {mutant.name}: {mutant.cell} is not an answer cell")
        cells[mutant.cell].source += "\n\n# mutant: " + mutant.name + "\n" + mutant.code.strip() + "\n"
    return nb
