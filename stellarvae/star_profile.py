"""A cluster's radius from the star over-density profile (beyond the paper; ``--radius-from
stars``, used by ``--preset robust``).

The heat map says where the cluster is; how large it is, the catalogue says better. Around the
heat map's centre, the catalogue stars are fitted by maximum likelihood with a Plummer (1911)
surface density on a uniform field,

    Sigma(r) = N_c / (pi a^2) (1 + r^2 / a^2)^-2  +  Sigma_field,

over the whole image (its covered area, :class:`stellarvae.measure.Footprint`, normalises
both terms, so a cluster at an edge is fitted right). The free parameters are the centre
(within ``max_shift`` of the starting centre), the Plummer scale ``a`` and the cluster's share
of the stars. The half-number radius of a Plummer profile is ``a``: that is the radius
reported, and the centre is the fitted one. The fit (Nelder-Mead) starts from several scales
(``A_STARTS_ARCSEC``), keeps the most likely and restarts once from it; a fit that ends at a
bound of ``a`` (``A_BOUNDS_ARCSEC``) or with no cluster stars is reported as failed.
"""
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

A_STARTS_ARCSEC = (15.0, 30.0, 60.0, 120.0)
A_BOUNDS_ARCSEC = (4.0, 200.0)
"""Plummer scales (arcsec) the fit may take: a fit at either end is reported as failed (a
cluster of more than 200" half-number radius is beyond the fields this is made for)."""


@dataclass
class PlummerFit:
    """Result of :func:`fit_plummer` (pixels of the image the stars were given in).

    Attributes
    ----------
    x, y : float
        Fitted centre.
    a_px : float
        Plummer scale = half-number radius.
    n_cluster : float
        Fitted number of cluster stars (all radii).
    log_likelihood_gain : float
        ln L of the fit minus that of a uniform field alone.
    ok : bool
        False when the fit ended at a bound of ``a`` or with no cluster stars.
    """

    x: float
    y: float
    a_px: float
    n_cluster: float
    log_likelihood_gain: float
    ok: bool


def _plummer(d2, a):
    return (1.0 + d2 / a ** 2) ** -2 / (np.pi * a ** 2)


def fit_plummer(star_x, star_y, footprint, x0, y0, max_shift_px, a_starts_arcsec=A_STARTS_ARCSEC):
    """Maximum-likelihood Plummer + uniform fit of catalogue stars (module docstring).

    Parameters
    ----------
    star_x, star_y : ndarray
        Star positions (0-based pixels of the image whose ``footprint`` is given).
    footprint : stellarvae.measure.Footprint
    x0, y0 : float
        Starting centre (pixels).
    max_shift_px : float
        How far the centre may move from (x0, y0).

    Returns
    -------
    PlummerFit or None
        None when there are fewer than 10 stars.
    """
    x = np.asarray(star_x, dtype=np.float64)
    y = np.asarray(star_y, dtype=np.float64)
    if len(x) < 10 or not (np.isfinite(x0) and np.isfinite(y0)):
        return None
    scale = footprint.scale_arcsec
    a_low, a_high = (bound / scale for bound in A_BOUNDS_ARCSEC)
    a_high = min(a_high, 0.5 * np.sqrt(footprint.area.sum()))
    cell_x, cell_y, cell_area = footprint.x, footprint.y, footprint.area
    total_area = float(cell_area.sum())
    n = len(x)
    uniform = n * np.log(1.0 / total_area)

    def unpack(theta):
        return theta[0], theta[1], np.exp(theta[2]), special.expit(theta[3])

    def negative_log_likelihood(theta):
        xc, yc, a, share = unpack(theta)
        if np.hypot(xc - x0, yc - y0) > max_shift_px or not a_low <= a <= a_high:
            return 1e30
        norm = float((_plummer((cell_x - xc) ** 2 + (cell_y - yc) ** 2, a) * cell_area).sum())
        if norm <= 0:
            return 1e30
        density = share * _plummer((x - xc) ** 2 + (y - yc) ** 2, a) / norm \
            + (1.0 - share) / total_area
        return -float(np.log(density).sum())

    best = None
    for a_start in a_starts_arcsec:
        a_start = float(np.clip(a_start / scale, a_low * 1.01, a_high * 0.99))
        start = np.array([x0, y0, np.log(a_start), special.logit(0.05)])
        steps = np.array([0.3 * a_start, 0.3 * a_start, 0.4, 1.0])
        simplex = np.vstack([start] + [start + np.eye(4)[i] * steps[i] for i in range(4)])
        result = optimize.minimize(negative_log_likelihood, start, method="Nelder-Mead",
                                   options={"initial_simplex": simplex, "xatol": 1e-2,
                                            "fatol": 1e-3, "maxiter": 800})
        if best is None or result.fun < best.fun:
            best = result
    # Nelder-Mead can stall: restart once from the best point with a fresh simplex.
    a_best = np.exp(best.x[2])
    steps = np.array([0.3 * a_best, 0.3 * a_best, 0.4, 1.0])
    simplex = np.vstack([best.x] + [best.x + np.eye(4)[i] * steps[i] for i in range(4)])
    result = optimize.minimize(negative_log_likelihood, best.x, method="Nelder-Mead",
                               options={"initial_simplex": simplex, "xatol": 1e-2,
                                        "fatol": 1e-3, "maxiter": 800})
    if result.fun < best.fun:
        best = result
    xc, yc, a, share = unpack(best.x)
    at_bound = not (a_low * 1.05 < a < a_high * 0.95)
    return PlummerFit(float(xc), float(yc), float(a), float(share * n),
                      float(-best.fun - uniform), bool(share * n >= 1.0 and not at_bound))
