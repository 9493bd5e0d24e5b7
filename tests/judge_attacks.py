"""Submissions that try to forge a judged grade from inside the kernel, each with wrong answers
(double returns x, mean_of the sum) plus the attack, or one wrong answer written to forge its
test: each scores only what its right answers earn, and leaks no hidden test.

The toy's hidden parts observe `double(np.arange(5))` and `mean_of([1.0, 2.0, 6.0])`; a forgery can
only report values, so none of these gets a point however completely it owns the kernel.
"""
from __future__ import annotations

from hostile import SECRETS, Case, answer, mean_if_blocked, tamper

MIME = "application/vnd.eds.observation+json"
FORGED_MEAN = ("from IPython.display import display\n"
               f"display({{'{MIME}': {{'name': 'mean', 'value': {{'$dict': [['returned', 3.0], "
               "['args', [[1.0, 2.0, 6.0]]], ['kwargs', {'$dict': []}]]}}}}, raw=True)\n")
ALWAYS_EQUAL = ("class Anything(float):\n    def __eq__(self, other):\n        return True\n"
                "    __ne__ = lambda self, other: False\n    __array__ = lambda self, *a, **k: __import__('numpy').arange(5) * 2\n")
SNEAKY_ARRAY = ("import numpy as np\nclass Sneaky(np.ndarray):\n    def __eq__(self, other):\n"
                "        return np.ones(self.shape, bool)\n")

ATTACKS = [
    Case("shadow-builtins-in-user-namespace", tamper(
        "exec = eval = print = isinstance = len = lambda *a, **k: None\n__import__ = lambda *a, **k: None"),
        "graded", 0),
    Case("replace-run-cell", tamper("get_ipython().run_cell = lambda *a, **k: None"), "graded", 0),
    Case("replace-run-code", tamper("async def run_code(*a, **k):\n    return False\n"
                                    "get_ipython().run_code = run_code"), "graded", 0),
    Case("replace-run-ast-nodes", tamper("async def nodes(*a, **k):\n    return False\n"
                                         "get_ipython().run_ast_nodes = nodes"), "graded", 0),
    Case("replace-transform-cell", tamper("get_ipython().transform_cell = lambda raw: 'pass\\n'"), "graded", 0),
    Case("replace-do-execute", tamper(
        "kernel = get_ipython().kernel\nasync def do_execute(*a, **k):\n"
        "    return {'status': 'ok', 'execution_count': 1, 'payload': [], 'user_expressions': {}}\n"
        "kernel.do_execute = do_execute"), "graded", 0),
    Case("replace-compile", tamper("import builtins\nbuiltins.compile = lambda *a, **k: compile('pass', 'x', 'exec')"),
         "graded", 0),
    Case("spoofed-module-transformer", tamper(
        "import ast\nclass Empty(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
        "        node.body = []\n        return node\nEmpty.__module__ = 'ast'\nEmpty.__qualname__ = 'NodeVisitor'\n"
        "get_ipython().ast_transformers.append(Empty())"), "graded", 0),
    Case("spoofed-filename-transformer", tamper(
        "code = compile('def strip(lines):\\n    return []\\n', '/usr/lib/python3.11/ast.py', 'exec')\n"
        "space = {}\nexec(code, space)\nget_ipython().input_transformers_cleanup.append(space['strip'])"), "graded", 0),
    Case("objects-equal-to-everything", answer("answer_mean", ALWAYS_EQUAL + "def mean_of(values):\n"
                                               "    return Anything(0.0)\n"), "graded", 3),
    Case("numpy-subclass-equal-to-everything", answer("answer_double", SNEAKY_ARRAY + "def double(x):\n"
                                                      "    return np.zeros(5).view(Sneaky)\n"), "graded", 2),
    Case("reads-the-callers-frame", answer("answer_mean", "import sys\ndef mean_of(values):\n"
         "    frame = sys._getframe(1)\n    found = [v for f in (frame, frame.f_back) if f\n"
         "             for v in f.f_locals.values() if isinstance(v, float)]\n"
         "    return found[-1] if found else 0.0\n"), "graded", 3),
    Case("prints-the-hidden-test-with-linecache", answer("answer_mean", "import linecache, sys\ndef mean_of(values):\n"
         "    for depth in range(1, 6):\n        try:\n            frame = sys._getframe(depth)\n"
         "        except ValueError:\n            break\n"
         "        print(''.join(linecache.getlines(frame.f_code.co_filename)))\n    return 0.0\n"), "graded", 3),
    Case("forged-observation-from-an-answer-cell", tamper(FORGED_MEAN), "graded", 0),
    Case("forged-observation-then-interrupt", answer("answer_mean", "def mean_of(values):\n"
         + "".join(f"    {line}\n" for line in FORGED_MEAN.replace("3.0", "2.0").splitlines())
         + "    raise KeyboardInterrupt\n"), "graded", 3),
    Case("deeply-nested-result", answer("answer_mean", "def mean_of(values):\n    nest = 3.0\n"
         "    for _ in range(100_000):\n        nest = [nest]\n    return nest\n"), "graded", 3),
    Case("huge-result", answer("answer_double", "import numpy as np\ndef double(x):\n"
                                                "    return np.zeros(5_000_000)\n"), "graded", 2),
    Case("read-expected-observations", mean_if_blocked("open('{root}/source/.expected/99-toy.json').read()"),
         "graded", 5, needs=SECRETS),
]
