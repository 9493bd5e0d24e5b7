"""Generate a synthetic volcano-seismic catalogue and a continuous record, written as MiniSEED with ObsPy.

Why synthetic: labelled volcano-seismic catalogues (Ubinas, Piton de la Fournaise, ...) are large and
need a download, which the course forbids at run time. What makes the six classes of the lecture
(Malfante et al. 2018, IEEE Signal Processing Magazine 35(2), 20-30) tell apart is physics that a few
lines can reproduce, so each class is built from the mechanism that sets it apart:

* LP, long-period event: a fluid-filled crack resonates; a narrow band (0.8-3 Hz) wavelet with an
  emergent onset and a coda of a few seconds (Chouet 1996, Nature 380, 309-316).
* TR, tremor: sustained, emergent, harmonic: a fundamental of 1-3 Hz and its overtones, gliding a
  little, lasting tens of seconds.
* VT, volcano-tectonic event: shear failure in the edifice, as in an ordinary earthquake: impulsive,
  broadband (2-18 Hz) P and S arrivals, separated by t_S - t_P = r (1/v_S - 1/v_P).
* EXP, explosion: a strong broadband onset, and the air wave coupled back into the ground, arriving
  r (1/v_air - 1/v_P) later (v_air = 0.34 km/s).
* HYB, hybrid: a high-frequency VT-like onset followed by an LP-like low-frequency coda.
* TOR, tornillo: a screw-shaped record: a monochromatic (1.5-6 Hz) coda of high quality factor Q
  (40-400) that decays slowly, amplitude ~ exp(-pi f t / Q).

Every signal sits in noise (white instrument noise plus the 0.1-0.5 Hz oceanic microseism). Its
amplitude falls as 1/r with the source distance r, and the high frequencies fade with distance
(anelastic attenuation). The class counts keep the order and the strong imbalance of the confusion
matrix of Malfante et al. (2018) (LP >> TR >> VT > HYB > EXP > TOR); the rarest classes are
scaled up, otherwise a few thousand signals would hold one tornillo.

Files (see README.md):
    catalogue.mseed        one trace per event, in the order of labels.csv
    labels.csv             event_id, starttime, label, onset, distance_km, snr
    continuous.mseed       a 30-min record holding 16 events
    continuous_events.csv  onset, label of the events of the continuous record
    windows.npy            three-component (Z, N, E) 8-s windows: noise, or a VT from one of three swarms
    windows.csv            region, and for events the distance, back-azimuth, P time and SNR of each window

Variants: `--variant K` (K > 0) draws the same classes and counts from another seed, (SEED, K), so
that each group of students classifies its own catalogue; variant 0 is the committed data.

Three-component windows: a detector hands the observatory fixed windows of the three components.
Some hold only noise (and, half of the time, a burst of cultural noise on one component); the others a
VT earthquake from one of three swarms under the volcano. Two swarms sit at the same distance, one
north-east and one south-east of the station: their records differ only in how the horizontal
components move together (the polarisation of the P and S waves), which no per-component feature
sees. The windows use their own random stream, so the files above do not change.

Usage: python data/volcano/generate.py [--out DIR] [--variant K]    (default DIR: this folder)
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from obspy import Stream, Trace, UTCDateTime
from scipy.signal import butter, sosfilt

SEED = 2018
FS = 50.0  # Hz, sampling rate of the station
NETWORK, STATION, LOCATION, CHANNEL = "XV", "VOLC", "00", "HHZ"
CLASSES = ["LP", "TR", "VT", "EXP", "HYB", "TOR"]
COUNTS = {"LP": 1500, "TR": 400, "VT": 220, "EXP": 70, "HYB": 110, "TOR": 60}
V_P, V_S, V_AIR = 5.5, 3.2, 0.34  # km/s
CATALOGUE_START = UTCDateTime("2024-01-01T00:00:00")
CONTINUOUS_START = UTCDateTime("2024-06-21T12:00:00")
CONTINUOUS_LENGTH = 1800.0  # s
CONTINUOUS_LABELS = ["LP", "VT", "TR", "LP", "HYB", "EXP", "LP", "TOR",
                     "VT", "LP", "TR", "LP", "HYB", "VT", "TOR", "LP"]


def _band(rng: np.random.Generator, n: int, fmin: float, fmax: float) -> np.ndarray:
    """Unit-RMS Gaussian noise band-passed between fmin and fmax (Hz)."""
    fmax = min(fmax, 0.45 * FS)
    sos = butter(4, [fmin, fmax], btype="bandpass", fs=FS, output="sos")
    x = sosfilt(sos, rng.standard_normal(n + 200))[200:]
    return x / np.sqrt(np.mean(x**2))


def _onset_envelope(t: np.ndarray, rise: float, decay: float) -> np.ndarray:
    """Envelope rising over `rise` s from t = 0, then decaying exponentially with time constant `decay` s."""
    env = np.where(t < 0, 0.0, 1.0 - np.exp(-np.clip(t, 0, None) / max(rise, 1e-3) * 3))
    return env * np.exp(-np.clip(t - rise, 0, None) / decay)


def event_waveform(label: str, rng: np.random.Generator, r_km: float) -> tuple[np.ndarray, float]:
    """Noise-free waveform of one event (peak 1, onset at sample 0) and its duration (s).

    The high-frequency corner falls with distance (anelastic attenuation).
    """
    f_hi = 20.0 - 0.8 * r_km
    if label == "LP":
        f0 = rng.uniform(0.8, 3.0)
        bw = rng.uniform(0.3, 0.7)
        decay = rng.uniform(2.0, 4.5)
        dur = 5 * decay
        t = np.arange(int(dur * FS)) / FS
        x = _band(rng, t.size, max(f0 - bw / 2, 0.3), f0 + bw / 2) * _onset_envelope(t, rng.uniform(0.5, 1.5), decay)
    elif label == "TR":
        dur = rng.uniform(35.0, 60.0)
        t = np.arange(int(dur * FS)) / FS
        f0 = rng.uniform(1.0, 3.0)
        glide = f0 * rng.uniform(-0.05, 0.05) * t / dur
        phase = 2 * np.pi * np.cumsum(f0 + glide) / FS
        x = sum(a * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
                for k, a in [(1, 1.0), (2, rng.uniform(0.3, 0.7)), (3, rng.uniform(0.1, 0.4))])
        x = x + 0.3 * _band(rng, t.size, 0.5, 6.0)
        ramp = rng.uniform(6.0, 12.0)
        env = np.clip(t / ramp, 0, 1) * np.clip((dur - t) / ramp, 0, 1)
        env *= 1 + 0.3 * np.sin(2 * np.pi * t / rng.uniform(8, 20) + rng.uniform(0, 6))
        x = x * env
    elif label == "VT":
        tsp = r_km * (1 / V_S - 1 / V_P)
        decay_p, decay_s = rng.uniform(0.4, 1.0), rng.uniform(1.0, 2.5)
        dur = tsp + 5 * decay_s
        t = np.arange(int(dur * FS)) / FS
        p = _band(rng, t.size, 2.0, f_hi) * _onset_envelope(t, 0.05, decay_p)
        s = _band(rng, t.size, 1.5, f_hi * 0.8) * _onset_envelope(t - tsp, 0.1, decay_s)
        x = p + rng.uniform(1.5, 3.0) * s
    elif label == "EXP":
        t_air = r_km * (1 / V_AIR - 1 / V_P)
        decay = rng.uniform(1.5, 3.0)
        dur = t_air + 3.0
        t = np.arange(int(dur * FS)) / FS
        ground = _band(rng, t.size, 1.0, f_hi) * _onset_envelope(t, 0.1, decay)
        air = _band(rng, t.size, 3.0, 10.0) * _onset_envelope(t - t_air, 0.05, rng.uniform(0.3, 0.8))
        x = ground + rng.uniform(0.6, 1.5) * air
    elif label == "HYB":
        decay_hf, decay_lp = rng.uniform(0.3, 0.8), rng.uniform(2.0, 4.0)
        f0 = rng.uniform(0.8, 2.5)
        dur = 1.0 + 5 * decay_lp
        t = np.arange(int(dur * FS)) / FS
        hf = _band(rng, t.size, 3.0, f_hi) * _onset_envelope(t, 0.05, decay_hf)
        lp = _band(rng, t.size, max(f0 - 0.3, 0.3), f0 + 0.3) * _onset_envelope(t - 0.5, 0.8, decay_lp)
        x = hf + rng.uniform(0.8, 2.5) * lp
    elif label == "TOR":
        f0, q = rng.uniform(1.5, 6.0), rng.uniform(40.0, 400.0)
        decay = q / (np.pi * f0)
        dur = min(3 * decay, 50.0)
        t = np.arange(int(dur * FS)) / FS
        coda = np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi)) * _onset_envelope(t, 0.3, decay)
        x = coda + 0.5 * _band(rng, t.size, 2.0, f_hi) * _onset_envelope(t, 0.05, 0.4)
    else:
        raise ValueError(label)
    return x / np.max(np.abs(x)), dur


def station_noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Instrument noise (white) plus oceanic microseism (0.1-0.5 Hz), total RMS about sigma (counts)."""
    micro = _band(rng, n, 0.1, 0.5)
    return sigma * (0.6 * rng.standard_normal(n) + 0.8 * micro)


