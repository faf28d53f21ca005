"""The selection function of StellarVAE and the baselines, by injection and recovery on the
simulator (beyond the paper; the twin of ``deepcee.evaluation.injection_recovery``).

**Grid.** Every combination of cluster members (counted to the 2MASS limit, K = 14.3; a UKIDSS
field shows the same cluster to its own, deeper limit), half-number radius (arcsec), field-star
density (``StarClusterDifficulty.field_density_scale``: 1 is the simulator's Galactic
anticentre, about 5 stars per arcmin^2 to K = 14.3; 5 is 1500-3000 stars in 10' x 10', as the
fields of the issue), nebulosity strength and survey (``2mass`` at 1"/px, ``ukidss`` at
0.2"/px) is a cell; each cell is simulated with ``seeds`` seeds (Plummer clusters, concentration
:data:`CONCENTRATION`, centred within 10 % of the field's half-width). Cluster-free fields of
every density, nebulosity and survey, with ``empty_seeds`` seeds each, measure false detections.

**Methods.** ``vae_paper`` (``--preset paper``), ``vae_robust`` (``--preset robust``),
``vae_robust_image`` (the robust preset's heat map alone: ``--radius-from region``) and the
catalogue baselines ``star_counts`` and ``knn_density``, all on the same field, through
:func:`stellarvae.pipeline.analyse_field`.

**Scores** (per field and method), against the true half-number circle:

* ``claimed``: the method reports a region (the paper's method always does; the robust preset
  only when it is significant);
* ``significant``: its star over-density reaches the thresholds of
  :func:`stellarvae.significance.is_significant` (5 sigma, contrast 0.5), whether or not the
  method withholds it;
* ``detected``: claimed, significant and centred within one half-number radius of the truth;
  on a cluster-free field, claimed and significant is a **false detection**;
* ``iou``: catalogue stars in the intersection over the union of the claimed circle and the
  true half-number circle (the paper's IoU; 0 when nothing is claimed);
* ``offset_over_r_half``: centre offset / true half-number radius (claimed regions only);
* ``located``: claimed and centred within one half-number radius, significant or not (how well
  a method points at the cluster, apart from whether its region passes the test);
* ``radius_from``: where the circle comes from: ``stars`` (the VAE's Plummer fit to the
  catalogue) or ``region`` (the heat map's region, or a baseline's density-map region);
* ``iou_significant`` (per cell, derived): the IoU of a claim that is significant, 0 otherwise:
  every method judged by the same rule, as if each withheld what the robust preset withholds.

Per cell and method (``selection_function.ecsv``): detection rate, median IoU, median IoU of
significant claims, median offset / r_half, claim rate, and the radius of the located claims
against the truth: ``median_radius_over_r_half`` (the bias) and ``radius_scatter`` (the robust
standard deviation, 1.4826 x the median absolute deviation, of ln(radius / r_half): about the
fractional scatter), which together say why a method's IoU is what it is; per empty cell: the
false-detection and claim rates.

**Running.** Each field is one task, run on Dask through ``data_prep.base.dask_scan`` (an
embedded ``LocalCluster`` by default; ``--scheduler``), in a child process of the worker
(:func:`evaluate_field_in_subprocess`: TensorFlow's memory is given back after each field): its
result is written to ``OUT/tiles/<field id>.ecsv`` once, and a rerun skips every field whose
result exists.
``OUT/scan.json`` holds the settings; the tables and maps are remade from all finished fields.
"""
import json
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import numpy as np
from astropy.stats import mad_std
from astropy.table import Table, vstack
from astropy.wcs import WCS

from data_prep.base.child_process import run_in_child
from data_prep.base.files import write_json, write_table, write_text

