"""Runs inside the student's kernel (sent as source by autograder.guard): what was tampered with?

It imports nothing from the course and judges a callable by where its code lives: library code
lives in the installed packages, a replacement written in the notebook does not.
"""
import sys

WATCHED = {
    "builtins": ("abs", "all", "any", "bool", "float", "int", "isinstance", "issubclass", "len", "list",
                 "max", "min", "print", "range", "repr", "round", "set", "sorted", "str", "sum", "tuple",
                 "type", "zip", "getattr", "hasattr", "__import__"),
    "numpy": ("allclose", "isclose", "array_equal", "all", "any", "abs", "isnan", "isfinite", "asarray"),
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_equal", "assert_almost_equal",
                      "assert_array_almost_equal"),
    "pandas.testing": ("assert_frame_equal", "assert_series_equal", "assert_index_equal"),
    "math": ("isclose", "isnan", "isfinite"),
}


def is_library(obj) -> bool:
    """Built in, a class, a ufunc, or Python code from an installed package: not the notebook's."""
    if isinstance(obj, type) or type(obj).__name__ in ("builtin_function_or_method", "ufunc",
                                                      "_ArrayFunctionDispatcher"):
        return True
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    filename = getattr(code, "co_filename", "") or ""
    return "/lib/python" in filename or "site-packages" in filename


def hooks(shell) -> tuple[int, int]:
    """How many input transformers and event callbacks IPython has: more later means added ones."""
    return (len(shell.input_transformers_cleanup) + len(shell.input_transformers_post),
            sum(len(callbacks) for callbacks in shell.events.callbacks.values()))


def baseline(_=None):
    """The hook counts before any of the student's code has run."""
    return hooks(get_ipython())  # noqa: F821 (defined in the kernel)


def probe(baseline):
    shell = get_ipython()  # noqa: F821 (defined in the kernel)
    found = [f"{module}.{name} was replaced"
             for module, names in WATCHED.items() if module in sys.modules
             for name in names
             if hasattr(sys.modules[module], name) and not is_library(getattr(sys.modules[module], name))]
    if sys.gettrace() or sys.getprofile():
        found.append("a trace or profile function was set")
    if not is_library(shell.showtraceback):
        found.append("IPython's traceback display was replaced")
    if shell.ast_transformers:
        found.append("AST transformers were added")
    if baseline is not None and tuple(hooks(shell)) != tuple(baseline):
        found.append("input transformers or event callbacks were added")
    return found
