"""Generate the warm-up's station record: monthly means at four weather stations on a mountain slope.

Why synthetic: the warm-up needs a small, clean-but-realistic CSV that a student can read with NumPy
in one line, with a known answer to check a fit against. Real station archives need a download, which
the course forbids at run time. The numbers follow the physics of a mountain atmosphere, so what the
student finds (a lapse rate, a seasonal cycle, a warming trend stronger at altitude, pressure falling
exponentially with height) is what real Alpine records show.

The model, for a station at altitude z (m) and time t (decimal year):

    T(z, t) = T_0 - Gamma z + A(z) cos(2 pi (t - t_peak)) + w(z) (t - t_ref) + noise      [deg C]
    p(z, t) = p_0 exp(-g z / (R_d Tbar(z, t))) + noise                                     [hPa]

with Tbar the mean temperature (K) of the air column between sea level and the station (the
hypsometric equation), Gamma = 5.5 K/km (a typical Alpine near-surface lapse rate, Rolland 2003),
and a warming rate w(z) that grows with altitude (elevation-dependent warming, Pepin et al. 2015).
Instrument outages are written as the sentinel -999.9, as many station archives do.

Usage: python data/warmup/generate.py [--out DIR]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEED = 2004
START_YEAR, N_YEARS = 2004, 20
MISSING = -999.9

# name, altitude (m), annual-cycle amplitude (K), warming rate (K/yr)
STATIONS: list[tuple[str, float, float, float]] = [
    ("valley", 250.0, 9.0, 0.030),
    ("village", 900.0, 8.5, 0.035),
    ("alpage", 1700.0, 8.0, 0.045),
    ("col", 2500.0, 7.5, 0.055),
]
T0 = 13.0          # sea-level annual mean temperature at t_ref (deg C)
LAPSE = 5.5e-3     # K/m
T_PEAK = 0.54      # the warmest time of the year (mid-July), as a fraction of the year
T_REF = 2004.0
P0 = 1013.25       # hPa
G, R_D = 9.81, 287.05


def monthly_times(start_year: int, n_years: int) -> np.ndarray:
    """Decimal year of the middle of every month (month lengths taken equal)."""
    return start_year + (np.arange(12 * n_years) + 0.5) / 12


def temperature(z: float, amplitude: float, rate: float, t: np.ndarray) -> np.ndarray:
    """Noise-free monthly mean temperature (deg C) at altitude z."""
    return (T0 - LAPSE * z + amplitude * np.cos(2 * np.pi * (t - T_PEAK))
            + rate * (t - T_REF))


def pressure(z: float, t_station_c: np.ndarray) -> np.ndarray:
    """Hypsometric pressure (hPa) at altitude z under a column whose top temperature is t_station_c."""
    t_sea_level_c = t_station_c + LAPSE * z
    column_mean_k = 273.15 + 0.5 * (t_sea_level_c + t_station_c)
    return P0 * np.exp(-G * z / (R_D * column_mean_k))


def generate(out: Path) -> list[Path]:
    """Write temperature.csv and pressure.csv into out and return their paths."""
    rng = np.random.default_rng(SEED)
    t = monthly_times(START_YEAR, N_YEARS)
    # Month-to-month weather: an anomaly shared by the whole slope (the stations are a few km
    # apart, under the same air masses) plus a smaller local part.
    regional_t = rng.normal(0.0, 1.0, t.size)
    regional_p = rng.normal(0.0, 1.5, t.size)
    temps, press = [], []
    for _, z, amp, rate in STATIONS:
        clean = temperature(z, amp, rate, t)
        temps.append(clean + regional_t + rng.normal(0.0, 0.4, t.size))
        press.append(pressure(z, clean) + regional_p * np.exp(-z / 8000) + rng.normal(0.0, 0.5, t.size))
    temps, press = np.column_stack(temps), np.column_stack(press)

    # Outages: the summit station loses a few winters' months, the others the odd month.
    winter = np.flatnonzero(np.isin(np.floor((t % 1) * 12), [0, 1, 11]))
    temps[rng.choice(winter, 9, replace=False), 3] = MISSING
    for column in range(3):
        temps[rng.choice(t.size, 2, replace=False), column] = MISSING
    press[rng.choice(t.size, 3, replace=False), 3] = MISSING

    header = "decimal_year," + ",".join(name for name, *_ in STATIONS)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, values, unit in (("temperature", temps, "deg C"), ("pressure", press, "hPa")):
        path = out / f"{name}.csv"
        comment = (f"monthly mean {name} ({unit}) at four stations; "
                   f"missing values are {MISSING}; synthetic, see README.md")
        rows = [f"{row[0]:.4f}," + ",".join(f"{v:.1f}" for v in row[1:])
                for row in np.column_stack([t, values])]
        path.write_text("\n".join([f"# {comment}", header, *rows]) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    for written in generate(parser.parse_args().out):
        print(written)
