"""Every dataset in data/ has a card, matches its checksums, and regenerates to the same data on any
machine: the same bytes where the arithmetic is exact, the same numbers within a stated tolerance
where it goes through CPU-specific kernels (see same_array)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import variants
from autograder.course import REPO, Course

DATASETS = sorted(p.parent.name for p in (REPO / "data").glob("*/generate.py"))
BUDGET_BYTES = 15 * 1024 * 1024
# What may change from one machine to the next without changing the data: one or two BLAS/OpenMP
# threads, OpenBLAS's kernels for this CPU or for an older one (CI failed on a machine whose kernels
# were Haswell's), and NumPy's SIMD loops without AVX-512 or AVX2.
ENVIRONMENTS = {
    "1-thread": {"OMP_NUM_THREADS": "1"},
    "2-threads": {"OMP_NUM_THREADS": "2"},
    "1-thread-haswell": {"OMP_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Haswell"},
    "2-threads-old-cpu": {"OMP_NUM_THREADS": "2", "OPENBLAS_CORETYPE": "Prescott",
                          "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"},
}
KNOBS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
         "NPY_DISABLE_CPU_FEATURES")


def sums(folder: Path) -> dict[str, str]:
    entries = (line.split(maxsplit=1) for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in entries}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_float_array(path: Path) -> bool:
    return path.suffix == ".npy" and np.load(path, mmap_mode="r").dtype.kind == "f"


def same_array(expected: np.ndarray, actual: np.ndarray, what: str) -> None:
    """Float arrays go through LAPACK (the initial state scipy's sosfiltfilt solves for) and BLAS,
    whose kernels depend on the CPU: with OpenBLAS's Haswell kernels one sample of waveforms.npy (of
    values up to 830 nm/s) moves by 7e-12. Stored as float32, such a move can also flip the last bit
    of a value. Hence the tolerance: one unit in the last place of the stored type (rtol) plus 1e-9
    of the array's largest value (atol), far below any change of the data itself: another seed moves
    every value by about its own size, and raising waveforms' noise level by 5e-6 of itself fails."""
    assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), what
    np.testing.assert_allclose(actual, expected, rtol=np.finfo(expected.dtype).eps,
                               atol=1e-9 * np.abs(expected).max(), err_msg=what)


@pytest.mark.parametrize("dataset", DATASETS)
def test_card_and_checksums(dataset):
    folder = REPO / "data" / dataset
    card = (folder / "README.md").read_text()
    expected = sums(folder)
    assert expected, "SHA256SUMS lists no file"
    for name, digest in expected.items():
        assert sha256(folder / name) == digest, f"{name} does not match SHA256SUMS"
        assert digest in card, f"the card does not give the SHA-256 of {name}"
    assert sum((folder / n).stat().st_size for n in expected) <= BUDGET_BYTES


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_generator_reproduces_the_files(dataset, environment, tmp_path):
    folder = REPO / "data" / dataset
    env = {k: v for k, v in os.environ.items() if k not in KNOBS} | ENVIRONMENTS[environment]
    subprocess.run([sys.executable, str(folder / "generate.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True, env=env)
    for name, digest in sums(folder).items():
        what = f"regenerating {dataset} changed {name}"
        if is_float_array(folder / name):
            same_array(np.load(folder / name), np.load(tmp_path / name), what)
        else:
            assert sha256(tmp_path / name) == digest, what


VARIED = sorted(p.parent.name for p in (REPO / "data").glob("*/SHA256SUMS.variants"))


@pytest.mark.parametrize("dataset", VARIED)
def test_generator_reproduces_a_variant(dataset, tmp_path):
    """Variants are generated where they are used (grading, a student's machine), never committed:
    the generator must give the bytes whose sums the release committed. One variant is enough here;
    the grader checks every variant it generates against the same sums."""
    folder = REPO / "data" / dataset
    assert "SHA256SUMS.variants" in (folder / "README.md").read_text(), "the card does not describe the variants"
    listed = {name.split("/", 1)[1]: digest for name, digest in variants.committed_sums(Course(), dataset).items()
              if name.startswith("1/")}
    assert listed and set(listed) == set(sums(folder)), "variant 1 has other files than the committed data"
    subprocess.run([sys.executable, str(folder / "generate.py"), "--out", str(tmp_path), "--variant", "1"], check=True,
                   capture_output=True)
    for name, digest in listed.items():
        assert sha256(tmp_path / name) == digest, f"regenerating variant 1 of {dataset} changed {name}"
        assert digest != sums(folder)[name], f"variant 1 of {dataset} is the committed {name}"
