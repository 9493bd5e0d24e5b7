"""How an observation is judged against the reference run's: the checks a source notebook declares.

A test cell declares its checks in its metadata (`eds.checks`, one per observation name); an
observation with no declared check is compared by `equal` with the default tolerances, which only
absorb the last digits that differ between machines. Each check answers with None (passed) or one
line saying what differs, for the student's feedback.

- equal: same structure, same types; numbers within `rtol`/`atol`; NaN only where NaN is expected.
- set: a list whose items equal the expected items in any order.
- nonempty: a non-empty string or list (an axis label, a legend).
- at_least: a number, or a list's length with `"of": "length"`, not below `min`.
- at_most: a number not above `max` (a loss, an error).
- artists: every line and scatter of the reference axes is drawn, with the same data, as points or
  as a line as in the reference (extra artists are allowed).
- accuracy, balanced_accuracy, r2, adjusted_rand: the observed predictions scored (scikit-learn's
  metrics) against `labels`, the name of another observation of the cell whose value is taken from
  the reference run, never from the kernel; the score must reach `min`. adjusted_rand compares two
  clusterings, so it does not care which number names which cluster.
- matched_correlation: estimated sources (columns) matched one to one with the true ones in
  `labels` (scipy's assignment on |correlation|); every true source must reach `min`.
- threshold_accuracy: the best accuracy of a single threshold on a 1-D score against binary
  `labels`, in either orientation: whether one cut separates the classes.

`up_to_sign` ("rows", "columns" or "whole") lets `equal` accept each row, column or the whole of
every array with the opposite sign, as eigenvectors and singular vectors are defined only up to it.
"""
from __future__ import annotations

import importlib
import re
from typing import Any, Callable, Iterable

import numpy as np

from .observations import Items, Table, Unobservable

DEFAULT_RTOL, DEFAULT_ATOL = 1e-9, 1e-12
# The libraries some checks score with. The grader imports them once before its workers fork
# (preload): imported in each worker instead, sklearn.metrics alone took 1.3-2.2 s of every
# submission's grading (benchmarks/RESULTS.md).
LIBRARIES = {"accuracy": "sklearn.metrics", "balanced_accuracy": "sklearn.metrics", "r2": "sklearn.metrics",
             "adjusted_rand": "sklearn.metrics", "matched_correlation": "scipy.optimize"}
CHECKS = ("equal", "set", "nonempty", "at_least", "at_most", "artists", "accuracy", "balanced_accuracy", "r2",
          "adjusted_rand", "matched_correlation", "threshold_accuracy")


