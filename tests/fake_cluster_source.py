"""A quick cluster source with the ``data_prep.deepcee_data.cluster_sources`` API, for tests and benchmarks
of ``deepcee tfrecords``: Gaussian noise plus a Gaussian blob on every BCG, on a north-up TAN
grid, deterministic from the requested centre; and ``run_tfrecords``, which runs the verb
in-process with such a source."""
import time

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table

from helpers import tan_wcs

COLUMNS = ("name", "ra", "dec", "z", "bcg_rmag", "richness", "n200")
BAND_GAINS = (("g", 0.6), ("r", 1.0), ("i", 1.3))
BLOB_SIGMA_PX = 4.0


def scattered_clusters(n, prefix="FAKE", redmapper=False):
    """``n`` cluster rows 2 deg apart (never in one another's cutouts)."""
    return [(f"{prefix} {k}", 10.0 + 2.0 * k, 5.0 + (k % 7), 0.1 + 0.1 * (k % 10) / 10,
             np.nan if redmapper else 16.0, 30.0, np.nan if redmapper else 25.0)
            for k in range(n)]


class FakeClusterSource:
    """Clusters from row lists; cutouts of noise and blobs.

    Parameters
    ----------
    wen, redmapper : list of tuple
        Rows of ``COLUMNS`` for the paper sample and the redMaPPer sample.
    faults : dict, optional
        Cluster name -> ``"nan"`` (all bands NaN), ``"zeros"`` (r band all zero), ``"no-g"``
        (no g band) or ``"nan-edge"`` (the first fifth of the rows NaN), applied to cutouts
        whose nearest cluster it is.
    delay : float
        Seconds slept per cutout (to interrupt a run mid-way).
    """

    def __init__(self, wen, redmapper, faults=None, delay=0.0):
        self.wen = Table(rows=wen, names=COLUMNS)
        self.redmapper = Table(rows=redmapper, names=COLUMNS)
        self.all = Table(rows=list(wen) + list(redmapper), names=COLUMNS)
        self.faults = faults or {}
        self.delay = delay
        self.calls = 0

    def paper_sample(self):
        return self.wen.copy(), [["all rows", len(self.wen)]]

    def redmapper_sample(self, exclude):
        assert len(exclude) == len(self.wen)
        return self.redmapper.copy()

    def cutout(self, ra, dec, size_px, scale_arcsec):
        self.calls += 1
        time.sleep(self.delay)
        wcs = tan_wcs(ra, dec, scale_arcsec, size=size_px, cd=True)
        rng = np.random.default_rng([int(ra * 1e5), int(dec * 1e5)])
        image = rng.normal(0.0, 0.05, (size_px, size_px))
        positions = SkyCoord(self.all["ra"], self.all["dec"], unit="deg")
        separation = SkyCoord(ra, dec, unit="deg").separation(positions).deg
        near = separation < size_px * scale_arcsec / 3600
        for x0, y0 in zip(*wcs.world_to_pixel(positions[near])):
            half = int(5 * BLOB_SIGMA_PX)
            ix, iy = int(round(float(x0))), int(round(float(y0)))
            x_lo, x_hi = max(ix - half, 0), min(ix + half + 1, size_px)
            y_lo, y_hi = max(iy - half, 0), min(iy + half + 1, size_px)
            if x_lo < x_hi and y_lo < y_hi:
                yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi]
                image[y_lo:y_hi, x_lo:x_hi] += 3.0 * np.exp(
                    -((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * BLOB_SIGMA_PX ** 2))
        header = wcs.to_header()
        hdus = {band: fits.PrimaryHDU((image * gain).astype(np.float32), header)
                for band, gain in BAND_GAINS}
        fault = self.faults.get(str(self.all["name"][np.argmin(separation)]))
        if fault == "nan":
            hdus = {band: fits.PrimaryHDU(np.full_like(h.data, np.nan), header)
                    for band, h in hdus.items()}
        elif fault == "zeros":
            hdus["r"] = fits.PrimaryHDU(np.zeros_like(hdus["r"].data), header)
        elif fault == "no-g":
            del hdus["g"]
        elif fault == "nan-edge":  # the first fifth of the rows off the survey's footprint
            for hdu in hdus.values():
                hdu.data[: size_px // 5] = np.nan
        return hdus


def run_tfrecords(argv, source):
    """Run ``deepcee <argv>`` in-process with ``source`` standing in for every cluster source
    of ``deepcee tfrecords``; return the exit status."""
    from data_prep.deepcee_data import builder
    from deepcee.cli import main

    original = builder.open_source
    builder.open_source = lambda name, cache_dir, seed, look=None: source
    try:
        return main(argv)
    finally:
        builder.open_source = original
