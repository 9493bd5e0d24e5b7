"""Generate a turbidity-probe record and sparse water samples for a small tropical volcanic river.

Why synthetic: the course's calibration lab used a real record from the ObsERA observatory in
Guadeloupe (Roque-Bernard et al. 2023, Earth Surface Dynamics 11, 363-381), which cannot be
downloaded at run time. This generator reproduces what makes that record instructive: floods that
arrive in minutes and recede in hours, a sediment supply that runs out during a flood (clockwise
hysteresis), probe fouling that makes outliers, logger gaps and sentinel codes, and a few hundred
expensive water samples at irregular times. Because the truth is known, the notebook's tests can
check what a student recovers.

The model, on a 5-minute clock t:

    h(t)   = h_base(t) + sum_k A_k g((t - t_k) / tp_k)                       water level (cm)
    T(t)   = T_base + c e(t)^p exp(-V(t) / V0)                               true turbidity (NTU)
    C_S    = alpha T^beta (h / h_ref)^gamma exp(eps),  eps ~ N(0, sigma^2)   sample (mg/L)

with g(s) = (s e^(1 - s))^K a gamma-shaped hydrograph, e = h - h_base the flood's excess level and
V the excess level accumulated over the last days (a store of fine sediment that floods deplete and
dry weather refills). At a given level the rising limb therefore carries more sediment than the
falling one: the clockwise loop seen in small tropical catchments. The probe reads
T_probe = T exp(noise) + fouling drift; samples are taken by hand at random daytime visits and by an
automatic sampler during floods.

Variants: `--variant K` (K > 0) draws the same physics from another seed, (SEED, K), so that each
group of students fits its own record; variant 0 is the committed data.

Usage: python data/river/generate.py [--out DIR] [--variant K]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

SEED = 2023
YEARS = (2019, 2020, 2021)
STEP = pd.Timedelta("5min")

# The rating curve (what a student should recover), as on the card.
ALPHA = 1.6      # mg/L per NTU^beta
BETA = 1.15      # exponent on turbidity
GAMMA = 0.10     # weak exponent on the water level
H_REF = 50.0     # cm
SIGMA = 0.20     # standard deviation of the natural log of the sample scatter

# No water sample in this window: the notebook predicts C_S there.
NO_SAMPLES = (pd.Timestamp("2021-09-15"), pd.Timestamp("2021-11-15"))
SENTINELS = ("-30000", "NAN", "1e10")


def clock() -> pd.DatetimeIndex:
    """The probe's 5-minute clock over the whole record."""
    start, end = pd.Timestamp(f"{YEARS[0]}-01-01"), pd.Timestamp(f"{YEARS[-1] + 1}-01-01")
    return pd.date_range(start, end, freq=STEP, inclusive="left")


