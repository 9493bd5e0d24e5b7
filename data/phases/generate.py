"""Generate 3-component local-earthquake seismograms with known P and S arrival times.

Why synthetic: a phase picker needs thousands of records with exact arrival times, and real labelled
catalogues (e.g. the STEAD or the Northern California sets PhaseNet was trained on) are gigabytes and
need a download, which the course forbids at run time. The records below follow the physics a picker
learns from, so that a model trained on them also picks the real local event ObsPy ships:

* travel times: a homogeneous crust (Vp = 6.0 km/s, Vp/Vs = 1.73) gives an S-P time
  t_S - t_P = d (1/Vs - 1/Vp) ~ d / 8.2 s for a hypocentral distance d (km), so S-P grows with d;
* polarisation: near-surface low velocities bend rays towards the vertical, so the P wave (particle
  motion along the ray) is strongest on the vertical component and the S wave (transverse to the ray)
  on the two horizontals, both split between N and E by the back-azimuth;
* waveforms: each phase is band-limited random motion (a Butterworth band around a corner frequency
  that falls with magnitude, lower for S than for P) under an envelope with a short rise and an
  exponential coda decay, as single-scattering coda models give; S is 2-5 times stronger than P;
* noise, shaped after the spectra of real stations (Peterson 1993's low- and high-noise models):
  a broadband 1-20 Hz floor; the secondary ocean microseism, a peak near 0.2 Hz (periods 4-7 s)
  that is the largest noise on most broadband records, 1-6 times the floor; at 3 sites in 10
  cultural noise (a 2-8 Hz machine hum and emergent traffic bursts); in 1 record in 5 the coda of
  an earlier event, so that an onset may ride on decaying motion; and, in the "noisy" regime, a
  site with strong cultural noise (a 12-17 Hz pump hum) and impulsive spikes that mimic onsets;
* recording: 100 samples/s, integer counts of a 16-bit digitiser (values clip at +-32767).

The signal-to-noise ratio (SNR) is the RMS of the vertical P wave in the second after its onset divided
by the RMS of the vertical noise; it is drawn log-uniformly per record. One record in ten holds
noise only (its arrival indices are -1), so that a picker also learns when not to pick.

Files, for each split in SPLITS: <split>_waveforms.npy (int16, shape (n, 3, 512), components Z, N, E)
and <split>_catalog.csv (one row per record: p_index, s_index (samples; -1 when absent), snr,
distance_km, back_azimuth_deg). Larger sets: change the sizes in SPLITS; the seed keeps every split
reproducible on its own.

Usage: python data/phases/generate.py [--out DIR]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 2018                 # Perol et al. and Zhu & Beroza: the papers this set imitates
FS = 100.0                  # samples per second
N_SAMPLES = 512             # 5.12 s per record
VP, VP_VS = 6.0, 1.73       # km/s, and the Vp/Vs ratio of a Poisson solid
NOISE_ONLY_FRACTION = 0.1
INT16_MAX = 32767


@dataclass(frozen=True)
class Regime:
    """The recording conditions of one split."""
    snr_range: tuple[float, float]  # log-uniform
    noisy_site: bool                # a strong 12-17 Hz hum and spikes on every record
    microseism: tuple[float, float] = (1.0, 6.0)  # amplitude of the microseism over the floor (uniform)
    cultural_fraction: float = 0.3                # records with a weaker hum and spikes (quiet regime)
    earlier_event_fraction: float = 0.2           # records that open in an earlier event's coda


# name, number of records, regime. The train/validation/test splits share one regime; "noisy_*"
# records a station next to a pump (hum and spikes), for the fine-tuning part.
SPLITS: list[tuple[str, int, Regime]] = [
    ("train", 800, Regime((1.5, 30.0), False)),
    ("valid", 160, Regime((1.5, 30.0), False)),
    ("test", 200, Regime((1.5, 30.0), False)),
    ("noisy_train", 128, Regime((1.5, 10.0), True)),
    ("noisy_test", 128, Regime((1.5, 10.0), True)),
]


def band_limited(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Unit-RMS random motion with the amplitude spectrum of a 4-pole Butterworth band-pass between
    low and high (Hz). Shaped in the frequency domain: the envelopes applied afterwards set the
    onsets, so the filter's phase does not matter, and this is 50 times faster than filtering."""
    f = np.fft.rfftfreq(n, 1.0 / FS)
    with np.errstate(divide="ignore"):
        gain = 1.0 / np.sqrt((1.0 + (f / high) ** 8) * (1.0 + (low / f) ** 8))
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * gain, n)
    return x / np.sqrt(np.mean(x**2))


