"""Generate a blind source separation problem: four seismometers recording mixtures of three sources.

Why synthetic: independent component analysis is graded by how well it recovers the sources, so the
true sources must be known, which no real record offers. The sources are the three that dominate the
records of a small urban seismic network, each built to have the character it has in nature:

* the secondary microseism: a narrow-band oscillation (periods 6-7 s, Longuet-Higgins 1950) whose
  amplitude swells and fades with the ocean storm over about a day. A sum of a few sinusoids, so
  its amplitude distribution is not Gaussian (ICA can separate at most one Gaussian source);
* earthquakes: rare transients, a few regional events whose surface waves (0.05-0.1 Hz) ring for
  minutes and are silent otherwise (strongly super-Gaussian);
* cultural noise: traffic and machines, broadband noise (0.3-0.45 Hz here, below the Nyquist
  frequency of the 1 Hz record) whose power follows the daily rhythm of human activity, high from
  7 h to 19 h local time, low at night (Lecocq et al. 2020, Science 369, 1338-1343).

The sensors stand at different distances from the three sources, so each records its own linear
mixture (a 4 x 3 mixing matrix, drawn once) plus a little instrument noise. Sampling 1 Hz, 36 hours.

Files (float32 NumPy arrays, one row per sample, 1 Hz from 00:00 local time):
    mixtures.npy  (N, 4)  the four sensors' records, ground velocity, nm/s
    sources.npy   (N, 3)  the true sources (microseism, earthquakes, cultural), nm/s at unit gain
    mixing.npy    (4, 3)  the true mixing matrix: mixtures = sources @ mixing.T + noise

The arrays regenerate to within rounding, not bit for bit on every machine (tests/test_data.py
states the tolerance): sosfiltfilt solves for its initial state with LAPACK, and the mixing is a
BLAS product, whose kernels depend on the CPU.

Usage: python data/mixing/generate.py [--out DIR]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import signal

SEED = 66
FS = 1.0                        # Hz
HOURS = 36
N = int(HOURS * 3600 * FS)
N_QUAKES = 6
INSTRUMENT_NOISE = 0.05          # relative to the unit-variance sources


def microseism(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Narrow-band oscillation near 0.15 Hz under a storm envelope peaking mid-record."""
    envelope = 0.6 + 0.4 * np.cos(2 * np.pi * (t / 3600 - 20) / 30)
    phases = rng.uniform(0, 2 * np.pi, 3)
    carrier = sum(a * np.sin(2 * np.pi * f * t + p)
                  for a, f, p in zip((1.0, 0.7, 0.5), (0.142, 0.155, 0.167), phases))
    return envelope * carrier


def earthquakes(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A few regional earthquakes: dispersed surface-wave trains ringing for about ten minutes."""
    out = np.zeros_like(t)
    origins = np.sort(rng.uniform(0.05, 0.95, N_QUAKES)) * t[-1]
    for origin, amplitude in zip(origins, 10 ** rng.uniform(0, 1, N_QUAKES)):
        tau = t - origin
        window = (tau > 0) & (tau < 1800)
        f = 0.1 - 0.05 * np.clip(tau[window] / 600, 0, 1)      # later arrivals, longer periods
        rise = 1 - np.exp(-tau[window] / 30)
        out[window] += amplitude * rise * np.exp(-tau[window] / 240) * np.sin(2 * np.pi * np.cumsum(f) / FS)
    return out


def cultural(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Broadband traffic noise whose amplitude follows the working day (7 h - 19 h)."""
    hour = (t / 3600) % 24
    activity = 0.15 + 0.85 / (1 + np.exp(-(hour - 7) * 2)) / (1 + np.exp((hour - 19) * 2))
    sos = signal.butter(4, [0.3, 0.45], btype="bandpass", fs=FS, output="sos")
    noise = signal.sosfiltfilt(sos, rng.standard_normal(t.size))
    return activity * noise


def generate(out: Path) -> list[Path]:
    """Write mixtures.npy, sources.npy and mixing.npy into out and return their paths."""
    rng = np.random.default_rng(SEED)
    t = np.arange(N) / FS
    sources = np.column_stack([microseism(t, rng), earthquakes(t, rng), cultural(t, rng)])
    sources /= sources.std(axis=0)
    # each row: one sensor; near the coast, near the fault side, in town, and in between
    mixing = np.abs(rng.normal(1.0, 0.5, (4, 3))) * np.array([[2.0, 0.5, 0.3], [0.6, 1.5, 0.4],
                                                              [0.5, 0.4, 2.0], [1.0, 1.0, 1.0]])
    mixtures = sources @ mixing.T + INSTRUMENT_NOISE * rng.standard_normal((N, 4))

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, array in (("mixtures", mixtures), ("sources", sources), ("mixing", mixing)):
        path = out / f"{name}.npy"
        np.save(path, array.astype(np.float32))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    for written in generate(parser.parse_args().out):
        print(written)
