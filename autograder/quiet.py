"""Library warnings in a log file, not on the console a person reads.

A demo or a report run through nbgrader prints hundreds of SQLAlchemy and nbformat warnings
(nbgrader's gradebook sessions, notebooks without cell ids) that say nothing to a TA and push the
results off the screen. They are still worth keeping for whoever debugs the grader, so they go to a
file; `--verbose` leaves them on the console.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def warnings_to(log: Path) -> Iterator[Path]:
    """Within the block, Python warnings (also those of forked workers) are appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("py.warnings")
    handler = logging.FileHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    logging.captureWarnings(True)
    try:
        yield log
    finally:
        logging.captureWarnings(False)
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()
