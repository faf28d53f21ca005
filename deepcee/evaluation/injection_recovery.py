"""``deepcee injection-recovery``: completeness of the detector as a function of redshift and
richness, measured on the embedded simulator (beyond the paper, which reports completeness
only as the recall of its test sets).

For each redshift of ``--z-grid`` the mock sky is re-made with every cluster placed at that
redshift (``ClusterDifficulty(redshift=z)``: same positions and richnesses, members dimmed and
shrunk accordingly); ``--per-bin`` clusters are drawn (seeded, the same clusters at every
redshift) in each richness (R_L*) bin of ``--richness-edges`` among the mock Wen et al.
clusters with no Abell counterpart (so none is a training cluster). Each one is cut out at a
random offset and turned into a model input by the data set builder's own
``data_prep.deepcee_data.builder.make_record`` (same cutout size, resampling, stretch and WCS as the
training records, read from the data set's ``manifest.json``). The detector runs on these
records and a cluster is recovered when a box with score > ``--threshold`` is matched to it by
the distance rule of ``deepcee.evaluation.matching`` (100 kpc, one-to-one).

Outputs in ``--out``: ``injections.tfrecord`` (the images, reused by a rerun with the same
settings), ``injections.ecsv`` (one row per injected cluster), ``completeness.ecsv`` /
``completeness.md`` (recovered / injected per redshift and richness bin), ``completeness.png``
(heat map) and ``summary.json``. The command line is ``deepcee.cli.injection_recovery``.
"""
import json
import tempfile
from pathlib import Path

import numpy as np
from astropy.table import Table

from data_prep.base.files import atomic_path, write_json, write_table, write_text
from deepcee.evaluation import plots as eval_plots, evaluate

Z_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
RICHNESS_EDGES = (10.0, 20.0, 40.0, 80.0)
PER_BIN = 4


def dataset_settings(data_dir, seed):
    """The data set builder's ``Settings`` of ``data_dir`` (its defaults if no manifest),
    with the simulator source and ``seed``."""
    from data_prep.deepcee_data import builder

    manifest = Path(data_dir) / "manifest.json"
    fields = json.loads(manifest.read_text())["settings"] if manifest.is_file() else {}
    return builder.Settings(**{**fields, "source": "sim", "seed": seed})


def standard_wen(raw):
    """The mock raw Wen table as the standard cluster columns ``make_record`` labels."""
    return Table({"name": [str(v) for v in raw["WHL"]], "ra": np.asarray(raw["RAJ2000"], float),
                  "dec": np.asarray(raw["DEJ2000"], float), "z": np.asarray(raw["zph"], float),
                  "bcg_rmag": np.asarray(raw["rmag"], float),
                  "richness": np.asarray(raw["RL*"], float),
                  "n200": np.asarray(raw["N200"], float)})


def choose_injections(raw_wen, richness_edges, per_bin, seed):
    """Rows of ``raw_wen`` to inject: ``per_bin`` per richness bin, non-Abell, seeded.

    Returns ``(rows, bins)``; a bin with fewer candidates gives all it has.
    """
    rng = np.random.default_rng([seed, 7])
    richness = np.asarray(raw_wen["RL*"], float)
    non_abell = np.array([not str(v).strip() for v in raw_wen["Other"]])
    rows, bins = [], []
    for b, (low, high) in enumerate(zip(richness_edges[:-1], richness_edges[1:])):
        pool = np.flatnonzero(non_abell & (richness >= low) & (richness < high))
        chosen = rng.choice(pool, size=min(per_bin, pool.size), replace=False)
        rows += sorted(int(r) for r in chosen)
        bins += [b] * len(chosen)
    return rows, bins


def make_injection_records(path, z_grid, richness_edges, per_bin, settings):
    """Write the injection TFRecord; return the per-injection table (image order)."""
    import tensorflow as tf
    from data_prep.deepcee_data.cutout_cache import CutoutCache, CutoutRejected
    from data_prep.deepcee_data.builder import ImageTask, make_record
    from data_prep.deepcee_data.offsets import bcg_offset, cutout_centre
    from data_prep.sim.difficulty import ClusterDifficulty
    from data_prep.sim.galaxy_clusters import MockSky

    rows_out = []
    with atomic_path(path) as tmp, tf.io.TFRecordWriter(str(tmp)) as writer:
        rows = bins = None
        for z in z_grid:
            sky = MockSky(settings.seed, ClusterDifficulty(redshift=float(z)))
            raw = sky.wen_table()
            if rows is None:
                rows, bins = choose_injections(raw, richness_edges, per_bin, settings.seed)
            clusters = standard_wen(raw)
            for row, richness_bin in zip(rows, bins):
                cluster = clusters[row]
                dx, dy = bcg_offset(cluster["name"], 0, settings.seed,
                                    settings.max_offset_arcsec)
                ra, dec = cutout_centre(float(cluster["ra"]), float(cluster["dec"]), dx, dy)
                task = ImageTask(row, str(cluster["name"]), 0, dx, dy, ra, dec)
                with tempfile.TemporaryDirectory() as cache_dir:
                    try:
                        record = make_record(task, "test", len(rows_out), clusters,
                                             CutoutCache(cache_dir, sky), settings)
                    except CutoutRejected as error:
                        print(f"injection {cluster['name']} at z = {z}: skipped ({error})")
                        continue
                writer.write(record)
                rows_out.append((len(rows_out), str(cluster["name"]), float(z),
                                 float(cluster["richness"]), float(cluster["n200"]),
                                 float(cluster["bcg_rmag"]), richness_bin))
    return Table(rows=rows_out or None,
                 names=("image", "name", "z", "richness", "n200", "bcg_rmag", "richness_bin"),
                 dtype=(int, str, float, float, float, float, int))


