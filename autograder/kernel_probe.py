"""Runs inside the student's kernel (sent as source by autograder.guard): what was tampered with?

It imports nothing from the course and judges a callable by where its code lives: library code
lives in the installed packages, a replacement written in the notebook does not.
"""
import sys

from IPython import get_ipython

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
    """Built in, a class, a ufunc, or code from an installed package: not written in the notebook."""
    if isinstance(obj, type) or type(obj).__name__ in ("builtin_function_or_method", "ufunc",
                                                      "_ArrayFunctionDispatcher", "method-wrapper"):
        return True
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    if code is not None:
        filename = code.co_filename or ""
    else:  # an instance (an AST transformer, a callable object): judge its class's module
        filename = getattr(sys.modules.get(type(obj).__module__), "__file__", "") or ""
    return "/lib/python" in filename or "site-packages" in filename


def hooks(shell) -> list:
    """Everything IPython calls around a cell: input and AST transformers, event callbacks."""
    return [*shell.input_transformers_cleanup, *shell.input_transformers_post, *shell.ast_transformers,
            *(cb for callbacks in shell.events.callbacks.values() for cb in callbacks)]


def probe(_=None) -> list:
    shell = get_ipython()
    found = [f"{module}.{name} was replaced"
             for module, names in WATCHED.items() if module in sys.modules
             for name in names
             if hasattr(sys.modules[module], name) and not is_library(getattr(sys.modules[module], name))]
    if sys.gettrace() or sys.getprofile():
        found.append("a trace or profile function was set")
    if not is_library(shell.showtraceback):
        found.append("IPython's traceback display was replaced")
    if not all(is_library(hook) for hook in hooks(shell)):
        found.append("input or AST transformers, or event callbacks, were added by the notebook")
    return found
