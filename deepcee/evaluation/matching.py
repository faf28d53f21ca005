"""The distance rule of Deep-CEE §3.1 and one-to-one matching of boxes to clusters.

A predicted box is a true positive (TP) when its centre lies within the match radius
(100 kpc by default; never more than 250 kpc, the paper's optical core radius) of a
ground-truth BCG, measured as the projected physical distance at the ground-truth redshift
in the project's cosmology (``data_prep.base.cosmology``, FlatLambdaCDM H0 = 71, Om0 = 0.27).

Matching, per image (definitions chosen here, documented in the evaluation summary):

- Boxes are taken in order of decreasing score (ties: detector order). Each box takes the
  nearest ground-truth cluster within the radius that no higher-scoring box has taken.
- Each cluster is matched at most once: a second box on an already-matched cluster is a
  false positive (FP). This is what the paper's counts imply: at 0 % its 204 test images of
  300 boxes each give FP = 204 x 300 - TP = 60997.
- A box between two clusters goes to the nearer one within the radius (to the other one if
  the nearer was taken by a higher-scoring box).
- A cluster with no matched box above the threshold is a false negative (FN).

Because the assignment runs in score order, the matching at a threshold ``t`` is the
matching of all boxes restricted to the boxes with score > t, so it is computed once.

Pixel convention: the record's ``image/wcs`` describes the encoded (resized) image as a
2-D array ``image[row, col]``; astropy's 0-based pixel ``(x, y) = (col, row)`` has integer
values at pixel centres, so a normalised coordinate ``u`` (0 at the left/top edge, 1 at the
right/bottom edge of the image) is pixel ``u * size - 0.5``.
"""
import numpy as np
import astropy.units as u
from astropy.coordinates import SkyCoord

from data_prep.base.cosmology import kpc_per_arcsec
from data_prep.base.errors import InputError

DEFAULT_MATCH_RADIUS_KPC = 100.0
"""Paper §3.1: the distance threshold for a TP."""
MAX_MATCH_RADIUS_KPC = 250.0
"""Paper §3.1: nothing beyond the 250 kpc optical mean core radius is a TP."""


def check_match_radius(radius_kpc):
    """Return ``radius_kpc`` as float; InputError unless 0 < radius <= 250 kpc."""
    radius = float(radius_kpc)
    if not 0.0 < radius <= MAX_MATCH_RADIUS_KPC:
        raise InputError(f"match radius {radius:g} kpc is outside (0, {MAX_MATCH_RADIUS_KPC:g}] "
                         "kpc: the paper counts nothing beyond 250 kpc as a TP; choose e.g. 100")
    return radius


def normalised_to_pixel(coordinate, size):
    """Normalised image coordinate (0..1 across the image) -> 0-based pixel (centre = integer)."""
    return np.asarray(coordinate, float) * size - 0.5


def pixel_to_normalised(pixel, size):
    """0-based pixel (centre = integer) -> normalised image coordinate (0..1)."""
    return (np.asarray(pixel, float) + 0.5) / size


def box_centres(boxes):
    """Centres ``(x, y)`` of boxes ``[K, 4]`` ymin, xmin, ymax, xmax, in the boxes' unit
    (normalised here; pixels work the same)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return (boxes[:, 1] + boxes[:, 3]) / 2.0, (boxes[:, 0] + boxes[:, 2]) / 2.0


def normalised_to_sky(x, y, wcs, height, width):
    """Normalised image positions -> SkyCoord through the encoded image's WCS."""
    return wcs.pixel_to_world(normalised_to_pixel(x, width), normalised_to_pixel(y, height))


def sky_to_normalised(coords, wcs, height, width):
    """SkyCoord -> normalised image positions ``(x, y)`` through the encoded image's WCS."""
    x, y = wcs.world_to_pixel(coords)
    return pixel_to_normalised(x, width), pixel_to_normalised(y, height)


def offsets_kpc(box_coords, cluster_coords, cluster_redshifts):
    """Projected distances (kpc) ``[K, M]`` of K box centres from M clusters, each at the
    cluster's (ground-truth) redshift: angular separation x ``kpc_per_arcsec(z)``."""
    box_coords = SkyCoord(box_coords).reshape(-1)
    cluster_coords = SkyCoord(cluster_coords).reshape(-1)
    if len(box_coords) == 0 or len(cluster_coords) == 0:
        return np.zeros((len(box_coords), len(cluster_coords)))
    separation = box_coords[:, None].separation(cluster_coords[None, :]).to_value(u.arcsec)
    return separation * np.atleast_1d(kpc_per_arcsec(np.asarray(cluster_redshifts, float)))


def match_boxes(offsets, scores, radius_kpc=DEFAULT_MATCH_RADIUS_KPC):
    """One-to-one matching of one image's boxes to its clusters (rules in the module doc).

    Parameters
    ----------
    offsets : (K, M) array   distances in kpc from ``offsets_kpc``.
    scores : (K,) array      box confidence scores.
    radius_kpc : float       match radius, <= 250 kpc.

    Returns
    -------
    (K,) int array: the matched cluster's index, or -1 for a box that is a FP.
    """
    radius = check_match_radius(radius_kpc)
    offsets = np.asarray(offsets, float)
    if offsets.ndim != 2 or offsets.shape[0] != len(scores):
        raise ValueError(f"offsets {offsets.shape} must be (K, M) for K = {len(scores)} scores")
    offsets = np.where(np.isnan(offsets), np.inf, offsets)  # unknown distance: never a TP
    matched = np.full(len(scores), -1, dtype=np.int64)
    taken = np.zeros(offsets.shape[1], dtype=bool)
    for box in np.argsort(-np.asarray(scores, float), kind="stable"):
        distance = np.where(taken, np.inf, offsets[box])
        if distance.size and distance.min() <= radius:
            cluster = int(np.argmin(distance))
            matched[box] = cluster
            taken[cluster] = True
    return matched


def counts_at_thresholds(scores, matched, n_clusters, thresholds):
    """TP, FP, FN at each threshold (box counts when score > threshold).

    ``scores`` and ``matched`` are the concatenated boxes of all images (``matched`` >= 0 for
    a TP box); ``n_clusters`` is the number of ground-truth clusters over all images.
    """
    scores = np.asarray(scores, float)
    is_tp = np.asarray(matched) >= 0
    above = scores[None, :] > np.asarray(thresholds, float)[:, None]
    tp = np.sum(above & is_tp[None, :], axis=1)
    fp = np.sum(above & ~is_tp[None, :], axis=1)
    return tp, fp, n_clusters - tp
