"""A cluster's radius from the star over-density profile (beyond the paper; ``--radius-from
stars``, used by ``--preset robust``).

The heat map says where the cluster is; how large it is, the catalogue says better. Around the
heat map's centre, the catalogue's stars are fitted by maximum likelihood (an inhomogeneous
Poisson process) with a Plummer (1911) surface density on a uniform field,

    S(r) = N_c / (pi a^2) (1 + r^2 / a^2)^-2  +  S_field,

seen through the catalogue's blending: a survey catalogue keeps one source of any two closer
than about a seeing FWHM, ``b``, so where the true density S is high it lists fewer stars,

    S_observed = (1 - exp(-pi b^2 S)) / (pi b^2)

(a source is kept when no brighter one lies within ``b``; with brightness independent of
position, averaging exp(-pi b^2 S u) over the fraction u of sources brighter gives this). A
cluster's crowded core otherwise looks flatter than it is and the fitted radius too large
(README: Presets, ``--blend-arcsec``; selection function). ``b`` is measured from the
catalogue itself (:func:`blend_separation`) unless given; ``b = 0`` is the plain fit.

With ``luminosity_bins`` > 0 the fit also weighs each star's K magnitude: a young cluster's
luminosity function is flatter than the field's (more bright stars), so a bright star is more
likely a member. The density is then marked, S(r, K) = S_c(r) phi_c(K) + S_field phi_f(K), with
the two luminosity functions histograms over equal-count magnitude bins, fitted by
expectation-maximisation: each star's membership probability from the current fit gives the
histograms (one star added to every bin), the profile is refitted with them, and so on
``LUMINOSITY_ROUNDS`` times. Blending thins both alike. A star without a magnitude counts by
its position alone.

The integral of S_observed runs over the whole image (its covered area,
:class:`stellarvae.measure.Footprint`), so a cluster at an edge is fitted right. The free
parameters are the centre (within ``max_shift`` of the starting centre), the Plummer scale
``a``, ``N_c`` and ``S_field``. The half-number radius of a Plummer profile is ``a``: that is
the radius reported, and the centre is the fitted one. The fit (Nelder-Mead) starts from
several scales (``A_STARTS_ARCSEC``), keeps the most likely and restarts once from it; a fit
that ends at a bound of ``a`` (``A_BOUNDS_ARCSEC``) or with less than one cluster star is
reported as failed.
"""
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.spatial import cKDTree

from data_prep.base.columns import floats

