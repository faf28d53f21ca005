"""The look of simulated SDSS images, drawn per image from ranges kept in JSON files.

A detector trained on one look (one seeing, depth, calibration, galaxy population and
stretch) learns that look (Deep-CEE §4.1). A :class:`Look` holds, for each property, the range
``[low, high]`` from which every cutout draws its own value (``low == high`` fixes it); the
draws come from the cutout's own seed, so the same sky, seed and look give the same bytes.
The files are ``pipeline_configs/looks/<name>.json``: ``varied`` (the training ranges of the
robust recipe) and held-out looks outside those ranges. Without a look (``None``) the
simulator renders the paper-like look of :class:`~data_prep.sim.difficulty.ClusterDifficulty`.

Properties (JSON keys; each ``[low, high]``):

- ``seeing_fwhm_arcsec``: PSF FWHM (SDSS median 1.4); ``psf_beta``: Moffat beta (wings);
- ``noise_scale``: multiplies the noise (depth: 2 = 1.5 mag shallower);
- ``sky_offset_sigma``: residual sky level after sky subtraction, in units of the sky noise;
  ``sky_gradient_sigma``: the change of that level across the image (random direction);
- ``g_gain``, ``r_gain``, ``i_gain``: each band multiplied by its own factor (zero point and
  colour calibration: 1.1 = 0.10 mag);
- ``red_sequence_g_r_offset``, ``red_sequence_r_i_offset``: added to the colours of every
  early-type galaxy (mag);
- ``galaxy_size_scale``: multiplies every galaxy's half-light radius;
- ``nfw_concentration``: concentration of the members' projected NFW profile (default 4);
- ``stretch_lower_sigma``, ``stretch_upper_percentile``: the colour stretch limits
  (``data_prep.deepcee_data.stretch``) drawn per image by the data set builder.
"""
import dataclasses
import functools
import json
from pathlib import Path

import numpy as np

from data_prep.base.errors import InputError

LOOKS_DIR = Path(__file__).resolve().parents[2] / "pipeline_configs" / "looks"


@dataclasses.dataclass(frozen=True)
class Look:
    """Ranges ``(low, high)`` of each property (see the module docstring for units)."""

    seeing_fwhm_arcsec: tuple = (1.4, 1.4)
    psf_beta: tuple = (3.5, 3.5)
    noise_scale: tuple = (1.0, 1.0)
    sky_offset_sigma: tuple = (0.0, 0.0)
    sky_gradient_sigma: tuple = (0.0, 0.0)
    g_gain: tuple = (1.0, 1.0)
    r_gain: tuple = (1.0, 1.0)
    i_gain: tuple = (1.0, 1.0)
    red_sequence_g_r_offset: tuple = (0.0, 0.0)
    red_sequence_r_i_offset: tuple = (0.0, 0.0)
    galaxy_size_scale: tuple = (1.0, 1.0)
    nfw_concentration: tuple = (4.0, 4.0)
    stretch_lower_sigma: tuple = (0.0, 0.0)
    stretch_upper_percentile: tuple = (99.5, 99.5)

    def draw(self, rng):
        """One image's look: {property: value}."""
        return {item.name: float(rng.uniform(*getattr(self, item.name)))
                for item in dataclasses.fields(self)}

    def as_dict(self):
        return {key: list(value) for key, value in dataclasses.asdict(self).items()}


_LIMITS = {"seeing_fwhm_arcsec": (0.3, 5.0), "psf_beta": (1.5, 10.0), "noise_scale": (0.1, 10.0),
           "g_gain": (0.1, 10.0), "r_gain": (0.1, 10.0), "i_gain": (0.1, 10.0),
           "galaxy_size_scale": (0.1, 10.0), "nfw_concentration": (0.5, 20.0),
           "stretch_upper_percentile": (50.0, 100.0)}


@functools.lru_cache(maxsize=None)
def load_look(name):
    """The :class:`Look` of ``pipeline_configs/looks/<name>.json``, or of a JSON file path; each
    file is read once per process (the data set builder asks for it for every image).

    Raises :class:`InputError` for a missing file, unknown keys or impossible ranges.
    """
    path = Path(name)
    if path.suffix != ".json":
        path = LOOKS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in LOOKS_DIR.glob("*.json")))
        raise InputError(f"--look {name}: no such look; use one of {known} or a JSON file")
    try:
        ranges = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    ranges.pop("description", None)
    names = {item.name for item in dataclasses.fields(Look)}
    unknown = sorted(set(ranges) - names)
    if unknown:
        raise InputError(f"{path}: unknown look properties {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(names))}")
    for key, value in ranges.items():
        low, high = _pair(path, key, value)
        lowest, highest = _LIMITS.get(key, (-np.inf, np.inf))
        if not lowest <= low <= high <= highest:
            raise InputError(f"{path}: {key} [{low:g}, {high:g}] must satisfy "
                             f"{lowest:g} <= low <= high <= {highest:g}")
        ranges[key] = (low, high)
    return Look(**ranges)


def _pair(path, key, value):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{path}: {key} must be a range [low, high] of numbers, not "
                         f"{value!r}") from None
    return low, high
