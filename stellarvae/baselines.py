"""Catalogue-based cluster finders to compare with the VAE (beyond the paper).

Both are reviewed by Schmeja (2011, AN 332, 172) and work on the point-source catalogue, not
the image. Each gives a stellar surface-density map on the image's pixel grid; the region is
the part of the map at or above the background + :data:`N_SIGMA` x its robust scatter (median
and 1.4826 x MAD of the map), connected to the map's peak; it is then measured exactly like the
VAE's heat map (:mod:`stellarvae.measure`).

* :func:`star_count_map` -- star counts in square bins (Kumar et al. 2007; Schmeja's "star
  counts"), evaluated for a bin centred on every pixel (a moving window of ``bin_arcsec``).
* :func:`knn_density_map` -- the j-th nearest-neighbour density
  Sigma_j = (j - 1) / (pi r_j^2) (Casertano & Hut 1985), with j = 20, in stars per arcsec^2.
"""
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from stellarvae.heat_map import background_level, peak_region
from data_prep.base.celestial import pixel_scale_arcsec
from stellarvae.measure import measure_region

N_SIGMA = 3.0
"""The region's level above the background, in robust standard deviations."""

BASELINES = ("star_counts", "knn_density")


def star_pixels(stars, wcs):
    """0-based (x, y) pixel positions of catalogue stars."""
    x, y = wcs.celestial.world_to_pixel_values(np.asarray(stars["ra"], float),
                                               np.asarray(stars["dec"], float))
    return np.asarray(x), np.asarray(y)


def star_count_map(stars, wcs, shape, bin_arcsec=30.0):
    """Stars in a ``bin_arcsec`` square bin centred on each pixel.

    Returns
    -------
    ndarray, float32, shape ``shape``
    """
    bin_px = max(1, int(round(bin_arcsec / pixel_scale_arcsec(wcs))))
    x, y = star_pixels(stars, wcs)
    counts = np.zeros(shape, dtype=np.float64)
    xi, yi = np.round(x).astype(int), np.round(y).astype(int)
    inside = (xi >= 0) & (xi < shape[1]) & (yi >= 0) & (yi < shape[0])
    np.add.at(counts, (yi[inside], xi[inside]), 1.0)
    window_mean = ndimage.uniform_filter(counts, size=bin_px, mode="constant")
    return (window_mean * bin_px ** 2).astype(np.float32)


def knn_density_map(stars, wcs, shape, j=20, max_grid=600):
    """j-th nearest-neighbour stellar density (j - 1) / (pi r_j^2) per arcsec^2 on the pixels.

    The density is evaluated every ``step`` pixels, with ``step`` chosen so that at most
    ``max_grid`` points lie along a side (every pixel of a 10 arcmin 2MASS field, every 5th of
    a UKIDSS one), and each value fills its step x step block.

    Returns
    -------
    ndarray, float32, shape ``shape``; zeros when the catalogue has fewer than j stars.
    """
    x, y = star_pixels(stars, wcs)
    if len(x) < j:
        return np.zeros(shape, dtype=np.float32)
    step = max(1, int(np.ceil(max(shape) / max_grid)))
    tree = cKDTree(np.column_stack([x, y]))
    gy, gx = np.mgrid[0:shape[0]:step, 0:shape[1]:step] + (step - 1) / 2.0
    r_px, _ = tree.query(np.column_stack([gx.ravel(), gy.ravel()]), k=[j])
    r_arcsec = np.maximum(r_px[:, 0], 0.5) * pixel_scale_arcsec(wcs)
    coarse = ((j - 1) / (np.pi * r_arcsec ** 2)).reshape(gx.shape)
    full = np.repeat(np.repeat(coarse, step, axis=0), step, axis=1)
    return full[:shape[0], :shape[1]].astype(np.float32)


def significance_level(density):
    """Background (median) + :data:`N_SIGMA` x robust scatter (1.4826 MAD; the standard
    deviation when the MAD is 0) of a density map."""
    return background_level(density, N_SIGMA)


def baseline_detection(method, stars, wcs, shape):
    """Density map and :class:`~stellarvae.measure.Detection` of one baseline.

    Parameters
    ----------
    method : {"star_counts", "knn_density"}
    stars : Table
        Catalogue (``ra``, ``dec`` deg).
    wcs : astropy.wcs.WCS
    shape : tuple of int
        Image shape (ny, nx).

    Returns
    -------
    density : ndarray
    region : ndarray of bool
    detection : Detection
    """
    maker = {"star_counts": star_count_map, "knn_density": knn_density_map}[method]
    density = maker(stars, wcs, shape)
    region = peak_region(density, level=significance_level(density))
    return density, region, measure_region(density, region, wcs, method)
