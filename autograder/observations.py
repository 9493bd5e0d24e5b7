"""Reading what a test cell observed, strictly: the judge's only input from the student's kernel.

Anything in a kernel's outputs may be hostile. An observation is accepted only in the exact shape
`eds_observe.encode` writes, within caps on size, depth and count; arrays are rebuilt from bytes
with a dtype from a short list. Nothing is unpickled, evaluated or called, so an object with a
permissive `__eq__`, `__array__` or `__float__` cannot reach a comparison: JSON carries none.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from nbformat import NotebookNode

from .kernel.eds_observe import MIME

MAX_CELL_BYTES = 16 * 1024**2   # all observations of one test cell, as JSON
MAX_NODES = 2_000_000           # values in one cell's observations, array elements included
MAX_DEPTH = 32
MAX_OBSERVATIONS = 64           # per test cell
DTYPES = {"<f8", "<f4", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}
SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class Unreadable(ValueError):
    """An output that claims to be an observation and is not one."""


@dataclass(frozen=True)
class Unobservable:
    """What the student's code returned that is not plain data (its type's name, for the message)."""
    type_name: str


@dataclass(frozen=True)
class Items:
    """An array of strings or other non-numbers: its shape and its items in order."""
    shape: tuple
    items: list


@dataclass(frozen=True)
class Table:
    """A pandas DataFrame or Series as plain data."""
    index: Any
    columns: list
    data: dict
    series: bool


class Budget:
    """Counts values decoded, so that a huge or wide observation stops early."""

    def __init__(self, limit: int = MAX_NODES):
        self.left = limit

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise Unreadable(f"the observations hold more than {MAX_NODES} values")


def decode(node: Any, budget: Budget | None = None, depth: int = 0) -> Any:
    """Plain data from one encoded value; Unreadable for anything else."""
    budget = budget or Budget()
    if depth > MAX_DEPTH:
        raise Unreadable(f"an observation is nested more than {MAX_DEPTH} levels deep")
    budget.take()
    kind = type(node)
    if node is None or kind in (bool, int, float, str):
        return node
    if kind is list:
        return [decode(v, budget, depth + 1) for v in node]
    if kind is dict and len(node) in (1, 2):
        return _tagged(node, budget, depth)
    raise Unreadable(f"an observation holds a value of an unknown form ({kind.__name__})")


def _tagged(node: dict, budget: Budget, depth: int) -> Any:
    keys = set(node)
    if keys == {"$float"} and node["$float"] in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[node["$float"]]
    if keys == {"$tuple"} and type(node["$tuple"]) is list:
        return tuple(decode(v, budget, depth + 1) for v in node["$tuple"])
    if keys == {"$dict"} and type(node["$dict"]) is list:
        return _dict(node["$dict"], budget, depth)
    if keys == {"$array"} and type(node["$array"]) is dict:
        return _array(node["$array"], budget)
    if keys == {"$array_of", "shape"}:
        return Items(_shape(node["shape"]), decode(node["$array_of"], budget, depth + 1))
    if keys == {"$table"} and type(node["$table"]) is dict:
        return _table(node["$table"], budget, depth)
    if keys == {"$unobservable"} and type(node["$unobservable"]) is str:
        return Unobservable(node["$unobservable"][:200])
    raise Unreadable(f"an observation has an unknown tag {sorted(keys)[:2]}")


def _dict(pairs: list, budget: Budget, depth: int) -> dict:
    if not all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in pairs):
        raise Unreadable("an observed dict is malformed")
    return {key: decode(value, budget, depth + 1) for key, value in pairs}


def _shape(shape: Any) -> tuple:
    if type(shape) is not list or len(shape) > 8 or not all(type(n) is int and 0 <= n for n in shape):
        raise Unreadable("an observed array has a malformed shape")
    return tuple(shape)


def _array(spec: dict, budget: Budget) -> np.ndarray:
    if set(spec) != {"dtype", "shape", "data"} or spec["dtype"] not in DTYPES or type(spec["data"]) is not str:
        raise Unreadable("an observed array is malformed")
    shape = _shape(spec["shape"])
    budget.take(math.prod(shape))
    try:
        raw = base64.b64decode(spec["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unreadable("an observed array's data is not base64") from exc
    dtype = np.dtype(spec["dtype"])
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise Unreadable("an observed array's data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _table(spec: dict, budget: Budget, depth: int) -> Table:
    if set(spec) != {"index", "columns", "data", "series"} or type(spec["series"]) is not bool:
        raise Unreadable("an observed table is malformed")
    columns, data = decode(spec["columns"], budget, depth + 1), decode(spec["data"], budget, depth + 1)
    if type(columns) is not list or type(data) is not dict or list(data) != columns:
        raise Unreadable("an observed table's columns do not match its data")
    return Table(decode(spec["index"], budget, depth + 1), columns, data, spec["series"])


def cell_observations(cell: NotebookNode) -> tuple[dict[str, Any], list[str]]:
    """The encoded observations of a test cell by name, and what was wrong with the others.

    A name reported twice counts as not reported: one of the two did not come from the test."""
    found: dict[str, list] = {}
    problems: list[str] = []
    size = 0
    for output in cell.get("outputs", []):
        payload = output.get("data", {}).get(MIME) if output.get("output_type") == "display_data" else None
        if payload is None:
            continue
        try:  # as plain JSON again: nbformat's dicts are a subclass, and a subclass is never trusted
            text = json.dumps(payload)
            payload = json.loads(text)
        except (RecursionError, TypeError, ValueError):
            return {}, ["an observation is nested too deeply to be read"]
        size += len(text)
        if size > MAX_CELL_BYTES or sum(map(len, found.values())) >= MAX_OBSERVATIONS:
            return {}, [f"the test's observations are larger than the grader reads ({MAX_CELL_BYTES // 1024**2} MiB, "
                        f"{MAX_OBSERVATIONS} observations)"]
        if type(payload) is not dict or set(payload) != {"name", "value"} or type(payload["name"]) is not str:
            problems.append("an output claims to be an observation but is malformed")
            continue
        found.setdefault(payload["name"][:100], []).append(payload["value"])
    twice = sorted(name for name, values in found.items() if len(values) > 1)
    problems += [f"{name!r} was reported {len(found[name])} times" for name in twice]
    return {name: values[0] for name, values in found.items() if name not in twice}, problems