def envelope(t: np.ndarray, onset: float, rise: float, decay: float) -> np.ndarray:
    """Zero before the onset, a quick rise over `rise` s, then an exponential coda decaying in `decay` s."""
    tau = np.clip(t - onset, 0.0, None)
    return (1.0 - np.exp(-tau / rise)) * np.exp(-tau / decay) * (t >= onset)


def microseism(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS secondary microseism: a spectral peak at f0 (0.15-0.25 Hz, periods of 4-7 s), log-normal in
    frequency (one octave wide), as in the high- and low-noise models of Peterson (1993). Drawn on a series
    8 times longer than the record and cut, so that a period as long as the record is resolved."""
    long = 8 * n
    f = np.fft.rfftfreq(long, 1.0 / FS)
    f0 = rng.uniform(0.15, 0.25)
    with np.errstate(divide="ignore"):
        gain = np.exp(-0.5 * (np.log(np.where(f > 0, f, 1e-9) / f0) / 0.35) ** 2)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(long)) * gain, long)
    start = rng.integers(0, long - n)
    x = x[start:start + n]
    return x / np.sqrt(np.mean(x**2))


def burst(rng: np.random.Generator, n: int, low: float, high: float, rise: float, decay: float) -> np.ndarray:
    """Band-limited motion under an envelope: an impulsive transient (door, footsteps: rise of a few
    hundredths of a second) or an emergent one (a passing truck: rise of tenths of a second)."""
    t = np.arange(n) / FS
    return band_limited(rng, n, low, high) * envelope(t, 0.0, rise, decay)


def ambient_noise(rng: np.random.Generator, regime: "Regime") -> np.ndarray:
    """Three components of unit-RMS background noise (vertical): a short-period floor, the microseism,
    cultural noise at some sites, and the coda of an earlier event in some records."""
    n = N_SAMPLES
    t = np.arange(n) / FS
    noise = np.empty((3, n))
    # cultural noise: at the noisy site a 12-17 Hz pump hum and impulsive spikes; elsewhere, at some
    # sites, a weaker 2-8 Hz machine hum and emergent traffic bursts (no sharp onset)
    cultural = regime.noisy_site or rng.random() < regime.cultural_fraction
    hum_f = rng.uniform(12.0, 17.0) if regime.noisy_site else rng.uniform(2.0, 8.0)
    hum_a = rng.uniform(1.0, 2.5) if regime.noisy_site else rng.uniform(0.2, 1.0)
    n_bursts = rng.poisson(3 if regime.noisy_site else 1.5) if cultural else 0
    for c in range(3):
        floor = band_limited(rng, n, 1.0, 20.0)
        noise[c] = floor + rng.uniform(*regime.microseism) * microseism(rng, n)
        if cultural:
            noise[c] += hum_a * np.sin(2 * np.pi * hum_f * t + rng.uniform(0, 2 * np.pi))
    for _ in range(n_bursts):
        if regime.noisy_site:  # impulsive spikes that look like onsets
            length = 30
            start = rng.integers(0, n - length)
            noise[:, start:start + length] += rng.uniform(3.0, 8.0) * np.stack(
                [burst(rng, length, 5.0, 30.0, 0.005, 0.15) for _ in range(3)])
        else:                  # emergent traffic bursts
            length = int(rng.integers(100, 200))
            start = rng.integers(0, n - length)
            noise[:, start:start + length] += rng.uniform(1.0, 3.0) * np.stack(
                [burst(rng, length, 2.0, 10.0, rng.uniform(0.3, 0.6), 0.4) for _ in range(3)])
    if rng.random() < regime.earlier_event_fraction:  # the window opens in the coda of an earlier event
        decay = rng.uniform(0.8, 2.5)
        coda = np.exp(-(t + rng.uniform(0.5, 3.0)) / decay)
        size = rng.uniform(2.0, 8.0)
        noise += size * coda * np.stack([band_limited(rng, n, 1.5, 8.0) for _ in range(3)])
    return noise / np.sqrt(np.mean(noise[0] ** 2))


def earthquake(rng: np.random.Generator, t_p: float, distance: float, back_azimuth: float) -> np.ndarray:
    """Noise-free Z, N, E ground motion of one local event, scaled so that its vertical P has unit RMS
    in the second after the onset."""
    t = np.arange(N_SAMPLES) / FS
    t_s = t_p + distance * (1.0 / (VP / VP_VS) - 1.0 / VP)
    f_corner = rng.uniform(3.0, 10.0)                      # small events: high corner frequencies
    baz = np.radians(back_azimuth)
    incidence = np.radians(rng.uniform(10.0, 35.0))        # rays arrive near-vertically
    decay = rng.uniform(0.6, 2.0) * (1.0 + distance / 30)  # longer codas at larger distances

    # P: along the ray, mostly vertical; a weaker scattered coda on every component.
    p_motion = band_limited(rng, N_SAMPLES, 0.7 * f_corner, 3.0 * f_corner)
    p_env = envelope(t, t_p, rng.uniform(0.02, 0.08), decay)
    polar_p = np.array([np.cos(incidence), -np.sin(incidence) * np.cos(baz), -np.sin(incidence) * np.sin(baz)])
    wave = polar_p[:, None] * p_motion * p_env
    wave += 0.3 * p_env * np.stack([band_limited(rng, N_SAMPLES, 0.7 * f_corner, 3.0 * f_corner) for _ in range(3)])

    # S: transverse to the ray, mostly horizontal, lower frequencies, 2-5 times stronger.
    s_motion = band_limited(rng, N_SAMPLES, 0.5 * f_corner, 2.0 * f_corner)
    s_env = rng.uniform(2.0, 5.0) * envelope(t, t_s, rng.uniform(0.04, 0.15), 1.3 * decay)
    psi = rng.uniform(0, 2 * np.pi)                        # split between SH and SV
    polar_s = np.array([np.sin(incidence) * np.cos(psi),
                        np.cos(incidence) * np.cos(psi) * np.cos(baz) - np.sin(psi) * np.sin(baz),
                        np.cos(incidence) * np.cos(psi) * np.sin(baz) + np.sin(psi) * np.cos(baz)])
    wave += polar_s[:, None] * s_motion * s_env
    wave += 0.3 * s_env * np.stack([band_limited(rng, N_SAMPLES, 0.5 * f_corner, 2.0 * f_corner) for _ in range(3)])

    first_second = (t >= t_p) & (t < t_p + 1.0)
    return wave / np.sqrt(np.mean(wave[0, first_second] ** 2))


def make_split(rng: np.random.Generator, n: int, regime: Regime) -> tuple[np.ndarray, list[str]]:
    """n records (int16 counts) and their catalogue rows."""
    records = np.empty((n, 3, N_SAMPLES), dtype=np.int16)
    rows = []
    for i in range(n):
        noise_rms = rng.uniform(10.0, 40.0)  # counts: stations differ in gain and site noise
        trace = noise_rms * ambient_noise(rng, regime)
        snr = float(np.exp(rng.uniform(*np.log(regime.snr_range))))
        distance = float(rng.uniform(2.5, 25.0))
        back_azimuth = float(rng.uniform(0.0, 360.0))
        p_index = s_index = -1
        if rng.random() >= NOISE_ONLY_FRACTION:
            s_minus_p = distance * (1.0 / (VP / VP_VS) - 1.0 / VP)
            t_p = rng.uniform(0.5, N_SAMPLES / FS - s_minus_p - 0.8)
            trace += snr * noise_rms * earthquake(rng, t_p, distance, back_azimuth)
            p_index = int(np.ceil(t_p * FS))
            s_index = int(np.ceil((t_p + s_minus_p) * FS))
        else:
            snr = 0.0
        records[i] = np.clip(np.round(trace), -INT16_MAX, INT16_MAX).astype(np.int16)
        rows.append(f"{p_index},{s_index},{snr:.3f},{distance:.2f},{back_azimuth:.1f}")
    return records, rows


def generate(out: Path) -> list[Path]:
    """Write every split of SPLITS into out and return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (name, n, regime) in enumerate(SPLITS):
        rng = np.random.default_rng([SEED, k])
        records, rows = make_split(rng, n, regime)
        wave_path, cat_path = out / f"{name}_waveforms.npy", out / f"{name}_catalog.csv"
        np.save(wave_path, records)
        cat_path.write_text("p_index,s_index,snr,distance_km,back_azimuth_deg\n" + "\n".join(rows) + "\n")
        paths += [wave_path, cat_path]
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    for written in generate(parser.parse_args().out):
        print(written)
