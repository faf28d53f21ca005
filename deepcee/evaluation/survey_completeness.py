"""Survey-level completeness and purity of a scan of the mock sky against score threshold, as
YOLO-CL (Grishin et al. 2023) reports them.

At a threshold t, the detections that count are those with score > t (the rule of the
threshold tables, :func:`deepcee.evaluation.matching.counts_at_thresholds`).

- purity(t): the fraction of counted detections with a true cluster within 100 kpc (Deep-CEE
  §3.1's distance rule: projected physical distance at the true cluster's redshift,
  :mod:`data_prep.base.cosmology`); two detections on one cluster are both pure (the scan
  merges duplicates within 1.61 arcmin before this);
- completeness(t): the fraction of true clusters with a counted detection within 100 kpc, over
  all true clusters in the region and over those that pass the paper's sample cuts
  (N200 >= 20, 0.1 < z < 0.2; Deep-CEE §2.2).

Written as ``completeness_purity.ecsv`` and ``completeness_purity.png``.
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, search_around_sky
from astropy.table import Table

from data_prep.base.cosmology import kpc_per_arcsec
from data_prep.base.figures import new_figure, save_png
from data_prep.surveys.catalogues import N200_MIN, Z_MAX, Z_MIN
from deepcee.evaluation.matching import DEFAULT_MATCH_RADIUS_KPC, check_match_radius

THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)


def matches_within_kpc(detections, truth, radius_kpc=DEFAULT_MATCH_RADIUS_KPC):
    """Pairs ``(detection index, truth index)`` closer than ``radius_kpc`` (projected, at the
    true cluster's redshift). ``detections`` has ``ra, dec`` and ``truth`` ``ra, dec, z`` (deg)."""
    radius = check_match_radius(radius_kpc)
    if len(detections) == 0 or len(truth) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    z = np.asarray(truth["z"], float)
    widest_arcsec = radius / float(np.min(kpc_per_arcsec(z)))
    found, true, separation, _ = search_around_sky(
        SkyCoord(detections["ra"], detections["dec"], unit="deg"),
        SkyCoord(truth["ra"], truth["dec"], unit="deg"), widest_arcsec * u.arcsec)
    close = separation.to_value(u.arcsec) * kpc_per_arcsec(z[true]) <= radius
    return found[close], true[close]


def completeness_purity(detections, truth, thresholds=THRESHOLDS,
                        radius_kpc=DEFAULT_MATCH_RADIUS_KPC):
    """The completeness and purity table (see the module doc).

    Parameters
    ----------
    detections : astropy.table.Table
        ``ra, dec`` (deg) and ``score`` of the scan's merged detections in the region.
    truth : astropy.table.Table
        ``ra, dec`` (deg), ``z`` and ``n200`` of the true clusters in the region.
    thresholds : array
        Score thresholds.
    radius_kpc : float
        Match radius (kpc), at most 250.

    Returns
    -------
    astropy.table.Table
        threshold, detections, pure, purity, completeness, completeness_paper_cuts (NaN where
        the denominator is 0), with the counts of true clusters in ``meta``.
    """
    scores = np.asarray(detections["score"], float)
    found, true = matches_within_kpc(detections, truth, radius_kpc)
    is_pure = np.zeros(len(scores), bool)
    is_pure[found] = True
    best = np.full(len(truth), -np.inf)  # best score of a detection near each true cluster
    np.maximum.at(best, true, scores[found])
    z, n200 = np.asarray(truth["z"], float), np.asarray(truth["n200"], float)
    paper = (n200 >= N200_MIN) & (z > Z_MIN) & (z < Z_MAX)
    counted = scores[None, :] > thresholds[:, None]
    n_counted = counted.sum(axis=1)
    pure = (counted & is_pure[None, :]).sum(axis=1)
    recovered = best[None, :] > thresholds[:, None]

    def fraction(numerator, denominator):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)

    table = Table({"threshold": thresholds, "detections": n_counted, "pure": pure,
                   "purity": fraction(pure, n_counted),
                   "completeness": fraction(recovered.sum(axis=1), len(truth)),
                   "completeness_paper_cuts": fraction(recovered[:, paper].sum(axis=1),
                                                       int(paper.sum()))})
    table.meta.update({"true_clusters": len(truth), "true_clusters_paper_cuts": int(paper.sum()),
                       "match_radius_kpc": float(radius_kpc),
                       "rule": "score > threshold counts; a true cluster within the radius"})
    for name in ("purity", "completeness", "completeness_paper_cuts"):
        table[name].info.format = ".4f"
    return table


def plot_completeness_purity(table, path, title):
    """Completeness (all, paper cuts) and purity against score threshold."""
    figure, axes = new_figure(6.0, 4.5)
    meta = table.meta
    axes.plot(table["threshold"], table["completeness"], "-", color="tab:blue",
              label=f"completeness, all {meta['true_clusters']} true clusters")
    axes.plot(table["threshold"], table["completeness_paper_cuts"], "--", color="tab:blue",
              label=f"completeness, paper cuts ({meta['true_clusters_paper_cuts']})")
    axes.plot(table["threshold"], table["purity"], "-", color="tab:red",
              label=f"purity (true cluster within {meta['match_radius_kpc']:g} kpc)")
    axes.set(xlabel="score threshold", ylabel="fraction", xlim=(0, 1), ylim=(-0.02, 1.02),
             title=title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    save_png(figure, path)