MEMBERS = (60, 140)
R_HALF_ARCSEC = (45.0, 90.0)
DENSITY = (1.0, 5.0)
NEBULOSITY = (0.3, 2.0)
SURVEYS = ("2mass", "ukidss")
SEEDS = 2
EMPTY_SEEDS = 3
SIZE_ARCMIN = 6.0
CONCENTRATION = 4.0
"""Plummer truncation radius over the Plummer scale of the injected clusters."""
FIELD_RA, FIELD_DEC = 92.1156, 20.6539
"""Field centre: IRAS 06055+2039 (Galactic anticentre, b = -0.1 deg)."""
METHODS = ("vae_paper", "vae_robust", "vae_robust_image", "star_counts", "knn_density")
"""``vae_robust_image`` is the robust preset with the radius and centre from the heat map's
region, not the catalogue (``--radius-from region``): what the VAE finds from the image alone.
"""
DETECTABLE_RATE = 0.5
"""A cell is detectable when some method detects the cluster in at least this share of its
fields."""


@dataclass(frozen=True)
class FieldSpec:
    """One simulated field of the grid (a Dask task).

    ``members`` is 0 for a cluster-free field (then ``r_half_arcsec`` is 0).
    ``ra``/``dec`` are there for ``dask_scan``'s failed-task table.
    """

    members: int
    r_half_arcsec: float
    density: float
    nebulosity: float
    survey: str
    seed: int
    size_arcmin: float = SIZE_ARCMIN
    ra: float = FIELD_RA
    dec: float = FIELD_DEC

    @property
    def empty(self):
        return self.members == 0

    @property
    def cell(self):
        """The cell's id (the field's id without its seed)."""
        if self.empty:
            return f"empty_d{self.density:g}_n{self.nebulosity:g}_{self.survey}"
        return (f"m{self.members}_r{self.r_half_arcsec:g}_d{self.density:g}"
                f"_n{self.nebulosity:g}_{self.survey}")

    @property
    def id(self):
        return f"{self.cell}_s{self.seed}"


@dataclass(frozen=True)
class Grid:
    """The axes of the selection function (module docstring)."""

    members: tuple = MEMBERS
    r_half_arcsec: tuple = R_HALF_ARCSEC
    density: tuple = DENSITY
    nebulosity: tuple = NEBULOSITY
    surveys: tuple = SURVEYS
    seeds: int = SEEDS
    empty_seeds: int = EMPTY_SEEDS
    size_arcmin: float = SIZE_ARCMIN
    first_seed: int = 0

    def fields(self):
        """Every field: the cluster cells' seeds, then the cluster-free fields."""
        seeds = range(self.first_seed, self.first_seed + self.seeds)
        specs = [FieldSpec(int(m), float(r), float(d), float(n), s, int(seed), self.size_arcmin)
                 for m, r, d, n, s, seed in product(self.members, self.r_half_arcsec,
                                                    self.density, self.nebulosity,
                                                    self.surveys, seeds)]
        empty_seeds = range(self.first_seed, self.first_seed + self.empty_seeds)
        specs += [FieldSpec(0, 0.0, float(d), float(n), s, int(seed), self.size_arcmin)
                  for d, n, s, seed in product(self.density, self.nebulosity, self.surveys,
                                               empty_seeds)]
        return specs


def members_at_survey(members_2mass, survey):
    """Members above ``survey``'s catalogue limit of a cluster with ``members_2mass`` above
    2MASS's (the simulator's cluster luminosity function)."""
    from data_prep.sim.kband_surveys import SURVEYS as CAMERAS
    from data_prep.sim.star_clusters import CLUSTER_KLF, cluster_klf_count_ratio

    reference, limit = CAMERAS["2mass"].catalogue_limit, CAMERAS[survey].catalogue_limit
    if limit <= reference:
        return int(members_2mass)
    deeper = cluster_klf_count_ratio(CLUSTER_KLF[0][0], reference, limit)
    return int(round(members_2mass * (1.0 + deeper)))