def short(value: Any, limit: int = 160) -> str:
    """A value as a student reads it in a message, cut to one line."""
    if isinstance(value, np.ndarray):
        with np.printoptions(threshold=8, edgeitems=3, precision=6, linewidth=10_000):
            text = f"array of shape {value.shape}: {value}"
    elif isinstance(value, Unobservable):
        text = f"an object of type {value.type_name} (not plain data)"
    elif isinstance(value, Table):
        text = f"a table with columns {value.columns}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_number(x: Any) -> bool:
    return type(x) in (int, float) or (isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf")


def place(at: str) -> str:
    """Where in an observation a difference is, in words: ' in argument 1 after the call, item [2]'."""
    if not at:
        return ""
    match = re.match(r"^(returned|args\[(\d+)\]|kwargs)(.*)$", at)
    if not match:
        return f" at {at}"
    head, number, rest = match.groups()
    words = {"returned": "the return value", "kwargs": "the keyword arguments after the call"}.get(
        head, f"argument {int(number or 0) + 1} after the call")
    return f" in {words}" + (f", item {rest}" if rest else "")


def equal(got: Any, want: Any, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, at: str = "") -> str | None:
    """The first difference between `got` and `want`, or None."""
    where = place(at)
    if isinstance(got, Unobservable):
        return f"got {short(got)}{where}"
    if _is_number(want) and _is_number(got):
        g, w = float(got), float(want)
        if (np.isnan(w) and np.isnan(g)) or np.isclose(g, w, rtol=rtol, atol=atol):
            return None
        return f"got {short(g)}{where}, expected {short(w)}"
    if isinstance(want, np.ndarray):
        return _arrays(got, want, rtol, atol, where)
    if type(got) is not type(want):
        return f"got {short(got)}{where}, expected a {type(want).__name__}: {short(want)}"
    if isinstance(want, (list, tuple)):
        if len(got) != len(want):
            return f"got {len(got)} items{where}, expected {len(want)}: {short(got)}, expected {short(want)}"
        return _first(equal(g, w, rtol, atol, f"{at}[{i}]") for i, (g, w) in enumerate(zip(got, want)))
    if isinstance(want, dict):
        if "raised" in got and "raised" not in want:
            return f"raised {got['raised']}{where}"
        if set(got) != set(want):
            return f"got the keys {sorted(got)}{where}, expected {sorted(want)}"
        return _first(equal(got[k], want[k], rtol, atol, f"{at}.{k}" if at else k) for k in want)
    if isinstance(want, (Table, Items)):
        return _first(equal(getattr(got, f), getattr(want, f), rtol, atol, f"{at}.{f}" if at else f)
                      for f in want.__dataclass_fields__)
    return None if got == want else f"got {short(got)}{where}, expected {short(want)}"


def _arrays(got: Any, want: np.ndarray, rtol: float, atol: float, where: str) -> str | None:
    if type(got) is list:  # a list of numbers where the contract asks for an array is taken as one
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            pass
    if not isinstance(got, np.ndarray):
        return f"got {short(got)}{where}, expected a NumPy {short(want)}"
    if got.shape != want.shape:
        return f"got an array of shape {got.shape}{where}, expected shape {want.shape}"
    if (got.dtype.kind == "b") != (want.dtype.kind == "b"):
        return f"got an array of {got.dtype}{where}, expected {want.dtype}"
    g, w = got.astype(float), want.astype(float)
    close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    return (f"{int((~close).sum())} of {close.size} values differ{where}; at index {first}: got {g[first]:.6g}, "
            f"expected {w[first]:.6g} (tolerance rtol={rtol:g}, atol={atol:g})")


def _first(differences) -> str | None:
    return next((d for d in differences if d), None)


def as_set(got: Any, want: Any, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, **_) -> str | None:
    if type(got) is not list or len(got) != len(want):
        return f"got {short(got)}, expected {len(want)} items in any order: {short(want)}"
    left = list(got)
    for item in want:
        match = next((i for i, g in enumerate(left) if equal(g, item, rtol, atol) is None), None)
        if match is None:
            return f"{short(item)} is missing from {short(got)}"
        left.pop(match)
    return None


def nonempty(got: Any, want: Any = None, **_) -> str | None:
    return None if type(got) in (str, list) and len(got) > 0 and str(got).strip() else f"got {short(got)}, expected something"


def at_least(got: Any, want: Any = None, min: float = 0.0, of: str = "value", **_) -> str | None:
    value = len(got) if of == "length" and type(got) in (list, str) else got
    if _is_number(value) and float(value) >= min:
        return None
    return f"got {short(got)}, expected {'a length' if of == 'length' else 'a value'} of at least {min:g}"


def at_most(got: Any, want: Any = None, max: float = 0.0, **_) -> str | None:
    if _is_number(got) and float(got) <= max:
        return None
    return f"got {short(got)}, expected a value of at most {max:g}"


def metric(name: str) -> Callable[..., str | None]:
    """A check that scores predictions against the reference's labels with scikit-learn."""
    def check(got: Any, want: Any = None, min: float = 0.0, labels: Any = None, **_) -> str | None:
        from sklearn import metrics
        truth = np.asarray(labels)
        try:
            predicted = np.asarray(got)
            if predicted.shape != truth.shape or predicted.dtype.kind not in "biuf" or not np.isfinite(predicted).all():
                raise ValueError
            score = float(getattr(metrics, f"{name}_score")(truth, predicted))
        except (TypeError, ValueError):
            return f"got {short(got)}, expected {truth.size} numeric predictions"
        return None if score >= min else f"{name.replace('_', ' ')} {score:.3f}, expected at least {min:g}"
    return check


def _numeric(got: Any, truth: np.ndarray, ndim: int) -> np.ndarray:
    """The student's values as a finite float array shaped like `truth`, or ValueError."""
    values = np.asarray(got) if isinstance(got, (np.ndarray, list)) else None
    if values is None or values.dtype.kind not in "biuf" or values.shape != truth.shape or values.ndim != ndim \
            or not np.isfinite(values).all():
        raise ValueError
    return values.astype(float)


def matched_correlation(got: Any, want: Any = None, min: float = 0.0, labels: Any = None, **_) -> str | None:
    from scipy.optimize import linear_sum_assignment
    truth = np.asarray(labels, dtype=float)
    try:
        estimates = _numeric(got, truth, 2)
    except ValueError:
        return f"got {short(got)}, expected finite estimates of shape {truth.shape}"
    k = truth.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.abs(np.corrcoef(estimates.T, truth.T)[:k, k:]))
    rows, cols = linear_sum_assignment(-corr)
    best = np.empty(k)
    best[cols] = corr[rows, cols]
    if np.all(best >= min):
        return None
    return (f"matched one to one, the |correlation| of each true source with your estimates is "
            f"{np.round(best, 3).tolist()}, expected at least {min:g} for every source")


