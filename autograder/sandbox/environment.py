"""The environment of a student's kernel: one list of what it keeps from the grader's, and what it
is given. It is given nothing else of the grader's (tokens, credentials, paths to the course)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

# What the kernel keeps of the grader's environment, where the grader has it: the locale, where
# programs are, OpenBLAS's view of the CPU, and nbgrader's mark that the notebook is being graded.
KEPT = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NBGRADER_EXECUTION")
THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def matplotlib_dir(home: Path) -> Path:
    return home / ".matplotlib"


@dataclass(frozen=True)
class KernelEnvironment:
    """What every grading kernel gets: `kept` names from the grader's environment, `given` values.

    nbgrader scores any stderr output in a test cell as a failure, so library warnings are silenced
    (a test that checks for a warning turns them on itself). One BLAS/torch thread per kernel unless
    the grader set its own: kernels share the machine with each other (--jobs) and with whatever
    else runs, and an OpenMP pool sized for every core spins waiting for cores it does not get
    (measured: a 05-cnn training cell, 5 s alone with one or two threads, took 80 s with two
    beside two busy processes, 5.7 s with one). Parallel grading comes from --jobs instead.
    """

    kept: tuple[str, ...]
    given: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, data_dir: Path) -> KernelEnvironment:
        """The environment for a course whose data is in `data_dir`, the grader's thread counts read now."""
        threads = tuple((name, os.environ.get(name, "1")) for name in THREADS)
        return cls(kept=KEPT, given=(("EDS_DATA_DIR", str(data_dir)), ("PYTHONWARNINGS", "ignore"),
                                     ("MPLBACKEND", "agg")) + threads)

    @property
    def settings(self) -> dict[str, str]:
        """The values given to every kernel, for a run outside the sandbox that must match it (the
        reference run, the benchmarks)."""
        return dict(self.given)

    def for_kernel(self, grader: Mapping[str, str], home: Path) -> dict[str, str]:
        """The whole environment of one kernel: what it keeps of `grader`'s, what every kernel is
        given, and its own home (IPython's and matplotlib's folders in it, no user site-packages)."""
        return {**{name: grader[name] for name in self.kept if name in grader}, **self.settings,
                "HOME": str(home), "MPLCONFIGDIR": str(matplotlib_dir(home)),
                "IPYTHONDIR": str(home / ".ipython"), "PYTHONNOUSERSITE": "1"}