def simulate_field(spec):
    """The :class:`stellarvae.pipeline.FieldData` of a grid field, simulated in memory.

    The truth table's ``radius_arcsec`` is the half-number radius, so the pipeline's IoU and
    offset are against the true half-number circle.
    """
    from data_prep.sim.difficulty import StarClusterDifficulty
    from data_prep.sim.star_clusters import radius_for_half_number, simulate_kband_field
    from data_prep.surveys import catalogues
    from stellarvae.pipeline import FieldData

    if spec.empty:
        difficulty = StarClusterDifficulty(field_density_scale=spec.density,
                                           nebulosity=spec.nebulosity, cluster_free=True)
    else:
        difficulty = StarClusterDifficulty(
            n_members=members_at_survey(spec.members, spec.survey),
            radius_arcsec=radius_for_half_number("plummer", spec.r_half_arcsec, CONCENTRATION),
            profile="plummer", concentration=CONCENTRATION,
            field_density_scale=spec.density, nebulosity=spec.nebulosity)
    hdu, raw, truth = simulate_kband_field(spec.ra, spec.dec, spec.size_arcmin, spec.survey,
                                           seed=spec.seed, difficulty=difficulty)
    stars = (catalogues.twomass_stars(raw) if spec.survey == "2mass"
             else catalogues.ukidss_stars(raw))
    truth = truth.copy()
    truth["radius_arcsec"] = truth["half_number_radius_arcsec"]
    return FieldData(name=spec.id, label=spec.id, image=hdu.data, wcs=WCS(hdu.header),
                     stars=stars, truth=truth)


def method_options(methods):
    """``{method: PipelineOptions}`` of the VAE methods among ``methods`` (no baselines: they
    are run once, apart, by :func:`evaluate_field`)."""
    from stellarvae.pipeline import preset_options

    made = {"vae_paper": lambda: preset_options("paper", baselines=()),
            "vae_robust": lambda: preset_options("robust", baselines=()),
            "vae_robust_image": lambda: preset_options("robust", baselines=(),
                                                       radius_from="region")}
    return {name: make() for name, make in made.items() if name in methods}


def score_rows(spec, rows, seconds):
    """Per-method result rows of one field from its detection-table rows."""
    from stellarvae.significance import is_significant

    out = []
    for method, row in rows.items():
        claimed = row["status"] not in ("none", "no significant cluster")
        sigma = row["significance_sigma"]
        significant = is_significant(row)
        r_half = spec.r_half_arcsec
        offset = row["offset_truth_arcsec"] / r_half if (claimed and not spec.empty) \
            else np.nan
        iou = row["iou_truth"] if not spec.empty else np.nan
        detected = bool(claimed and significant
                        and (spec.empty or (np.isfinite(offset) and offset < 1.0)))
        out.append({"field": spec.id, "cell": spec.cell, **_spec_columns(spec),
                    "method": method, "claimed": bool(claimed), "significant": significant,
                    "detected": detected, "located": bool(claimed and not spec.empty
                                                          and np.isfinite(offset)
                                                          and offset < 1.0),
                    "significance_sigma": float(sigma), "contrast": float(row["contrast"]),
                    "iou": float(iou if iou is not None else np.nan),
                    "offset_over_r_half": float(offset),
                    "radius_arcsec": float(row["radius_arcsec"]),
                    "radius_from": row["radius_from"],
                    "seconds": float(seconds.get(method, np.nan))})
    return out


def _spec_columns(spec):
    return {"members": spec.members, "r_half_arcsec": spec.r_half_arcsec,
            "density": spec.density, "nebulosity": spec.nebulosity, "survey": spec.survey,
            "seed": spec.seed, "empty": spec.empty}


