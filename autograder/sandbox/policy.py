"""What one notebook may use: the grading limits, set in nbgrader_config.py."""
from __future__ import annotations

from traitlets import Integer
from traitlets.config import Configurable


class GradingLimits(Configurable):
    """What one notebook may use (set them in nbgrader_config.py as c.GradingLimits.<name>)."""

    memory_bytes = Integer(6 * 1024**3, help="address space of the kernel").tag(config=True)
    processes = Integer(256, help="processes and threads of the sandbox uid (no fork bomb)").tag(config=True)
    file_bytes = Integer(256 * 1024**2, help="largest file the kernel may write").tag(config=True)
    cpu_seconds = Integer(900, help="CPU time of the kernel").tag(config=True)
    open_files = Integer(1024).tag(config=True)
    notebook_seconds = Integer(900, help="wall-clock time to grade one submission").tag(config=True)
    submission_bytes = Integer(50 * 1024**2, help="largest notebook accepted").tag(config=True)

