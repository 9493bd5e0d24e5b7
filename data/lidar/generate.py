"""Synthetic terrestrial-lidar scans of a vegetated coastal dune, for 02-classification.

Why synthetic: the course's real scans (Brodu & Lague 2012) are far beyond our 15 MB budget and
cannot be downloaded at run time. What matters for the exercise is the *local geometry* that a
terrestrial laser scanner (TLS) records, and that is easy to reproduce:

* the **floor** is sand: a smooth dune flank (metre scale) carrying wind ripples (wavelength
  about 12 cm, about 2 cm from trough to crest). Seen through a small ball it is a rough plane
  (2-D), through a large ball a gently curved plane, still 2-D;
* the **vegetation** is mostly marram-like grass: tufts of thin, curved blades (1-D at the
  centimetre scale) that together fill a bushy volume (3-D at the decimetre scale), plus sparse
  isolated returns from leaves and blade tips (too few neighbours at small radii); one plant in
  three is a creeping mat, a rough carpet of leaves a few centimetres above the sand (flat at the
  decimetre scale, like the floor: the hard case);
* both are sampled as densely as a real TLS scan: a point every 3 mm on the ground at the scene's
  edge nearest the scanner, every 5 mm at the far edge (footprints spread with range), blades as
  ribbons a few millimetres wide; 3 mm range noise. Occlusion shadows are not modelled.

`python generate.py --out DIR` writes `floor.xyz`, `vegetation.xyz` (labelled subsets) and
`scene.xyz` (an unlabelled scene) as text: one `x y z` line per point, in metres, with a few
`nan nan nan` lines, as scanners export for pulses with no return. The notebook's hidden tests call
`make_scene` with other seeds to draw fresh scenes with known labels.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEED = 2012            # the year of Brodu & Lague's CANUPO paper
NEAR, FAR = 0.003, 0.005  # point spacing on the ground (m): at the scene's edge nearest the scanner, and farthest
NOISE = 0.003          # TLS range noise, standard deviation (m)
FLOOR, VEGETATION = 0, 1


def dune_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Floor elevation (m): a dune flank plus wind ripples, crests oblique to the x axis."""
    flank = 0.8 * np.tanh((x - 4.0) / 3.0) + 0.05 * np.sin(2 * np.pi * y / 7.0)
    phase = 2 * np.pi * (0.94 * x + 0.34 * y) / 0.12
    ripples = 0.008 * np.sin(phase) + 0.002 * np.sin(2 * phase + 1.0)
    return flank + ripples


def spacing(x: np.ndarray, width: float) -> np.ndarray:
    """Point spacing (m) at x: the scanner stands beyond x = 0, its footprints spread with range."""
    return NEAR + (FAR - NEAR) * np.clip(x / width, 0.0, 1.0)


def thinned(rng: np.random.Generator, x: np.ndarray, width: float) -> np.ndarray:
    """Which of the points drawn at the NEAR spacing a scan at spacing(x) keeps."""
    return rng.uniform(0.0, 1.0, len(x)) < (NEAR / spacing(x, width)) ** 2