def evaluate_field(spec, methods=METHODS, options=None):
    """Simulate one field and score every method on it (a Dask task's job).

    Parameters
    ----------
    spec : FieldSpec
    methods : tuple of str
    options : dict, optional
        ``{VAE method name: PipelineOptions}`` replacing :func:`method_options` (experiments).

    Returns
    -------
    astropy.table.Table
        One row per method (:func:`score_rows`).
    """
    import time

    from stellarvae.pipeline import analyse_field

    from stellarvae import baselines
    from stellarvae.pipeline import baseline_rows

    data = simulate_field(spec)
    rows, seconds = {}, {}
    for name, opts in (options or method_options(methods)).items():
        start = time.perf_counter()
        result = analyse_field(data, opts, seed=spec.seed, where=spec.id)
        rows[name] = dict(result.rows[0], radius_from=result.extra["radius_from"])
        seconds[name] = time.perf_counter() - start
    chosen = [m for m in baselines.BASELINES if m in methods]
    start = time.perf_counter()
    for row in baseline_rows(data, chosen) if chosen else ():
        rows[row["method"]] = dict(row, radius_from="region")
        seconds[row["method"]] = (time.perf_counter() - start) / len(chosen)
    return Table(rows=score_rows(spec, rows, seconds))


def evaluate_field_in_subprocess(spec, methods=METHODS):
    """:func:`evaluate_field` in a child process (the Dask task's job;
    :mod:`data_prep.base.child_process`: TensorFlow's memory goes back after each field)."""
    rows = run_in_child(f"{__name__}:evaluate_field_request",
                        {"spec": asdict(spec), "methods": list(methods)})
    return Table(rows=rows, names=list(rows[0]))


def evaluate_field_request(request):
    """The child process's job: ``{"spec": asdict(FieldSpec), "methods": [...]}`` -> the rows
    of :func:`evaluate_field` as JSON-able dicts."""
    table = evaluate_field(FieldSpec(**request["spec"]), tuple(request["methods"]))
    return [{name: row[name].item() if hasattr(row[name], "item") else row[name]
             for name in table.colnames} for row in table]