def recover(detector, record_path, injections, radius_kpc, threshold):
    """Run the detector and mark each injected cluster ``recovered`` (and its ``score``,
    ``offset_kpc``) by the matching of ``deepcee.evaluation.evaluate.score_split``."""
    detections, clusters, seconds = evaluate.run_detector(detector, [record_path])
    evaluate.score_split(detections, clusters, radius_kpc)
    score = np.full(len(injections), -1.0)
    offset = np.full(len(injections), np.nan)
    for i, row in enumerate(injections):
        hit = np.flatnonzero((clusters["image"] == row["image"])
                             & (clusters["name"] == row["name"]))
        if hit.size:
            score[i] = clusters["matched_score"][hit[0]]
            offset[i] = clusters["offset_kpc"][hit[0]]
    injections["score"] = score
    injections["offset_kpc"] = offset
    injections["recovered"] = score > threshold
    return seconds


def completeness_grid(injections, z_grid, richness_edges):
    """``(completeness [nz, nr], recovered [nz, nr], injected [nz, nr])``; NaN where none."""
    recovered = np.zeros((len(z_grid), len(richness_edges) - 1), int)
    injected = np.zeros_like(recovered)
    for row in injections:
        i = int(np.argmin(np.abs(np.asarray(z_grid) - row["z"])))
        injected[i, row["richness_bin"]] += 1
        recovered[i, row["richness_bin"]] += int(row["recovered"])
    with np.errstate(invalid="ignore", divide="ignore"):
        completeness = np.where(injected > 0, recovered / np.maximum(injected, 1), np.nan)
    return completeness, recovered, injected


def grid_table(completeness, recovered, injected, z_grid, richness_edges):
    """One row per redshift and richness bin."""
    rows = [(float(z), richness_edges[j], richness_edges[j + 1], int(injected[i, j]),
             int(recovered[i, j]), float(completeness[i, j]))
            for i, z in enumerate(z_grid) for j in range(len(richness_edges) - 1)]
    return Table(rows=rows, names=("z", "richness_min", "richness_max", "injected", "recovered",
                                   "completeness"))


def grid_markdown(completeness, recovered, injected, z_grid, richness_edges, threshold):
    """Completeness as a Markdown grid: redshift rows, richness columns, ``c (k/n)`` cells."""
    header = ["z \\ R_L*"] + [f"{lo:g}-{hi:g}" for lo, hi in
                              zip(richness_edges[:-1], richness_edges[1:])]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for i, z in enumerate(z_grid):
        cells = [f"{z:g}"] + [
            (f"{completeness[i, j]:.2f} ({recovered[i, j]}/{injected[i, j]})"
             if injected[i, j] else "—") for j in range(len(richness_edges) - 1)]
        lines.append("| " + " | ".join(cells) + " |")
    return (f"# Injection-recovery completeness (score > {threshold:.2f})\n\n"
            + "\n".join(lines) + "\n")


def measure_completeness(detector, data_dir, out_dir, z_grid, richness_edges, per_bin,
                         radius_kpc, threshold, seed):
    """Inject, detect and write every output of the module doc into ``out_dir``.

    ``detector`` is as for ``deepcee.evaluation.evaluate.run_detector``; ``data_dir`` the data
    set whose ``manifest.json`` gives the image settings; ``radius_kpc`` the match radius (kpc)
    and ``threshold`` the score a recovered cluster's box must exceed. The injection images are
    reused when ``out_dir`` holds those of the same plan. Returns the summary dict.
    """
    out = Path(out_dir)
    z_grid, edges = [float(z) for z in z_grid], [float(e) for e in richness_edges]
    settings = dataset_settings(data_dir, seed)
    plan = {"z_grid": z_grid, "richness_edges": edges, "per_bin": per_bin,
            "settings": vars(settings)}
    records, plan_path = out / "injections.tfrecord", out / "injections.json"
    injections_path = out / "injections.ecsv"
    reuse = (records.is_file() and plan_path.is_file() and injections_path.is_file()
             and json.loads(plan_path.read_text()) == json.loads(json.dumps(plan)))
    if reuse:
        injections = Table.read(injections_path)["image", "name", "z", "richness", "n200",
                                                 "bcg_rmag", "richness_bin"]
    else:
        injections = make_injection_records(records, z_grid, edges, per_bin, settings)
        write_json(plan_path, plan)
    seconds = recover(detector, records, injections, radius_kpc, threshold)
    completeness, recovered, injected = completeness_grid(injections, z_grid, edges)
    write_table(injections_path, injections)
    write_table(out / "completeness.ecsv",
                grid_table(completeness, recovered, injected, z_grid, edges))
    write_text(out / "completeness.md",
               grid_markdown(completeness, recovered, injected, z_grid, edges, threshold))
    eval_plots.plot_completeness(completeness, np.asarray(z_grid), np.asarray(edges),
                                 (recovered, injected), threshold, out / "completeness.png",
                                 "Deep-CEE injection-recovery (simulator)")
    summary = {"threshold": threshold, "match_radius_kpc": radius_kpc,
               "injected": int(injected.sum()), "recovered": int(recovered.sum()),
               "completeness": float(recovered.sum() / max(injected.sum(), 1)),
               "images_reused": bool(reuse), "detector_seconds": seconds, **plan}
    write_json(out / "summary.json", summary)
    return summary