def sample_floor(rng: np.random.Generator, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Points on the floor, Poisson-sampled at a spacing from NEAR (x = 0) to FAR (x = x1)."""
    n = rng.poisson((x1 - x0) * (y1 - y0) / NEAR**2)
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    keep = thinned(rng, x, x1)
    return np.column_stack([x[keep], y[keep], dune_height(x[keep], y[keep])])


def sample_shrub(rng: np.random.Generator, cx: float, cy: float, width: float) -> np.ndarray:
    """One tuft of grass blades rooted around (cx, cy), plus sparse isolated leaf returns.

    A blade is a ribbon 3 to 8 mm wide along a quadratic curve leaning away from the centre of the
    tuft, sampled at the scan's spacing: at most one or two points across it, hundreds along it.
    """
    n_blades = rng.integers(40, 90)
    height = rng.uniform(0.35, 0.9)
    spread = rng.uniform(0.15, 0.35)
    z0 = dune_height(np.array([cx]), np.array([cy]))[0]
    step = spacing(np.array([cx]), width)[0]
    blades = []
    for _ in range(n_blades):
        angle = rng.uniform(0, 2 * np.pi)
        root = np.array([cx, cy, z0]) + np.r_[rng.normal(0, 0.05, 2), 0.0]
        length = height * rng.uniform(0.6, 1.2)
        lean = spread * rng.uniform(0.5, 1.5)
        blade_width = rng.uniform(0.003, 0.008)
        n = rng.poisson(length * max(blade_width, step) / step**2)
        t = rng.uniform(0.05, 1.0, n)
        across = rng.uniform(-0.5, 0.5, n) * blade_width
        horizontal = lean * t**1.5
        blades.append(root + np.column_stack([horizontal * np.cos(angle) - across * np.sin(angle),
                                              horizontal * np.sin(angle) + across * np.cos(angle),
                                              length * t * (1 - 0.3 * t**2)]))
    points = np.vstack(blades)
    # Isolated returns: leaves and tips scattered in the tuft's envelope.
    n_leaves = len(points) // 20
    leaves = np.column_stack([rng.normal(cx, spread, n_leaves), rng.normal(cy, spread, n_leaves),
                              z0 + rng.uniform(0.05, height, n_leaves)])
    return np.vstack([points, leaves])


def sample_mat(rng: np.random.Generator, cx: float, cy: float, width: float) -> np.ndarray:
    """A creeping plant (sea-rocket-like mat): a rough carpet of leaves 0.5 to 3 cm above the sand.

    Flat at the decimetre scale like the floor, but rough at the centimetre scale: the hard case.
    """
    radius = rng.uniform(0.15, 0.35)
    n = rng.poisson(np.pi * radius**2 / NEAR**2)
    r, a = radius * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
    x, y = cx + r * np.cos(a), cy + r * np.sin(a)
    keep = thinned(rng, x, width)
    x, y = x[keep], y[keep]
    return np.column_stack([x, y, dune_height(x, y) + rng.uniform(0.005, 0.03, len(x))])


def make_scene(seed: int, width: float, length: float, n_shrubs: int) -> tuple[np.ndarray, np.ndarray]:
    """A scene: floor over [0, width] x [0, length] and n_shrubs tufts; returns (points, labels).

    Floor points inside a tuft's base are kept: the sand is seen between the blades.
    """
    rng = np.random.default_rng(seed)
    floor = sample_floor(rng, 0.0, width, 0.0, length)
    centres = rng.uniform([0.5, 0.5], [width - 0.5, length - 0.5], size=(n_shrubs, 2))
    # One plant in three is a creeping mat, the others are tufts of grass.
    veg = np.vstack([np.empty((0, 3))] + [sample_mat(rng, cx, cy, width) if k % 3 == 2 else sample_shrub(rng, cx, cy, width)
                                          for k, (cx, cy) in enumerate(centres)])
    points = np.vstack([floor, veg]) + rng.normal(0, NOISE, (len(floor) + len(veg), 3))
    labels = np.r_[np.full(len(floor), FLOOR), np.full(len(veg), VEGETATION)]
    order = rng.permutation(len(points))         # a scanner does not sort points by class
    return points[order], labels[order]


def with_missing_returns(rng: np.random.Generator, points: np.ndarray, fraction: float = 0.002) -> np.ndarray:
    """Insert `nan nan nan` rows, as TLS exports do for pulses without a return."""
    n_nan = max(1, int(fraction * len(points)))
    rows = np.sort(rng.choice(len(points) + n_nan, n_nan, replace=False))
    out = np.empty((len(points) + n_nan, 3))
    mask = np.zeros(len(out), bool)
    mask[rows] = True
    out[mask] = np.nan
    out[~mask] = points
    return out


def write_xyz(path: Path, points: np.ndarray) -> None:
    """Plain text, millimetre precision, one header comment line."""
    np.savetxt(path, points, fmt="%.3f", header="x y z (m), TLS scan of a coastal dune (synthetic)")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    # Labelled subsets, as an analyst would crop them from a scan: a bare sand patch, and tufts of
    # vegetation cut out of their floor.
    floor_pts, _ = make_scene(SEED + 1, 1.5, 1.5, 0)
    veg_pts, veg_lab = make_scene(SEED + 2, 2.5, 2.5, 7)
    veg_pts = veg_pts[veg_lab == VEGETATION]
    scene_pts, _ = make_scene(SEED + 3, 2.5, 2.0, 5)
    write_xyz(out / "floor.xyz", with_missing_returns(rng, floor_pts))
    write_xyz(out / "vegetation.xyz", with_missing_returns(rng, veg_pts))
    write_xyz(out / "scene.xyz", with_missing_returns(rng, scene_pts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