def _median(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _log_scatter(ratios):
    """Robust standard deviation (astropy's ``mad_std``: 1.4826 x the median absolute
    deviation) of ln(ratios); NaN for fewer than three finite ratios."""
    logs = np.log(np.asarray(ratios, dtype=float))
    logs = logs[np.isfinite(logs)]
    return float(mad_std(logs)) if len(logs) >= 3 else float("nan")


def cell_table(results):
    """One row per cell and method: fields, detection / claim rates, median IoU and offset,
    the located claims' radius bias and scatter (cluster cells) or the false-detection rate
    (empty cells)."""
    rows = []
    keys = sorted({(row["cell"], row["method"]) for row in results})
    for cell, method in keys:
        part = results[(results["cell"] == cell) & (results["method"] == method)]
        first = part[0]
        empty = bool(first["empty"])
        located = part[part["located"]]
        radius_ratio = np.asarray(located["radius_arcsec"] / located["r_half_arcsec"], float)
        rows.append({"cell": cell, "method": method, "members": int(first["members"]),
                     "r_half_arcsec": float(first["r_half_arcsec"]),
                     "density": float(first["density"]),
                     "nebulosity": float(first["nebulosity"]), "survey": str(first["survey"]),
                     "empty": empty, "n_fields": len(part),
                     "claim_rate": float(np.mean(part["claimed"])),
                     "detection_rate": float("nan") if empty else float(np.mean(part["detected"])),
                     "located_rate": float("nan") if empty else float(np.mean(part["located"])),
                     "false_detection_rate": float(np.mean(part["detected"])) if empty
                     else float("nan"),
                     "median_iou": float("nan") if empty else _median(part["iou"]),
                     "median_iou_significant": float("nan") if empty
                     else _median(_iou_significant(part)),
                     "median_offset_over_r_half": _median(part["offset_over_r_half"]),
                     "median_radius_over_r_half": _median(radius_ratio),
                     "radius_scatter": _log_scatter(radius_ratio),
                     "median_significance_sigma": _median(part["significance_sigma"])})
    return Table(rows=rows)


def _iou_significant(results):
    """IoU of the significant claims of ``results`` rows, 0 for the others (module doc)."""
    return np.where(results["claimed"] & results["significant"], results["iou"], 0.0)


def detectable_cells(cells):
    """Cells (cluster cells) where some method's detection rate reaches
    :data:`DETECTABLE_RATE`."""
    cluster = cells[~cells["empty"]]
    return sorted({row["cell"] for row in cluster if row["detection_rate"] >= DETECTABLE_RATE})


def summary(results, cells):
    """The headline figures: per method over all and over the detectable cells, and the
    issue's checks for the robust preset (median IoU >= 0.7 over detectable cells, at least the
    best baseline's median IoU in each, false detections <= 5 %)."""
    detectable = detectable_cells(cells)
    out = {"detectable_cells": detectable, "methods": {}}
    baseline_names = [m for m in ("star_counts", "knn_density") if m in set(cells["method"])]
    for method in sorted(set(results["method"])):
        mine = results[results["method"] == method]
        cluster, empty = mine[~mine["empty"]], mine[mine["empty"]]
        in_detectable = cluster[np.isin(cluster["cell"], detectable)]
        out["methods"][method] = {
            "fields": int(len(cluster)), "empty_fields": int(len(empty)),
            "detection_rate": float(np.mean(cluster["detected"])) if len(cluster) else None,
            "located_rate": float(np.mean(cluster["located"])) if len(cluster) else None,
            "median_iou": _median(cluster["iou"]),
            "median_offset_over_r_half": _median(cluster["offset_over_r_half"]),
            "detectable_detection_rate": float(np.mean(in_detectable["detected"]))
            if len(in_detectable) else None,
            "detectable_median_iou": _median(in_detectable["iou"]),
            "detectable_median_iou_significant": _median(_iou_significant(in_detectable)),
            "detectable_median_offset_over_r_half": _median(in_detectable["offset_over_r_half"]),
            "false_detection_rate": float(np.mean(empty["detected"])) if len(empty) else None,
            "empty_claim_rate": float(np.mean(empty["claimed"])) if len(empty) else None}
    if "vae_robust" in out["methods"]:
        robust = out["methods"]["vae_robust"]
        out["checks"] = {
            "robust_median_iou_over_detectable_cells": robust["detectable_median_iou"],
            "robust_median_iou_at_least_0.7": bool(robust["detectable_median_iou"] >= 0.7)
            if np.isfinite(robust["detectable_median_iou"]) else None,
            "cells_where_robust_is_below_the_best_baseline":
                _below_best_baseline(results, cells, detectable, baseline_names, "median_iou"),
            "cells_where_robust_is_below_the_best_baseline_significant_claims_only":
                _below_best_baseline(results, cells, detectable, baseline_names,
                                     "median_iou_significant"),
            "robust_false_detection_rate": robust["false_detection_rate"],
            "robust_false_detections_at_most_5_percent":
                None if robust["false_detection_rate"] is None
                else bool(robust["false_detection_rate"] <= 0.05)}
    return out


def _below_best_baseline(results, cells, detectable, baseline_names, column):
    """The detectable cells where the robust preset's ``column`` is below the best
    baseline's, each with the field-by-field comparison (:func:`paired_comparison`)."""
    worse = []
    for cell in detectable:
        value = {row["method"]: row[column] for row in cells[cells["cell"] == cell]}
        present = [m for m in baseline_names if m in value and np.isfinite(value[m])]
        if not present:
            continue
        best = max(present, key=lambda m: value[m])
        if value.get("vae_robust", np.nan) < value[best]:
            worse.append({"cell": cell, "vae_robust": value.get("vae_robust"),
                          "best_baseline": value[best], "baseline": best,
                          **paired_comparison(results[results["cell"] == cell], best,
                                              column == "median_iou_significant")})
    return worse


def paired_comparison(results, baseline, significant_only=False):
    """The robust preset against ``baseline`` field by field (the same simulated fields):
    ``fields``, ``robust_ahead`` / ``robust_behind`` (fields with a higher / lower IoU),
    ``median_difference`` (median of robust - baseline IoU) and ``wilcoxon_p`` (the two-sided
    Wilcoxon signed-rank p-value of the differences: how often two equally good methods split
    at least this unevenly; NaN when every difference is 0). ``significant_only``: IoU of
    significant claims (0 for the others)."""
    from scipy import stats

    iou = {}
    for method in ("vae_robust", baseline):
        part = results[results["method"] == method]
        values = _iou_significant(part) if significant_only else np.asarray(part["iou"], float)
        iou[method] = dict(zip(np.asarray(part["field"], str), values))
    fields = sorted(set(iou["vae_robust"]) & set(iou[baseline]))
    difference = np.array([iou["vae_robust"][f] - iou[baseline][f] for f in fields])
    difference = difference[np.isfinite(difference)]
    nonzero = difference[difference != 0]
    return {"fields": int(len(difference)), "robust_ahead": int((difference > 0).sum()),
            "robust_behind": int((difference < 0).sum()),
            "median_difference": _median(difference),
            "wilcoxon_p": float(stats.wilcoxon(nonzero).pvalue) if len(nonzero) else
            float("nan")}


def markdown(cells, headline):
    """The selection function as Markdown: a headline table per method, then every cell."""
    lines = ["# StellarVAE selection function (simulator)", "",
             f"Detectable cells (some method detects >= {DETECTABLE_RATE:.0%} of the fields): "
             f"{len(headline['detectable_cells'])}. Detected: claimed, significant (5 sigma, "
             "contrast 0.5) and centred within r_half; located: claimed and centred within "
             "r_half; IoU against the true half-number circle (0 when nothing is claimed).", "",
             "| method | detection rate | located | median IoU | median offset / r_half | "
             "detection rate (detectable) | median IoU (detectable) | median IoU, "
             "significant claims only (detectable) | false detections (empty) | claims "
             "(empty) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for method, m in headline["methods"].items():
        lines.append(f"| {method} | {_pct(m['detection_rate'])} | {_pct(m['located_rate'])} | "
                     f"{_num(m['median_iou'])} | "
                     f"{_num(m['median_offset_over_r_half'])} | "
                     f"{_pct(m['detectable_detection_rate'])} | "
                     f"{_num(m['detectable_median_iou'])} | "
                     f"{_num(m['detectable_median_iou_significant'])} | "
                     f"{_pct(m['false_detection_rate'])} | {_pct(m['empty_claim_rate'])} |")
    lines += _check_lines(headline.get("checks"))
    lines += ["", "Radius / r_half and its scatter: over the located claims; the scatter is the "
              "robust standard deviation of ln(radius / r_half).", "",
              "| cell | method | fields | detection rate | located | median IoU | "
              "median IoU, significant claims | median offset / r_half | median radius / "
              "r_half | radius scatter | false detections | claims | median sigma |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in cells:
        lines.append(f"| {row['cell']} | {row['method']} | {row['n_fields']} | "
                     f"{_pct(row['detection_rate'])} | {_pct(row['located_rate'])} | "
                     f"{_num(row['median_iou'])} | {_num(row['median_iou_significant'])} | "
                     f"{_num(row['median_offset_over_r_half'])} | "
                     f"{_num(row['median_radius_over_r_half'])} | "
                     f"{_num(row['radius_scatter'], '.3f')} | "
                     f"{_pct(row['false_detection_rate'])} | {_pct(row['claim_rate'])} | "
                     f"{_num(row['median_significance_sigma'], '.1f')} |")
    return "\n".join(lines) + "\n"


def _check_lines(checks):
    """The robust preset's checks as Markdown lines (none without the robust preset)."""
    if not checks:
        return []
    lines = ["", "## Checks of the robust preset", "",
             f"- median IoU over the detectable cells: "
             f"{_num(checks['robust_median_iou_over_detectable_cells'])} (at least 0.7: "
             f"{checks['robust_median_iou_at_least_0.7']})",
             f"- false detections on cluster-free fields: "
             f"{_pct(checks['robust_false_detection_rate'])} (at most 5 %: "
             f"{checks['robust_false_detections_at_most_5_percent']})"]
    for key, label in (("cells_where_robust_is_below_the_best_baseline", "median IoU"),
                       ("cells_where_robust_is_below_the_best_baseline_significant_claims_only",
                        "median IoU of significant claims")):
        below = checks[key]
        lines.append(f"- detectable cells where the {label} is below the best baseline's: "
                     f"{len(below) or 'none'}")
        lines += [f"  - {c['cell']}: {_num(c['vae_robust'])} against {_num(c['best_baseline'])}"
                  f" ({c['baseline']}); field by field robust is ahead in {c['robust_ahead']} "
                  f"and behind in {c['robust_behind']} of {c['fields']}, median difference "
                  f"{_num(c['median_difference'], '+.2f')}, Wilcoxon p = "
                  f"{_num(c['wilcoxon_p'], '.2g')}" for c in below]
    return lines


def _pct(value):
    return "—" if value is None or not np.isfinite(value) else f"{100 * value:.0f} %"


def _num(value, spec=".2f"):
    return "—" if value is None or not np.isfinite(value) else format(value, spec)


def write_results(out, grid, command=None):
    """Read every finished field of ``grid`` in ``out`` and write ``fields.ecsv``,
    ``selection_function.{ecsv,md}``, ``summary.json`` and the PNG maps. ``command``: the
    command line that ran the fields (None: the one the previous ``summary.json`` names).
    Returns the summary (None when no field is finished)."""
    from data_prep.base import dask_scan
    from stellarvae import plots

    finished = dask_scan.read_results(out, grid.fields())
    if not finished:
        return None
    if command is None:
        previous = Path(out) / "summary.json"
        command = json.loads(previous.read_text()).get("command", "") if previous.exists() \
            else ""
    results = vstack([table for _, table in finished], metadata_conflicts="silent")
    results.meta = {}
    cells = cell_table(results)
    headline = summary(results, cells)
    headline.update({"grid": _jsonable(asdict(grid)), "fields_finished": len(finished),
                     "fields_total": len(grid.fields()), "command": command})
    out = Path(out)
    write_table(out / "fields.ecsv", results, format="ascii.ecsv")
    write_table(out / "selection_function.ecsv", cells, format="ascii.ecsv")
    write_text(out / "selection_function.md", markdown(cells, headline))
    write_json(out / "summary.json", _jsonable(headline))
    for metric, label in (("median_iou", "median IoU vs the true half-number circle"),
                          ("detection_rate", "detection rate (significant, offset < r_half)"),
                          ("median_offset_over_r_half", "median centre offset / r_half"),
                          ("median_radius_over_r_half", "median radius / r_half (located)")):
        plots.plot_selection_maps(cells, grid, metric, label, out / f"map_{metric}.png")
    plots.plot_false_detections(cells, out / "false_detections.png")
    return headline


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: None if v is None else float(v)))


def run_grid(grid, out, cluster_options, methods=METHODS, progress=True, log=print,
             command=""):
    """Simulate and score every unfinished field of ``grid`` on Dask, then write the tables
    and maps (:func:`write_results`). Returns ``(ScanReport, summary)``."""
    from functools import partial

    from data_prep.base import dask_scan

    dask_scan.claim_folder(out, {"grid": _jsonable(asdict(grid)), "methods": list(methods)})
    job = partial(evaluate_field_in_subprocess, methods=tuple(methods))
    report = dask_scan.scan(job, grid.fields(), out, cluster_options, progress, log)
    return report, write_results(out, grid, command)