A_STARTS_ARCSEC = (15.0, 30.0, 60.0, 120.0)
A_BOUNDS_ARCSEC = (4.0, 200.0)
"""Plummer scales (arcsec) the fit may take: a fit at either end is reported as failed (a
cluster of more than 200" half-number radius is beyond the fields this is made for)."""
BLEND_CONTAMINATION = 0.02
"""Share of close pairs :func:`blend_separation` allows below the blending separation
(positional errors, artefacts, resolved doubles)."""
BLEND_NEIGHBOUR = 10
"""The local density around a star is counted out to its BLEND_NEIGHBOUR-th neighbour."""
LUMINOSITY_ROUNDS = 3
"""Refits of the profile with updated luminosity functions (``luminosity_bins`` > 0)."""
MIN_STARS_PER_BIN = 10
"""Fewer stars with a magnitude than this many per luminosity bin: positions alone are fitted."""


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
        Fitted number of cluster stars (all radii, before blending).
    log_likelihood_gain : float
        ln L of the fit minus that of a uniform field alone (with luminosity functions: a
        uniform field with the catalogue's luminosity function).
    ok : bool
        False when the fit ended at a bound of ``a`` or with less than one cluster star.
    """

    x: float
    y: float
    a_px: float
    n_cluster: float
    log_likelihood_gain: float
    ok: bool


def _plummer(d2, a):
    return (1.0 + d2 / a ** 2) ** -2 / (np.pi * a ** 2)


def _blended(density, blend_px):
    """Density a catalogue lists where the true density is ``density`` (module docstring)."""
    if blend_px <= 0:
        return density
    area = np.pi * blend_px ** 2
    return -np.expm1(-area * density) / area


def blend_separation(star_x, star_y, max_log_likelihood_drop=2.0):
    """The separation below which a catalogue lists almost no pairs (same unit as the input).

    Each star's nearest-neighbour distance d is modelled, given the local density S from its
    ``BLEND_NEIGHBOUR``-th neighbour, as a Poisson field's with nothing closer than b: the
    density of d is 2 pi S d exp(-pi S (d^2 - b^2)) for d >= b, mixed with a plain Poisson
    field's for ``BLEND_CONTAMINATION`` of the stars. The likelihood is scanned over b from 0
    to the median nearest-neighbour distance; the smallest b within ``max_log_likelihood_drop``
    of the best is returned, so a sparse catalogue, whose likelihood is flat, does not claim
    more blending than it shows. 0 for fewer than ``BLEND_NEIGHBOUR`` + 1 stars; rows at the
    same position as another (duplicates) are left out.
    """
    xy = np.column_stack([np.asarray(star_x, np.float64), np.asarray(star_y, np.float64)])
    if len(xy) <= BLEND_NEIGHBOUR:
        return 0.0
    distance = cKDTree(xy).query(xy, k=BLEND_NEIGHBOUR + 1)[0]
    distance = distance[distance[:, 1] > 0]
    if len(distance) == 0:
        return 0.0
    nearest, far = distance[:, 1], distance[:, BLEND_NEIGHBOUR]
    density = (BLEND_NEIGHBOUR - 1) / (np.pi * far ** 2)
    unblended = 2.0 * np.pi * density * nearest * np.exp(-np.pi * density * nearest ** 2)
    candidates = np.linspace(0.0, float(np.median(nearest)), 200)
    log_likelihood = np.array([np.log(
        (1.0 - BLEND_CONTAMINATION) * np.where(nearest >= b, unblended * np.exp(
            np.pi * density * b ** 2), 0.0) + BLEND_CONTAMINATION * unblended).sum()
        for b in candidates])
    return float(candidates[np.argmax(log_likelihood >= log_likelihood.max()
                                      - max_log_likelihood_drop)])


def _luminosity_bins(kmag, n_bins):
    """Bin index of each star in ``n_bins`` equal-count K bins (-1: no magnitude), or None
    when fewer than ``MIN_STARS_PER_BIN`` x ``n_bins`` stars have one."""
    kmag = floats(kmag)
    finite = np.isfinite(kmag)
    if n_bins < 1 or finite.sum() < MIN_STARS_PER_BIN * n_bins:
        return None
    inner_edges = np.quantile(kmag[finite], np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return np.where(finite, np.searchsorted(inner_edges, kmag), -1)


def _relative_luminosity(bins, weights, n_bins):
    """Per star, the weighted histogram of the bins (one star added to each) over a flat one:
    phi(K) in units of the mean over the bins (1 for a star without a magnitude)."""
    known = bins >= 0
    histogram = np.bincount(bins[known], weights=weights[known], minlength=n_bins) + 1.0
    relative = histogram / histogram.sum() * n_bins
    return np.where(known, relative[np.maximum(bins, 0)], 1.0)


def fit_plummer(star_x, star_y, footprint, x0, y0, max_shift_px, blend_px=0.0, kmag=None,
                luminosity_bins=0, a_starts_arcsec=A_STARTS_ARCSEC):
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
    blend_px : float
        The catalogue's blending separation ``b`` (pixels); 0 = no blending.
    kmag : array-like or None
        K magnitudes of the stars (NaN or masked = none), for ``luminosity_bins``.
    luminosity_bins : int
        > 0: also fit the cluster's and the field's luminosity functions in this many
        equal-count K bins (module docstring); 0, or too few magnitudes: positions only.

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
    n = len(x)
    listed = n / float(cell_area.sum())  # the uniform field alone: ln L = n ln(listed) - n
    if blend_px > 0 and np.pi * blend_px ** 2 * listed >= 1.0:
        blend_px = 0.0  # denser than blending allows: the separation does not fit this list
    field_start = (-np.log1p(-np.pi * blend_px ** 2 * listed) / (np.pi * blend_px ** 2)
                   if blend_px > 0 else listed)
    bins = None if kmag is None else _luminosity_bins(kmag, luminosity_bins)
    overall = (np.ones(n) if bins is None
               else _relative_luminosity(bins, np.ones(n), luminosity_bins))
    cluster_luminosity = field_luminosity = overall

    def cluster_density(xc, yc, a, n_cluster, px, py):
        return n_cluster * _plummer((px - xc) ** 2 + (py - yc) ** 2, a)

    def negative_log_likelihood(theta):
        xc, yc, a, n_cluster, field = theta[0], theta[1], *np.exp(theta[2:])
        if np.hypot(xc - x0, yc - y0) > max_shift_px or not a_low <= a <= a_high:
            return 1e30
        cluster = cluster_density(xc, yc, a, n_cluster, x, y)
        on_stars = _blended(cluster + field, blend_px)
        if bins is not None:  # blending thins members and field stars alike
            on_stars = on_stars / (cluster + field) * (cluster * cluster_luminosity
                                                       + field * field_luminosity)
        on_cells = _blended(cluster_density(xc, yc, a, n_cluster, cell_x, cell_y) + field,
                            blend_px)
        return float((on_cells * cell_area).sum()) - float(np.log(on_stars).sum())

    def minimise(start, a_start):
        steps = np.array([0.3 * a_start, 0.3 * a_start, 0.4, 1.0, 0.1])
        simplex = np.vstack([start] + [start + np.eye(5)[i] * steps[i] for i in range(5)])
        return optimize.minimize(negative_log_likelihood, start, method="Nelder-Mead",
                                 options={"initial_simplex": simplex, "xatol": 1e-2,
                                          "fatol": 1e-3, "maxiter": 1000})

    def refine(best):
        # Nelder-Mead can stall: restart once from the best point with a fresh simplex.
        result = minimise(best.x, float(np.exp(best.x[2])))
        return result if result.fun < best.fun else best

    best = None
    for a_start in a_starts_arcsec:
        a_start = float(np.clip(a_start / scale, a_low * 1.01, a_high * 0.99))
        result = minimise(np.array([x0, y0, np.log(a_start), np.log(0.05 * n + 1.0),
                                    np.log(field_start)]), a_start)
        if best is None or result.fun < best.fun:
            best = result
    best = refine(best)
    for _ in range(0 if bins is None else LUMINOSITY_ROUNDS):
        xc, yc, a, n_cluster, field = best.x[0], best.x[1], *np.exp(best.x[2:])
        cluster = cluster_density(xc, yc, a, n_cluster, x, y) * cluster_luminosity
        member = cluster / (cluster + field * field_luminosity)
        cluster_luminosity = _relative_luminosity(bins, member, luminosity_bins)
        field_luminosity = _relative_luminosity(bins, 1.0 - member, luminosity_bins)
        best = refine(minimise(best.x, float(np.exp(best.x[2]))))
    xc, yc, a, n_cluster, _ = best.x[0], best.x[1], *np.exp(best.x[2:])
    at_bound = not (a_low * 1.05 < a < a_high * 0.95)
    uniform = n * np.log(listed) - n + float(np.log(overall).sum())
    return PlummerFit(float(xc), float(yc), float(a), float(n_cluster),
                      float(-best.fun - uniform), bool(n_cluster >= 1.0 and not at_bound))
