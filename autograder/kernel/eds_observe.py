"""What a hidden test reports from inside the student's kernel: observations, never verdicts.

A hidden test calls the student's code and hands what it saw to `observe`, which writes it as one
display output of the course's MIME type. Nothing here knows an expected value, a tolerance or a
label: the judge, in the grader's own process, compares the observations with those of the
reference run. So code that replaces this module, or prints a forged observation, can only report
values, and only the right values pass.

The grader puts this module into the kernel (as `eds_observe`) before each test cell; an author who
runs a source notebook by hand puts `autograder/kernel` on PYTHONPATH instead.
"""
import base64
import sys

MIME = "application/vnd.eds.observation+json"
MAX_STRING = 100_000


def observe(name, value):
    """Report `value` under `name` (plain data: see `encode`)."""
    from IPython.display import display
    display({MIME: {"name": str(name), "value": encode(value)}}, raw=True)


def observe_call(name, function, *args, **kwargs):
    """Call the student's function and report what it returned (or the name of what it raised) and
    its arguments after the call, so that an input changed in place shows. Returns the result."""
    try:
        result = function(*args, **kwargs)
    except Exception as exc:  # the student's error is an observation, not the test's
        observe(name, {"raised": type(exc).__name__, "args": list(args), "kwargs": kwargs})
        return None
    observe(name, {"returned": result, "args": list(args), "kwargs": kwargs})
    return result


def axes_data(ax):
    """The artists of a matplotlib Axes as plain data: lines, scatter offsets, labels, legend."""
    legend = ax.get_legend()
    return {
        "lines": [{"x": _floats(line.get_xdata()), "y": _floats(line.get_ydata()),
                   "joined": str(line.get_linestyle()) not in ("None", "", " "),
                   "markers": str(line.get_marker()) not in ("None", "", " ")} for line in ax.get_lines()],
        "scatter": [_floats(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets")],
        "xlabel": str(ax.get_xlabel()), "ylabel": str(ax.get_ylabel()),
        "legend": [str(t.get_text()) for t in legend.get_texts()] if legend is not None else [],
    }


def _floats(values):
    import numpy as np
    return np.array(np.asarray(values, dtype=float))


def encode(value):
    """JSON-ready plain data. Exact types only: a subclass, or an object that claims to be a number
    or an array, is reported as unobservable rather than trusted."""
    kind = type(value)
    if value is None or kind in (bool, str):
        return value if kind is not str else value[:MAX_STRING]
    if kind is int:
        return value if abs(value) < 2 ** 63 else {"$unobservable": "int too large"}
    if kind is float:
        return value if value == value and abs(value) != float("inf") else {"$float": repr(value)}
    if kind is list:
        return [encode(v) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v) for v in value]}
    if kind is dict:
        return {"$dict": [[str(k), encode(v)] for k, v in value.items()]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray:
        return _array(numpy, value)
    if numpy is not None and kind in (numpy.float64, numpy.float32, numpy.int64, numpy.int32, numpy.bool_):
        return encode(value.item())
    pandas = sys.modules.get("pandas")
    if pandas is not None and kind in (pandas.DataFrame, pandas.Series):
        return _table(value)
    return {"$unobservable": f"{kind.__module__}.{kind.__qualname__}"[:200]}


def _array(numpy, array):
    if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
        return {"$array_of": [encode(v) for v in array.ravel().tolist()], "shape": list(array.shape)}
    data = numpy.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {"$array": {"dtype": data.dtype.str, "shape": list(array.shape),
                       "data": base64.b64encode(data.tobytes()).decode("ascii")}}


def _table(table):
    """A DataFrame or Series as its index, its column names and one plain column each."""
    frame = table.to_frame() if table.ndim == 1 else table
    columns = {str(name): _column(frame[name]) for name in frame.columns}
    return {"$table": {"index": encode(_column(frame.index)), "columns": encode(list(columns)),
                       "data": encode(columns), "series": table.ndim == 1}}


def _column(values):
    """Numbers stay an array; anything else becomes a list that `encode` judges item by item."""
    import numpy as np
    array = np.asarray(values)
    return array if array.dtype.kind in "biuf" else array.tolist()