def water_level(t: pd.DatetimeIndex, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Base level and total level (cm). Floods come more often in the wet season (July-November)."""
    day = (t - t[0]) / pd.Timedelta("1D")
    doy = t.day_of_year.to_numpy()
    wet = 0.5 * (1 + np.cos(2 * np.pi * (doy - 290) / 365.25))        # 1 in mid-October
    base = 22.0 + 10.0 * wet + np.interp(day, np.arange(0, day[-1] + 30, 30),
                                         rng.normal(0, 2.0, int(day[-1] // 30) + 2))
    level = base.copy()
    rate = (8 + 40 * wet) / 365.25 / 288                                  # floods per time step
    starts = np.flatnonzero(rng.random(t.size) < rate)
    hours = day * 24
    for i in starts:
        peak = min(rng.lognormal(np.log(35.0), 0.7), 260.0)             # cm above base
        tp = rng.uniform(0.5, 2.5)                                        # hours to peak
        s = (hours[i:i + 288 * 3] - hours[i]) / tp
        level[i:i + s.size] += peak * (s * np.exp(1 - s)) ** 2.5
    return base, level


def true_turbidity(base: np.ndarray, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turbidity (NTU) from the flood's excess level, with a sediment store that floods exhaust."""
    excess = np.clip(level - base, 0.0, None)
    forget = np.exp(-STEP / pd.Timedelta("4D"))                           # the store refills in days
    store = lfilter([1.0], [1.0, -forget], excess * (STEP / pd.Timedelta("1h")))
    background = 4.0 * np.exp(rng.normal(0, 0.15, level.size))
    return background + 0.9 * excess ** 1.45 * np.exp(-store / 250.0)


def fouling(n: int, rng: np.random.Generator) -> np.ndarray:
    """Additive drift (NTU) while biofilm and debris build up on the optics, reset at each cleaning."""
    drift = np.zeros(n)
    for _ in range(8 * len(YEARS)):
        start, length = rng.integers(0, n), int(rng.uniform(3, 14) * 288)
        stop = min(start + length, n)
        drift[start:stop] += np.linspace(0, rng.uniform(60, 400), length)[: stop - start]
    return drift


def sample_times(t: pd.DatetimeIndex, base: np.ndarray, level: np.ndarray,
                 rng: np.random.Generator) -> pd.DatetimeIndex:
    """Manual daytime visits at random, plus an automatic sampler that fires during floods."""
    visits = t[0] + pd.to_timedelta(rng.uniform(0, (t[-1] - t[0]).days, 110).round(), "D")
    visits += pd.to_timedelta(rng.uniform(8, 17, visits.size), "h")
    flooding = np.flatnonzero((level - base) > 20)
    auto = t[rng.choice(flooding, 130, replace=False)] + pd.to_timedelta(rng.uniform(0, 300, 130), "s")
    times = visits.append(auto).sort_values().round("s")
    keep = (times < NO_SAMPLES[0]) | (times >= NO_SAMPLES[1])
    return times[keep]


def generate(out: Path, variant: int = 0) -> list[Path]:
    """Write probe_YYYY.csv (one per year) and samples.csv into out and return their paths."""
    rng = np.random.default_rng(SEED if variant == 0 else (SEED, variant))
    t = clock()
    base, level = water_level(t, rng)
    turbidity = true_turbidity(base, level, rng)

    # The water samples, from the true turbidity and level at their (off-grid) times.
    times = sample_times(t, base, level, rng)
    at = (times - t[0]) / STEP
    grid = np.arange(t.size)
    t_s, h_s = np.interp(at, grid, turbidity), np.interp(at, grid, level)
    conc = ALPHA * t_s ** BETA * (h_s / H_REF) ** GAMMA * np.exp(rng.normal(0, SIGMA, times.size))

    # What the probe writes: noise, fouling, sentinel codes, outages (rows missing).
    probe_t = turbidity * np.exp(rng.normal(0, 0.03, t.size)) + fouling(t.size, rng)
    probe_h = level + rng.normal(0, 0.3, t.size)
    text_t = np.char.mod("%.1f", probe_t).astype(object)
    text_h = np.char.mod("%.1f", probe_h).astype(object)
    for code, share in zip(SENTINELS, (0.003, 0.002, 0.0008)):
        for column in (text_t, text_h) if code != "1e10" else (text_t,):
            hit = np.flatnonzero(rng.random(t.size) < share)
            for offset in range(3):                                       # short bursts
                column[np.clip(hit + offset, 0, t.size - 1)] = code
    kept = np.ones(t.size, bool)
    for _ in range(4 * len(YEARS)):                                       # batteries, storms, theft
        start = rng.integers(0, t.size)
        kept[start:start + int(rng.uniform(0.2, 9) * 288)] = False

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    stamps = t.strftime("%Y-%m-%d %H:%M").to_numpy()
    for year in YEARS:
        rows = np.flatnonzero(kept & (t.year == year))
        path = out / f"probe_{year}.csv"
        lines = [f"{stamps[i]},{text_t[i]},{text_h[i]}" for i in rows]
        path.write_text("\n".join(["date,turbidity_ntu,level_cm", *lines]) + "\n")
        paths.append(path)
    path = out / "samples.csv"
    lines = [f"{d:%Y-%m-%d %H:%M:%S},{c:.1f}" for d, c in zip(times, conc)]
    path.write_text("\n".join(["date,concentration_mgl", *lines]) + "\n")
    paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--variant", type=int, default=0, help="0: the committed data; K > 0: variant K")
    args = parser.parse_args()
    for written in generate(args.out, args.variant):
        print(written)
