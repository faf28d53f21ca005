"""Heat map of cluster votes and the detected region (StellarVAE §IV, Fig. 5).

For each patch size, every patch labelled "cluster" is traced back to its pixels: a pixel's
vote is the fraction of the patches covering it that are labelled cluster (0 to 1, so edges
covered by fewer patches are not penalised). Each size's map is normalised to a maximum of 1
and the four maps are summed. Option beyond the paper (off by default, 0 keeping the paper's
unsmoothed map): the sum is smoothed with a Gaussian of ``smoothing_px`` (64 px, the largest
patch, in ``stellarvae.pipeline.IMPROVED``), which turns the votes -- star-sized at the small
patch sizes -- into a local density of cluster votes at the scale of the largest patch. The
region is the pixels at or above 0.7 x the maximum of the sum
-- only the connected part (8-connectivity) that holds the maximum, so a second, weaker
enhancement elsewhere is not merged into the cluster. Summed vote maps often reach their
maximum (every size voting "cluster") in several separate places; the part kept is then the one,
among those reaching the maximum, with the most heat in total (the largest, strongest one).

Option beyond the paper (``--region-sigma``, used by ``--preset robust``): the threshold is
the heat map's background level, its median plus ``n_sigma`` robust standard deviations
(:func:`background_level`, the same rule as the catalogue baselines'), instead of 0.7 x max.
A fraction of the maximum always finds a region, even in pure noise, and on a diffuse cluster
it keeps only the core; a level set by the map's own background does neither.
"""
import numpy as np
from scipy import ndimage

THRESHOLD_FRACTION = 0.7


def vote_map(image_shape, rows, cols, size, positive):
    """Fraction of the patches covering each pixel that are labelled cluster.

    Parameters
    ----------
    image_shape : tuple of int
        (ny, nx).
    rows, cols : ndarray of int
        First pixel (y, x) of each patch.
    size : int
        Patch side in pixels.
    positive : ndarray of bool
        True for patches labelled cluster.

    Returns
    -------
    ndarray, float32
        Values in [0, 1]; 0 where no patch covers a pixel.
    """
    votes = np.zeros(image_shape, dtype=np.float64)
    cover = np.zeros(image_shape, dtype=np.float64)
    for y, x, hit in zip(rows, cols, positive):
        cover[y:y + size, x:x + size] += 1.0
        if hit:
            votes[y:y + size, x:x + size] += 1.0
    return np.divide(votes, cover, out=np.zeros_like(votes), where=cover > 0).astype(np.float32)


def combined_heat_map(maps, smoothing_px=0.0):
    """Sum of the per-size maps, each first divided by its own maximum (empty maps add 0).

    Parameters
    ----------
    maps : list of ndarray
        Vote maps of the same shape.
    smoothing_px : float
        Gaussian sigma (pixels) applied to the sum; 0 for none (the paper).
    """
    total = np.zeros_like(np.asarray(maps[0]), dtype=np.float32)
    for single in maps:
        peak = float(np.max(single))
        if peak > 0:
            total += np.asarray(single, dtype=np.float32) / peak
    if smoothing_px > 0:
        total = ndimage.gaussian_filter(total, smoothing_px, mode="constant").astype(np.float32)
    return total


def background_level(values, n_sigma):
    """Median + ``n_sigma`` x the robust standard deviation (1.4826 x the median absolute
    deviation; the standard deviation when that is 0) of a map's values."""
    median = float(np.median(values))
    scatter = 1.4826 * float(np.median(np.abs(values - median)))
    if scatter <= 0:
        scatter = float(np.std(values))
    return median + n_sigma * scatter


def peak_region(heat, fraction=THRESHOLD_FRACTION, level=None):
    """Pixels at or above the threshold, connected to the heat map's maximum (module docstring).

    Parameters
    ----------
    heat : ndarray, 2-D
    fraction : float
        Threshold as a fraction of the maximum (the paper's adaptive 0.7 x max).
    level : float, optional
        An absolute threshold instead (used by the baselines).

    Returns
    -------
    ndarray of bool
        The region; all False when the map is empty (maximum <= 0).
    """
    heat = np.asarray(heat, dtype=np.float64)
    peak = float(np.max(heat))
    if peak <= 0:
        return np.zeros(heat.shape, dtype=bool)
    threshold = fraction * peak if level is None else min(level, peak)
    above = heat >= threshold
    components, count = ndimage.label(above, structure=np.ones((3, 3)))
    labels = np.arange(1, count + 1)
    at_peak = np.unique(components[heat >= peak])
    totals = ndimage.sum(heat, components, labels)
    totals[~np.isin(labels, at_peak)] = -np.inf
    return components == labels[int(np.argmax(totals))]