def _event_amplitude(rng: np.random.Generator, r_km: float) -> float:
    """Peak amplitude (counts) at distance r: a log-uniform source size over 1/r spreading."""
    return 10 ** rng.uniform(3.0, 4.8) / r_km


def make_catalogue(rng: np.random.Generator) -> tuple[Stream, list[dict]]:
    """One trace per event: 1.5-5 s of noise, the event, 1-4 s of noise; shuffled classes."""
    labels = [c for c in CLASSES for _ in range(COUNTS[c])]
    order = rng.permutation(len(labels))
    stream, rows = Stream(), []
    for k, idx in enumerate(order):
        label = labels[idx]
        r_km = rng.uniform(1.5, 12.0)
        wave, dur = event_waveform(label, rng, r_km)
        pre, post = rng.uniform(1.5, 5.0), rng.uniform(1.0, 4.0)
        n = int((pre + dur + post) * FS)
        sigma = 10 ** rng.uniform(1.0, 1.6)
        x = station_noise(rng, n, sigma)
        i0 = int(pre * FS)
        amp = _event_amplitude(rng, r_km)
        x[i0:i0 + wave.size] += amp * wave
        start = CATALOGUE_START + 3600.0 * k + float(np.round(rng.uniform(0, 3000), 2))
        tr = Trace(np.round(x).astype(np.int32), header=dict(
            network=NETWORK, station=STATION, location=LOCATION, channel=CHANNEL,
            sampling_rate=FS, starttime=start))
        stream.append(tr)
        rows.append(dict(event_id=f"ev{k:05d}", starttime=str(start), label=label,
                         onset=str(start + i0 / FS), distance_km=round(r_km, 2),
                         snr=round(amp / sigma, 1)))
    return stream, rows