def threshold_accuracy(got: Any, want: Any = None, min: float = 0.0, labels: Any = None, **_) -> str | None:
    truth = np.asarray(labels)
    try:
        score = _numeric(got, truth, 1)
    except ValueError:
        return f"got {short(got)}, expected {truth.size} finite numbers"
    ys = truth[np.argsort(score, kind="stable")] == truth.max()
    below_negative = np.concatenate([[0], np.cumsum(~ys)])
    above_positive = ys.sum() - np.concatenate([[0], np.cumsum(ys)])
    accuracy = (below_negative + above_positive) / ys.size
    best = float(max(accuracy.max(), (1 - accuracy).max()))
    if best >= min:
        return None
    return f"the best single threshold on these values classifies {best:.3f} correctly, expected at least {min:g}"


def aligned_signs(got: Any, want: Any, axis: str) -> Any:
    """`got` with each row, column or whole array flipped to the sign of its twin in `want`."""
    if isinstance(want, np.ndarray) and isinstance(got, np.ndarray) and got.shape == want.shape \
            and got.dtype.kind == "f" and want.dtype.kind == "f":
        if axis == "whole" or got.ndim == 1:
            return got * (-1.0 if np.sum(got * want) < 0 else 1.0)
        if got.ndim == 2:
            along = 1 if axis == "rows" else 0
            signs = np.where(np.sum(got * want, axis=along, keepdims=True) < 0, -1.0, 1.0)
            return got * signs
        return got
    if type(got) is type(want) and isinstance(want, (list, tuple)) and len(got) == len(want):
        return type(want)(aligned_signs(g, w, axis) for g, w in zip(got, want))
    if type(got) is dict and type(want) is dict:
        return {k: aligned_signs(v, want[k], axis) if k in want else v for k, v in got.items()}
    return got


def _kind(line: dict) -> str:
    return "line" if line.get("joined") else "points"


def artists(got: Any, want: Any, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, **_) -> str | None:
    """Each reference artist has a twin in the student's axes (same data, same points-or-line)."""
    if type(got) is not dict or not {"lines", "scatter"} <= set(got):
        return f"got {short(got)}, expected the artists of a matplotlib Axes"
    drawn = [(_kind(line), line.get("x"), line.get("y")) for line in got["lines"] if type(line) is dict]
    drawn += [("points", xy[:, 0], xy[:, 1]) for xy in got["scatter"]
              if isinstance(xy, np.ndarray) and xy.ndim == 2 and xy.shape[1] == 2]
    wanted = [(_kind(line), line["x"], line["y"]) for line in want["lines"]]
    wanted += [("points", xy[:, 0], xy[:, 1]) for xy in want["scatter"] if xy.size]

    def same(a, b) -> bool:
        return a[0] == b[0] and equal(a[1], b[1], rtol, atol) is None and equal(a[2], b[2], rtol, atol) is None
    missing = [w for w in wanted if not any(same(d, w) for d in drawn)]
    if not missing:
        return None
    kind, _, y = missing[0]
    return f"no {'line' if kind == 'line' else 'set of separate points (markers, no joining line)'} " \
           f"shows the {y.size} values {short(y, 80)}"


JUDGES: dict[str, Callable[..., str | None]] = {
    "equal": equal, "set": as_set, "nonempty": nonempty, "at_least": at_least, "at_most": at_most,
    "artists": artists, "accuracy": metric("accuracy"), "balanced_accuracy": metric("balanced_accuracy"),
    "r2": metric("r2"), "adjusted_rand": metric("adjusted_rand"),
    "matched_correlation": matched_correlation, "threshold_accuracy": threshold_accuracy}


def preload(kinds: Iterable[str]) -> None:
    """Import what the checks of these kinds score with, so that forked workers inherit it."""
    for module in sorted({LIBRARIES[kind] for kind in kinds if kind in LIBRARIES}):
        importlib.import_module(module)


def judge(got: Any, want: Any, spec: dict, reference: dict | None = None) -> str | None:
    """Apply the check `spec` declares (default `equal`) to one observation; `reference` holds the
    reference run's observations of the cell, where a metric finds its labels."""
    options = {k: v for k, v in spec.items() if k in ("rtol", "atol", "min", "max", "of")}
    if "labels" in spec:
        options["labels"] = (reference or {}).get(spec["labels"])
    if "up_to_sign" in spec:
        got = aligned_signs(got, want, spec["up_to_sign"])
    return JUDGES[spec.get("check", "equal")](got, want, **options)


def relative(spec: dict) -> bool:
    """Whether the check compares with the reference's value (rather than with a fixed bound)."""
    return spec.get("check", "equal") in ("equal", "set", "artists")
