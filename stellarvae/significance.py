"""How far to trust a detection: the star over-density inside it, against its surroundings.

Every detected circle (the VAE's and the baselines') gets the same test, on the catalogue:

* ``n_in``: catalogue stars inside the detected circle (centre, radius r);
* ``n_off``: stars in the annulus around it from ``EXCLUSION`` (2) r to 3 r (widened in steps of
  r/2, up to the whole image, until it covers at least ``MIN_OFF_RATIO`` (3) times the circle's
  area; from r when beyond 2 r less than the circle's area is on the image), over the image's
  covered area there (:class:`stellarvae.measure.Footprint`, so image
  edges and blank pixels count right). A local annulus, not the whole field, is the background:
  nebular extinction and other large-scale changes of the field's density then do not make a
  large circle look over-dense;
* ``n_expected`` = alpha ``n_off`` with alpha the ratio of the circle's to the annulus's area;
* ``significance_sigma``: the Poisson likelihood-ratio significance of ``n_in`` on a background
  measured from ``n_off`` (Li & Ma 1983, eq. 17; it counts the background's own Poisson noise),
  negative for an under-density, and ``p_value`` its one-sided Gaussian tail probability.

A detection is **significant** when ``significance_sigma >= SIGNIFICANCE_THRESHOLD`` (5) and its
``contrast`` (``n_in / n_expected - 1``) is at least ``MIN_CONTRAST`` (0.5): inside the circle the
catalogue is at least half as dense again as around it. The p-value is that of one circle
chosen in advance; a detector that searches a field for its densest spot finds a few sigma in a
field with no cluster at all, and in a deep catalogue (UKIDSS) patchy extinction makes real,
highly significant but shallow (10-40 %) variations of the field's star counts over arcminutes.
Both thresholds are set by the false detections measured on cluster-free fields
(``stellarvae injection-recovery``; README). The
paper's method keeps reporting its region whatever the significance (``status`` says whether to
trust it); ``--preset robust`` (``min_significance``) reports "no significant cluster" instead.

Without a catalogue there are no stars to count: the significance is NaN ("untested") and no
detection is withheld. With a catalogue, a circle that leaves no room on the image to measure
the field around it also has a NaN significance; it is not significant. :func:`heat_contrast_sigma` (the heat map's peak above its median, in
robust standard deviations) is reported beside it as an image-only figure, not used to decide.
"""
import numpy as np
from scipy import stats

from stellarvae.heat_map import background_level

SIGNIFICANCE_THRESHOLD = 5.0
"""Sigma at and above which a detection is significant (calibrated on empty fields)."""
EXCLUSION = 2.0
"""The background annulus starts at this many detected radii."""
MIN_CONTRAST = 0.5
"""Smallest over-density (n_in / n_expected - 1) of a significant detection."""
MIN_OFF_RATIO = 3.0
"""The background annulus covers at least this many times the circle's area."""


def li_ma_sigma(n_on, n_off, alpha):
    """Significance of ``n_on`` counts over a background of ``alpha`` x ``n_off`` counts
    measured apart (Li & Ma 1983, ApJ 272, 317, eq. 17), signed (negative: a deficit)."""
    n_on, n_off = float(n_on), float(n_off)
    total = n_on + n_off
    if total == 0 or alpha <= 0:
        return 0.0
    on = n_on * np.log((1.0 + alpha) / alpha * n_on / total) if n_on > 0 else 0.0
    off = n_off * np.log((1.0 + alpha) * n_off / total) if n_off > 0 else 0.0
    value = float(np.sqrt(max(2.0 * (on + off), 0.0)))
    return value if n_on >= alpha * n_off else -value


def overdensity(star_x, star_y, footprint, x0, y0, radius_px):
    """Significance of the stars in a circle against the annulus around it (module doc).

    Parameters
    ----------
    star_x, star_y : ndarray
        Catalogue stars in the image's 0-based pixel coordinates.
    footprint : stellarvae.measure.Footprint
    x0, y0, radius_px : float
        The detected circle (pixels).

    Returns
    -------
    dict
        ``n_in``, ``n_off``, ``n_expected``, ``contrast`` (n_in / n_expected - 1),
        ``field_density_arcmin2`` (stars per arcmin^2 in the annulus), ``p_value``,
        ``significance_sigma`` (NaN for an empty catalogue or circle, or a circle with no
        annulus on the image).
    """
    nan = float("nan")
    result = {"n_in": 0, "n_off": 0, "n_expected": nan, "contrast": nan,
              "field_density_arcmin2": nan, "p_value": nan, "significance_sigma": nan}
    if len(star_x) == 0 or not (np.isfinite(x0) and np.isfinite(radius_px)) or radius_px <= 0:
        return result
    distance = np.hypot(np.asarray(star_x) - x0, np.asarray(star_y) - y0)
    cells = np.hypot(footprint.x - x0, footprint.y - y0)
    area_in = footprint.area_within(x0, y0, radius_px)
    result["n_in"] = n_in = int((distance <= radius_px).sum())
    reach = float(cells.max()) + footprint.step
    for inner in (EXCLUSION * radius_px, radius_px):  # the annulus at 1 r if 2 r is off the image
        outer = inner + radius_px
        while True:
            area_off = float(footprint.area[(cells > inner) & (cells <= outer)].sum())
            if area_off >= MIN_OFF_RATIO * area_in or outer > reach:
                break
            outer += 0.5 * radius_px
        if area_off >= area_in:
            break
    if area_in <= 0 or area_off <= 0:
        return result
    n_off = int(((distance > inner) & (distance <= outer)).sum())
    alpha = area_in / area_off
    sigma = li_ma_sigma(n_in, n_off, alpha)
    expected = float(alpha * n_off)
    result.update({"n_off": n_off, "n_expected": expected,
                   "contrast": float(n_in / expected - 1.0) if expected > 0 else float("inf"),
                   "field_density_arcmin2": float(n_off / area_off * 3600.0
                                                  / footprint.scale_arcsec ** 2),
                   "p_value": float(stats.norm.sf(sigma)), "significance_sigma": sigma})
    return result


def heat_contrast_sigma(heat):
    """The heat map's peak above its median in robust standard deviations (NaN for a flat
    map)."""
    heat = np.asarray(heat, dtype=np.float64)
    median = float(np.median(heat))
    unit = background_level(heat, 1.0) - median
    return float((heat.max() - median) / unit) if unit > 0 else float("nan")


def is_significant(test, min_sigma=SIGNIFICANCE_THRESHOLD, min_contrast=MIN_CONTRAST):
    """True when an :func:`overdensity` result reaches both thresholds (False when its
    significance is NaN: nothing was tested)."""
    return bool(np.isfinite(test["significance_sigma"]) and test["significance_sigma"] >= min_sigma
                and test["contrast"] >= min_contrast)
