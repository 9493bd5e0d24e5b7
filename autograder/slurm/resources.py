"""What one SLURM task asks for, derived from the course's grading limits (sandbox.policy.GradingLimits).

A shard grades `jobs` submissions at once, each kernel capped at `memory_bytes` and each submission
at `notebook_seconds`: so it needs `jobs` cores, `jobs` kernels' memory plus the grader's own, and
enough rounds of `notebook_seconds` for its largest share of the class. Asking for less gets a
shard killed by the scheduler mid-run; asking for much more keeps it waiting in the queue.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..sandbox.policy import GradingLimits

MIB = 1024**2
GRADER_MIB = 1024     # the grader process (nbgrader, the gradebook) next to its kernels
SETUP_MINUTES = 5     # the release into the shard's gradebook, the sandbox, a slow shared filesystem
MERGE_MIB = 2048
FEEDBACK_PER_MINUTE = 30   # feedback is written in well under 2 s per student


@dataclass(frozen=True)
class Resources:
    cores: int
    memory_mib: int
    minutes: int

    def options(self) -> list[str]:
        """As sbatch options (they override any #SBATCH line of the script)."""
        return [f"--cpus-per-task={self.cores}", f"--mem={self.memory_mib}M", f"--time={self.minutes}"]


def shard_task(limits: GradingLimits, jobs: int, students: int) -> Resources:
    """One shard of at most `students` submissions, `jobs` graded at once."""
    rounds = math.ceil(students / jobs)
    return Resources(cores=jobs, memory_mib=jobs * (limits.memory_bytes // MIB) + GRADER_MIB,
                     minutes=SETUP_MINUTES + math.ceil(rounds * limits.notebook_seconds / 60))


def merge_task(students: int) -> Resources:
    """The merge and the feedback of the whole class: one core, no kernel."""
    return Resources(cores=1, memory_mib=MERGE_MIB, minutes=SETUP_MINUTES + math.ceil(students / FEEDBACK_PER_MINUTE))
