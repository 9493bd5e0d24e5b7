"""Generate windows of a seismic record: station noise with four families of repeating signals.

Why synthetic: clustering and autoencoders need many windows with a known truth (which family each
window belongs to, and the noise-free signal under the noise), and no shipped real record has both.
The families follow what a station on a volcano records (Chouet 1996; Poupinet et al. 1984):

* two families of repeating volcano-tectonic (VT) earthquakes. Repeating earthquakes break the same
  patch of fault, so every event of a family has the same P and S arrivals and the same coda: the
  coda is the wavefield scattered along one fixed path, so it is modelled as one fixed realisation
  of band-limited noise under an exponential envelope (Aki & Chouet 1975), drawn once per family;
* one family of long-period (LP) events: an emergent, slowly decaying oscillation at the resonance
  of a fluid-filled crack (about 1.8 Hz, quality factor Q about 25, with a weaker overtone);
* windows with noise only, which is what most of a continuous record holds.

Every window is the family's template, shifted by a small trigger jitter (+/- 0.1 s) and scaled by a
log-uniform amplitude, plus station noise: Gaussian noise shaped to fall off as 1/f above 1 Hz
(the high-frequency flank of the ambient-noise spectrum), band-limited to 0.5-20 Hz.

Files (all float32 / int8 NumPy arrays, one row per window):
    waveforms.npy   (N_WINDOWS, N_SAMPLES)  ground velocity, nm/s, noise included
    clean.npy       (N_WINDOWS, N_SAMPLES)  the same windows without the noise (the truth)
    family.npy      (N_WINDOWS,)            0 noise, 1 VT family A, 2 VT family B, 3 LP

family.npy regenerates bit for bit on any machine, the float arrays only to within rounding
(tests/test_data.py states the tolerance): sosfiltfilt solves for its initial state with LAPACK,
whose kernels depend on the CPU.

Usage: python data/waveforms/generate.py [--out DIR]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import signal

SEED = 6
FS = 50.0                     # sampling rate (Hz)
N_SAMPLES = 200               # 4 s windows
N_PER_FAMILY = 400
FAMILIES = ("noise", "VT-A", "VT-B", "LP")
ONSET = 0.6                   # trigger time of the first arrival in the window (s)
JITTER = 0.02                 # +/- error of the P pick the windows are aligned on (s)
NOISE_RMS = 20.0              # station noise (nm/s)


def bandpassed_noise(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Unit-variance Gaussian noise band-limited to [low, high] Hz (zero-phase Butterworth)."""
    sos = signal.butter(4, [low, high], btype="bandpass", fs=FS, output="sos")
    x = signal.sosfiltfilt(sos, rng.standard_normal(n + 400))[200:-200]
    return x / x.std()


def station_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ambient noise: white noise shaped to a 1/f amplitude spectrum above 1 Hz, 0.5-20 Hz."""
    spectrum = np.fft.rfft(rng.standard_normal(n + 400))
    f = np.fft.rfftfreq(n + 400, 1 / FS)
    spectrum /= np.maximum(f, 1.0)
    x = np.fft.irfft(spectrum, n + 400)
    sos = signal.butter(4, [0.5, 20.0], btype="bandpass", fs=FS, output="sos")
    x = signal.sosfiltfilt(sos, x)[200:-200]
    return x / x.std()


def vt_template(rng: np.random.Generator, t: np.ndarray, s_minus_p: float, band: tuple[float, float],
                decay: float) -> np.ndarray:
    """A repeating VT earthquake: impulsive P, S three times stronger, fixed scattered coda."""
    out = np.zeros_like(t)
    for delay, amplitude in ((0.0, 0.35), (s_minus_p, 1.0)):
        tau = t - delay
        envelope = np.where(tau > 0, (1 - np.exp(-tau / 0.03)) * np.exp(-tau / decay), 0.0)
        out += amplitude * envelope * bandpassed_noise(rng, t.size, *band)
    return out / np.abs(out).max()


def lp_template(t: np.ndarray) -> np.ndarray:
    """A long-period event: emergent damped resonance at 1.8 Hz (Q = 25) with a 3.4 Hz overtone."""
    out = np.zeros_like(t)
    for f, q, amplitude in ((1.8, 25.0, 1.0), (3.4, 25.0, 0.3)):
        rise = 1 - np.exp(-np.clip(t, 0, None) / 0.25)
        out += amplitude * np.where(t > 0, rise * np.exp(-np.pi * f * t / q) * np.sin(2 * np.pi * f * t), 0.0)
    return out / np.abs(out).max()


def generate(out: Path) -> list[Path]:
    """Write waveforms.npy, clean.npy and family.npy into out and return their paths."""
    rng = np.random.default_rng(SEED)
    t = np.arange(N_SAMPLES) / FS

    # one template per family on a grid starting 1 s before the onset, shifted per window below;
    # the coda realisation is drawn once per family: every event of a family repeats it
    grid = np.arange(-FS, 2 * N_SAMPLES) / FS
    templates = [np.zeros_like(grid),
                 vt_template(np.random.default_rng(SEED * 100 + 1), grid, 0.9, (4.0, 12.0), 0.5),
                 vt_template(np.random.default_rng(SEED * 100 + 2), grid, 1.6, (2.0, 7.0), 0.8),
                 lp_template(grid)]

    families = np.repeat(np.arange(len(FAMILIES)), N_PER_FAMILY)
    families = families[rng.permutation(families.size)]
    clean = np.empty((families.size, N_SAMPLES))
    noisy = np.empty_like(clean)
    for i, family in enumerate(families):
        shift = rng.uniform(-JITTER, JITTER)
        amplitude = NOISE_RMS * 10 ** rng.uniform(np.log10(8.0), np.log10(40.0))  # peak SNR 8 to 40
        clean[i] = amplitude * np.interp(t - ONSET - shift, grid, templates[family])
        noisy[i] = clean[i] + NOISE_RMS * station_noise(rng, N_SAMPLES)

    out.mkdir(parents=True, exist_ok=True)
    arrays = {"waveforms": noisy.astype(np.float32), "clean": clean.astype(np.float32),
              "family": families.astype(np.int8)}
    paths = []
    for name, array in arrays.items():
        path = out / f"{name}.npy"
        np.save(path, array)
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    for written in generate(parser.parse_args().out):
        print(written)
