"""Runs inside the student's kernel (sent as source by autograder.guard): what was tampered with?

It imports nothing from the course. `state` reports the identity of every watched callable, of
IPython's traceback display and of every hook around a cell; the grader takes it once as the kernel
starts (`snapshot`, before any student code: the watched modules are imported first) and compares
each later report with that one, outside the kernel. A replacement is a new object, whatever name or
file its code claims (a function compiled under a site-packages file name once passed for the
library's). What the snapshot could not hold (a module first imported by the notebook, a hook added
after the start, as matplotlib adds its own) is judged by where its code is: a callable counts as the
library's only if its code object is one of the code objects of the installed module it names.
"""
import functools
import importlib
import os
import sys

from IPython import get_ipython

WATCHED = {
    "builtins": ("abs", "all", "any", "bool", "float", "int", "isinstance", "issubclass", "len", "list",
                 "max", "min", "print", "range", "repr", "round", "set", "sorted", "str", "sum", "tuple",
                 "type", "zip", "getattr", "hasattr", "__import__", "exec", "eval", "compile", "id"),
    "sys": ("gettrace", "getprofile", "settrace", "setprofile"),
    "numpy": ("allclose", "isclose", "array_equal", "all", "any", "abs", "isnan", "isfinite", "asarray"),
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_equal", "assert_almost_equal",
                      "assert_array_almost_equal"),
    "pandas.testing": ("assert_frame_equal", "assert_series_equal", "assert_index_equal"),
    "math": ("isclose", "isnan", "isfinite"),
}
# Imported before the snapshot, so that their callables are judged by identity: what every
# assignment imports anyway (pandas is left to the notebook: half a second per kernel).
PRELOAD = ("numpy", "numpy.testing", "math")
BUILTIN_KINDS = ("builtin_function_or_method", "ufunc", "_ArrayFunctionDispatcher", "method-wrapper",
                 "wrapper_descriptor", "method_descriptor")


def _target(obj):
    """What a watched name holds: a bound method stands for its function (a new bound method is
    made at every attribute access)."""
    return getattr(obj, "__func__", obj)


def _code_of(member):
    """The code object behind a function, a method or a property's getter (None for anything else)."""
    return getattr(_target(getattr(member, "fget", member)), "__code__", None)


@functools.lru_cache(maxsize=None)   # for one report: the source is run afresh for each
def _codes(module) -> set:
    """The ids of every code object defined in `module`: its functions', its classes' methods', and
    those nested in them (lambdas, closures)."""
    found, todo = set(), []
    for value in list(vars(module).values()):
        members = list(vars(value).values()) if isinstance(value, type) else [value]
        for member in members:
            code = _code_of(member)
            if code is not None and getattr(_target(member), "__module__", None) == module.__name__:
                todo.append(code)
    while todo:
        code = todo.pop()
        if id(code) not in found:
            found.add(id(code))
            todo += [c for c in code.co_consts if type(c) is type(code)]
    return found


def _library_module(name):
    """The module `name` if it was loaded from a file of the installed Python, else None."""
    module = sys.modules.get(name or "")
    path = getattr(module, "__file__", None) or ""
    spec = getattr(module, "__spec__", None)
    installed = ("/lib/python" in path or "site-packages" in path) and os.path.isfile(path)
    return module if installed and spec is not None and getattr(spec, "origin", None) == path else None


def _own_codes(cls) -> list:
    return [code for code in map(_code_of, vars(cls).values()) if code is not None]


def _class_is_library(cls) -> bool:
    """Every class `cls` is made of is built in, or is the installed module's own: named there (by
    identity), or with all its functions' code defined there."""
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            continue
        module = _library_module(klass.__module__)
        if module is None:
            return False
        named, parts = module, klass.__qualname__.split(".")
        for part in parts if "<locals>" not in parts else []:
            named = getattr(named, part, None)
        if named is not klass and not all(id(code) in _codes(module) for code in _own_codes(klass)):
            return False
    return True


def is_library(obj) -> bool:
    """Built in, or code that is the installed package's own: a class of an installed module, or a
    function whose code object is one that module defines (not merely named after its file)."""
    obj = _target(obj)
    if type(obj).__name__ in BUILTIN_KINDS:
        return True
    if isinstance(obj, type) or not hasattr(obj, "__code__"):   # a class, or an instance: its class
        return _class_is_library(obj if isinstance(obj, type) else type(obj))
    module = _library_module(getattr(obj, "__module__", None))
    return module is not None and id(obj.__code__) in _codes(module)


def hooks(shell) -> list:
    """Everything IPython calls around a cell: input and AST transformers, event callbacks."""
    return [*shell.input_transformers_cleanup, *shell.input_transformers_post, *shell.ast_transformers,
            *(cb for callbacks in shell.events.callbacks.values() for cb in callbacks)]


def _watched() -> dict:
    """'module.name' -> what it holds now, for every watched name of a module already imported."""
    return {f"{module}.{name}": getattr(sys.modules[module], name)
            for module, names in WATCHED.items() if module in sys.modules
            for name in names if hasattr(sys.modules[module], name)}


def state(_=None) -> dict:
    """Now: `watched` name -> [identity, judged library's], the traceback display's the same,
    `hooks` [[identity, judged library's]], and whether a trace or profile function is set."""
    shell = get_ipython()
    watched = {name: [id(_target(obj)), is_library(obj)] for name, obj in _watched().items()}
    watched.update({f"{module} (the module)": [id(sys.modules[module]), True]
                    for module in WATCHED if module in sys.modules})
    watched["IPython's traceback display"] = [id(_target(shell.showtraceback)), is_library(shell.showtraceback)]
    return {"watched": watched, "hooks": [[id(_target(hook)), is_library(hook)] for hook in hooks(shell)],
            "traced": bool(sys.gettrace() or sys.getprofile())}


def snapshot(_=None) -> dict:
    """The state as the kernel starts, the watched modules imported first. The objects themselves are
    kept alive, so that no later object can take the identity of one that was freed."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    shell = get_ipython()
    shell._eds_kept = [*_watched().values(), *(sys.modules[module] for module in WATCHED if module in sys.modules),
                       _target(shell.showtraceback), *map(_target, hooks(shell))]
    return state()
