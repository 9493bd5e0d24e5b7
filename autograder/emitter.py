"""Putting the observation emitter into a kernel, the same way for the reference run and for grading.

The emitter (kernel/eds_observe.py) is installed as the module `eds_observe` by a silent request
before each test cell, so hidden tests import it whatever the kernel's paths and mounts are. A
student's code may replace it in between; that changes only what is reported, and the judge accepts
only the reference's values.
"""
from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from .notebooks import is_test

SOURCE = (Path(__file__).parent / "kernel" / "eds_observe.py").read_text()
INSTALL = ("import sys as _eds_sys, types as _eds_types\n"
           "_eds_module = _eds_types.ModuleType('eds_observe')\n"
           f"exec(compile({SOURCE!r}, 'eds_observe.py', 'exec'), _eds_module.__dict__)\n"
           "_eds_sys.modules['eds_observe'] = _eds_module\n"
           "del _eds_sys, _eds_types, _eds_module\n")


class InstallsEmitter:
    """A mixin for an nbclient client: the emitter is installed afresh before every test cell."""

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int, execution_count=None,
                                 store_history: bool = True) -> NotebookNode:
        if cell.cell_type == "code" and is_test(cell):
            await self.async_wait_for_reply(self.kc.execute(INSTALL, silent=True, store_history=False))
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