def make_continuous(rng: np.random.Generator) -> tuple[Stream, list[dict]]:
    """A 30-min record at the same station with CONTINUOUS_LABELS, 80-120 s apart."""
    n = int(CONTINUOUS_LENGTH * FS)
    x = station_noise(rng, n, 20.0)
    rows, t_on = [], 40.0
    for label in CONTINUOUS_LABELS:
        r_km = rng.uniform(2.0, 8.0)
        wave, _ = event_waveform(label, rng, r_km)
        i0 = int(t_on * FS)
        m = min(wave.size, n - i0)
        x[i0:i0 + m] += 10 ** rng.uniform(3.6, 4.4) / r_km * wave[:m]
        rows.append(dict(onset=str(CONTINUOUS_START + i0 / FS), label=label))
        t_on += rng.uniform(95.0, 115.0)
    tr = Trace(np.round(x).astype(np.int32), header=dict(
        network=NETWORK, station=STATION, location=LOCATION, channel=CHANNEL,
        sampling_rate=FS, starttime=CONTINUOUS_START))
    return Stream([tr]), rows


# Three-component windows (Z, N, E) for a raw-waveform classifier, in the spirit of ConvNetQuake
# (Perol, Gharbi & Denolle 2018, Science Advances 4, e1700578): noise, or a VT from one of three swarms.
WINDOW_S = 8.0                     # s, 400 samples at 50 Hz
WINDOWS_PER_REGION = 240
REGIONS = ["noise", "north-east", "south-east", "west"]
SWARMS = {                         # back-azimuth (deg, from the station to the swarm), epicentral distance, depth (km)
    "north-east": (45.0, 4.0, 2.5),
    "south-east": (135.0, 4.0, 2.5),
    "west": (260.0, 9.0, 4.0),
}


