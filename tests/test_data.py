"""Every dataset in data/ has a card, matches its checksums, and regenerates to the same bytes."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import REPO

DATASETS = sorted(p.parent.name for p in (REPO / "data").glob("*/generate.py"))
BUDGET_BYTES = 15 * 1024 * 1024


def sums(folder: Path) -> dict[str, str]:
    entries = (line.split(maxsplit=1) for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in entries}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


@pytest.mark.parametrize("dataset", DATASETS)
def test_generator_reproduces_the_files(dataset, tmp_path):
    folder = REPO / "data" / dataset
    subprocess.run([sys.executable, str(folder / "generate.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name, digest in sums(folder).items():
        assert sha256(tmp_path / name) == digest, f"regenerating {dataset} changed {name}"
