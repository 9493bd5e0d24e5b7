"""Grading on a SLURM cluster: an array job of shards, then a merge job that waits for all of them.

grade-array.sbatch and merge.sbatch are the recipe (usable with plain sbatch); resources.py sizes
each task from the course's grading limits; jobs.py submits both, reports each shard's state and
resubmits the shards that did not finish (`python -m autograder slurm-submit`).
"""