def _vt_three_components(rng: np.random.Generator, baz: float, r_km: float, depth_km: float,
                         n: int, i_p: int) -> np.ndarray:
    """Noise-free (3, n) Z, N, E record of a VT at back-azimuth baz, P at sample i_p; peak 1.

    P moves along the ray: up or down (the source's polarity) and radially, along the back-azimuth;
    S moves across it, mostly on the transverse horizontal (SH), with some SV in the radial-vertical
    plane; the scattered coda is incoherent between components. Slow surface layers bend the rays
    towards the vertical (sin i = 0.6 r / R).
    """
    hyp = np.hypot(r_km, depth_km)
    sin_i = 0.6 * r_km / hyp
    cos_i = np.sqrt(1 - sin_i**2)
    b = np.deg2rad(baz)
    radial = np.array([0.0, np.cos(b), np.sin(b)])          # Z, N, E of the horizontal towards the source
    transverse = np.array([0.0, -np.sin(b), np.cos(b)])
    vertical = np.array([1.0, 0.0, 0.0])
    f_hi = 20.0 - 0.8 * hyp
    t = (np.arange(n) - i_p) / FS
    tsp = hyp * (1 / V_S - 1 / V_P)
    polarity = rng.choice([-1.0, 1.0])
    p = _band(rng, n, 2.0, f_hi) * _onset_envelope(t, 0.05, rng.uniform(0.3, 0.6))
    p_dir = polarity * (cos_i * vertical - sin_i * radial)  # away from the source: up (or down) and outwards
    s = _band(rng, n, 1.5, 0.8 * f_hi) * _onset_envelope(t - tsp, 0.1, rng.uniform(0.6, 1.2))
    psi = rng.uniform(-0.6, 0.6)                            # SH with some SV
    sv_dir = sin_i * vertical + cos_i * radial
    s_dir = rng.choice([-1.0, 1.0]) * (np.cos(psi) * transverse + np.sin(psi) * sv_dir)
    coda_env = _onset_envelope(t - tsp - 0.3, 0.3, rng.uniform(1.0, 2.0))
    coda = np.stack([_band(rng, n, 1.0, 0.7 * f_hi) for _ in range(3)]) * coda_env
    x = (np.outer(p_dir, p) + rng.uniform(1.5, 3.0) * np.outer(s_dir, s)
         + rng.uniform(0.3, 0.6) * coda)
    return x / np.max(np.abs(x))


def make_windows(rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """(n, 400, 3) int16 counts (channels last: Z, N, E) and one row per window, regions shuffled."""
    n = int(WINDOW_S * FS)
    labels = [region for region in REGIONS for _ in range(WINDOWS_PER_REGION)]
    order = rng.permutation(len(labels))
    windows = np.zeros((len(labels), n, 3), dtype=np.int16)
    rows = []
    for k, idx in enumerate(order):
        region = labels[idx]
        sigma = 10 ** rng.uniform(1.0, 1.4)
        x = np.stack([station_noise(rng, n, sigma) for _ in range(3)])
        row = dict(region=region, distance_km="", back_azimuth_deg="", p_arrival_s="", snr="")
        if region == "noise":
            if rng.uniform() < 0.5:                          # a burst of cultural noise on one component
                m = int(rng.uniform(0.5, 2.0) * FS)
                i0 = rng.integers(0, n - m)
                burst = _band(rng, m, 5.0, 15.0) * np.hanning(m)
                x[rng.integers(0, 3), i0:i0 + m] += rng.uniform(3.0, 10.0) * sigma * burst
        else:
            baz0, r0, h0 = SWARMS[region]
            baz = baz0 + rng.uniform(-12.0, 12.0)
            r_km, depth_km = r0 + rng.uniform(-0.8, 0.8), h0 + rng.uniform(-0.5, 0.5)
            i_p = int(rng.uniform(1.0, 3.0) * FS)
            snr = 10 ** rng.uniform(0.6, 1.6)
            x += snr * sigma * _vt_three_components(rng, baz, r_km, depth_km, n, i_p)
            row.update(distance_km=round(r_km, 2), back_azimuth_deg=round(baz % 360, 1),
                       p_arrival_s=round(i_p / FS, 2), snr=round(snr, 1))
        windows[k] = np.round(x.T).astype(np.int16)
        rows.append(row)
    return windows, rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def generate(out: Path, variant: int = 0) -> None:
    """Write the six files into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED if variant == 0 else (SEED, variant))
    catalogue, rows = make_catalogue(rng)
    catalogue.write(str(out / "catalogue.mseed"), format="MSEED", encoding="STEIM2", reclen=512)
    _write_csv(out / "labels.csv", rows)
    continuous, events = make_continuous(rng)
    continuous.write(str(out / "continuous.mseed"), format="MSEED", encoding="STEIM2", reclen=512)
    _write_csv(out / "continuous_events.csv", events)
    windows, window_rows = make_windows(np.random.default_rng([SEED, 3, variant]))
    np.save(out / "windows.npy", windows)
    _write_csv(out / "windows.csv", window_rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--variant", type=int, default=0, help="0: the committed data; K > 0: variant K")
    args = parser.parse_args()
    generate(args.out, args.variant)
