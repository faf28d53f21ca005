"""``deepcee evaluate``: run a trained model on a TFRecord split and score it as Deep-CEE §3.

For each split, ``<out>/<split>/`` receives

- ``detections.ecsv``: every box the detector returned (normalised box, score, centre RA/Dec,
  matched cluster, distance in kpc), so scoring, plots and ``deepcee candidates`` need no
  rerun of the model (``score_split`` re-scores it);
- ``clusters.ecsv``: the ground-truth clusters with the score of the box matched to each;
- ``threshold_table.ecsv`` / ``threshold_table.md``: the Table 2 / 3 layout (thresholds
  0..100 % in steps of 10: TP, FP, FN, precision, recall, F1);
- ``pr_curve.png`` (Figs. 12, 17) and ``centre_offsets.png`` (Fig. 13);
- ``examples.png``: the first nine images with their true boxes (green, BCG crosses) and the
  boxes scored above the operating threshold (orange, with scores);
- ``summary.json``: the table, the best-F1 threshold, and at the operating threshold (the
  best-F1 one unless ``--threshold``, as the paper uses 80 % on the test set and 70 % on the
  redMaPPer set): the standard error of regression (eq. 8) of TP centres in kpc, the fractions
  of predictions within the match radius and within 250 kpc, and the two-sample KS tests of
  redshift, BCG r magnitude and richness between returned and all clusters;
- ``timing.json``: the detector's seconds and images per second, kept apart so that every
  other file is the same bytes on every run of the same model on the same records.

The split's folder is replaced whole when all its files are written, so a killed run leaves
the earlier evaluation as it was, and its rerun writes what an uninterrupted run writes.

:func:`rescore_split` (``deepcee evaluate --rescore``) re-scores the saved detections (another
radius or operating threshold) without the model. TP / FP / FN and the matching rules are those
of ``deepcee.evaluation.matching``; thresholds and 0/0 ratios those of
``deepcee.evaluation.metrics``. The command line is ``deepcee.cli.evaluate``.
"""
import glob
import json
import time
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack

from data_prep.base.celestial import wcs_from_header_text
from data_prep.base.errors import InputError
from data_prep.base.files import atomic_dir, write_bytes, write_json, write_table, write_text
from data_prep.deepcee_data.box_preview import preview_png
from data_prep.deepcee_data.tfrecord_schema import check_shards
from deepcee.evaluation import matching, metrics
from deepcee.evaluation import plots as eval_plots

SPLITS = ("test", "redmapper")
"""The splits evaluated by default, when their TFRecords are present."""
EXAMPLES = 9
"""Images drawn in ``examples.png``."""
KS_PROPERTIES = {"redshift": "z", "bcg_rmag": "bcg_rmag", "richness": "richness"}
"""KS-tested properties (paper Fig. 15): summary name -> clusters.ecsv column."""
CLUSTER_COLUMNS = ("ra", "dec", "redshift", "bcg_rmag", "richness", "n200", "center_x",
                   "center_y")
DEFINITIONS = {
    "threshold": "a box counts at threshold t when its score > t (strict)",
    "tp": "a box whose centre lies within the match radius (projected kpc at the ground-truth "
          "redshift, FlatLambdaCDM H0=71 Om0=0.27) of a ground-truth BCG not already matched",
    "matching": "per image, boxes in decreasing score take the nearest unmatched cluster within "
                "the radius; each cluster is matched once",
    "second_box": "a second box on an already-matched cluster is a FP",
    "fp": "a box above the threshold that is not a TP",
    "fn": "a ground-truth cluster with no TP box above the threshold",
    "zero_division": "precision, recall or F1 with a zero denominator is 0 (paper's 100 % rows)",
    "eq8": "sqrt(sum(d^2) / N) over the TP boxes' centre distances d (kpc)",
    "within_radius_fraction": "fraction of the boxes above the operating threshold whose centre "
                              "lies within the radius of the nearest ground-truth centre",
    "ks": "scipy.stats.ks_2samp, clusters with a TP box above the operating threshold vs all "
          "clusters of the split; critical_value = c(alpha) sqrt((n+m)/(nm)), "
          "c = sqrt(-ln(alpha/2)/2) (two-sided); critical_value_one_sided uses "
          "sqrt(-ln(alpha)/2), the convention that reproduces the paper's 0.1281",
}


def present_splits(data_dir):
    """The default :data:`SPLITS` that have ``<split>-*.tfrecord`` files in ``data_dir``."""
    return [split for split in SPLITS if glob.glob(str(Path(data_dir) / f"{split}-*.tfrecord"))]


def evaluated_splits(out_dir):
    """Names of the splits evaluated in ``out_dir`` (those with ``<split>/detections.ecsv``)."""
    return sorted(path.parent.name for path in Path(out_dir).glob("*/detections.ecsv"))


def split_records(data_dir, split):
    """``(name, paths)``: the TFRecord files of a split name in ``data_dir``, or of a path/glob,
    checked (:func:`data_prep.deepcee_data.tfrecord_schema.check_shards`) and not empty."""
    if split.endswith(".tfrecord") or "*" in split or Path(split).is_file():
        paths = sorted(glob.glob(split))
        name = Path(paths[0]).name.split("-")[0].removesuffix(".tfrecord") if paths else split
    else:
        paths = sorted(glob.glob(str(Path(data_dir) / f"{split}-*.tfrecord")))
        name = split
    if not paths:
        raise InputError(f"no TFRecords for split '{split}' in {data_dir}: build them with "
                         "`deepcee tfrecords` or pass --split NAME|PATH")
    if not sum(check_shards(paths)):
        raise InputError(f"the TFRecords of split '{split}' ({paths[0]}...) hold no records: "
                         "rebuild them with `deepcee tfrecords`")
    return name, paths


def run_detector(detector, record_paths, limit=None):
    """Run ``detector(image uint8 [H, W, 3]) -> (boxes [K, 4], scores [K])`` on each record.

    Returns ``(detections, clusters, seconds)``: per-box and per-cluster tables (keyed by
    ``image``, the record's index) and the time spent in the detector alone.
    """
    from data_prep.deepcee_data.tfrecord_schema import read_examples

    box_tables, cluster_tables, seconds = [], [], 0.0
    for index, example in enumerate(read_examples(record_paths)):
        if limit is not None and index >= limit:
            break
        image = example["image"]
        height, width = image.shape[:2]
        start = time.perf_counter()
        boxes, scores = detector(image)
        seconds += time.perf_counter() - start
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.asarray(scores, np.float64).reshape(-1)
        wcs = wcs_from_header_text(example["wcs_header"])
        x, y = matching.box_centres(boxes)
        coords = matching.normalised_to_sky(x, y, wcs, height, width)
        source_id = example["source_id"].decode()
        k = len(scores)
        box_tables.append(Table({"image": np.full(k, index, np.int64),
                                 "source_id": np.full(k, source_id),
                                 "ymin": boxes[:, 0], "xmin": boxes[:, 1],
                                 "ymax": boxes[:, 2], "xmax": boxes[:, 3], "score": scores,
                                 "ra": np.atleast_1d(coords.ra.deg),
                                 "dec": np.atleast_1d(coords.dec.deg)}))
        n = len(example["ra"])
        names = [v.decode() for v in example["names"]]
        clusters = Table({"image": np.full(n, index, np.int64),
                          "source_id": np.full(n, source_id),
                          "name": np.array(names if len(names) == n else [""] * n, dtype=str),
                          **{c: np.asarray(example[c], np.float64) for c in CLUSTER_COLUMNS}})
        cluster_tables.append(clusters)
    detections = vstack(box_tables) if box_tables else Table(
        names=("image", "source_id", "ymin", "xmin", "ymax", "xmax", "score", "ra", "dec"),
        dtype=(np.int64, str, float, float, float, float, float, float, float))
    clusters = vstack(cluster_tables) if cluster_tables else Table(
        names=("image", "source_id", "name", *CLUSTER_COLUMNS),
        dtype=(np.int64, str, str, *[float] * len(CLUSTER_COLUMNS)))
    clusters.rename_column("redshift", "z")
    detections.meta["n_images"] = len(cluster_tables)
    for table in (detections, clusters):
        for column in ("ra", "dec"):
            table[column].unit = "deg"
    return detections, clusters, seconds


def score_split(detections, clusters, radius_kpc=matching.DEFAULT_MATCH_RADIUS_KPC):
    """Match boxes to clusters image by image; adds columns in place.

    ``detections`` gains ``cluster`` (row of ``clusters`` matched, -1 for a FP),
    ``offset_kpc`` (distance to the matched cluster; NaN for a FP) and ``nearest_kpc``
    (distance to the nearest cluster of its image; NaN if the image has none).
    ``clusters`` gains ``matched_score`` (score of its TP box; -1 if none) and
    ``offset_kpc`` (that box's distance).
    """
    radius = matching.check_match_radius(radius_kpc)
    n_boxes = len(detections)
    matched = np.full(n_boxes, -1, np.int64)
    offset = np.full(n_boxes, np.nan)
    nearest = np.full(n_boxes, np.nan)
    box_image = np.asarray(detections["image"])
    cluster_image = np.asarray(clusters["image"])
    for image in np.unique(box_image):
        rows = np.flatnonzero(box_image == image)
        members = np.flatnonzero(cluster_image == image)
        if members.size == 0:
            continue
        distances = matching.offsets_kpc(
            SkyCoord(detections["ra"][rows], detections["dec"][rows], unit="deg"),
            SkyCoord(clusters["ra"][members], clusters["dec"][members], unit="deg"),
            clusters["z"][members])
        local = matching.match_boxes(distances, np.asarray(detections["score"][rows]), radius)
        hit = local >= 0
        matched[rows[hit]] = members[local[hit]]
        offset[rows[hit]] = distances[hit, local[hit]]
        finite = np.where(np.isnan(distances), np.inf, distances).min(axis=1)
        nearest[rows] = np.where(np.isfinite(finite), finite, np.nan)
    detections["cluster"] = matched
    detections["offset_kpc"] = offset
    detections["nearest_kpc"] = nearest
    matched_score = np.full(len(clusters), -1.0)
    matched_offset = np.full(len(clusters), np.nan)
    tp = matched >= 0
    matched_score[matched[tp]] = np.asarray(detections["score"])[tp]
    matched_offset[matched[tp]] = offset[tp]
    clusters["matched_score"] = matched_score
    clusters["offset_kpc"] = matched_offset
    for table in (detections, clusters):
        table["offset_kpc"].unit = "kpc"
    detections["nearest_kpc"].unit = "kpc"


def summarise(detections, clusters, radius_kpc, threshold=None, alpha=0.05):
    """The Table 2/3 rows and the §3.1 statistics of a scored split (see module doc).

    Returns ``(table, summary dict, (nearest_kpc, tp_offsets_kpc))``: the last pair (kpc) are
    the distances of the boxes above the operating threshold from their nearest cluster and of
    the TP boxes among them from their cluster (Fig. 13).
    """
    scores = np.asarray(detections["score"])
    counts = matching.counts_at_thresholds(scores, detections["cluster"], len(clusters),
                                           metrics.THRESHOLDS)
    table = metrics.threshold_table(*counts)
    best = metrics.best_f1_row(table)
    operating = float(table["threshold"][best]) if threshold is None else float(threshold)
    above = scores > operating
    tp_box = above & (np.asarray(detections["cluster"]) >= 0)
    tp_offsets = np.asarray(detections["offset_kpc"])[tp_box]
    nearest = np.asarray(detections["nearest_kpc"])[above]
    returned = np.asarray(clusters["matched_score"]) > operating
    ks = metrics.ks_tests(
        {name: np.asarray(clusters[col])[returned] for name, col in KS_PROPERTIES.items()},
        {name: np.asarray(clusters[col]) for name, col in KS_PROPERTIES.items()}, alpha)
    n_above = int(above.sum())
    summary = {
        "n_images": int(detections.meta.get("n_images", len(np.unique(clusters["image"])))),
        "n_clusters": int(len(clusters)),
        "n_boxes": int(len(detections)),
        "match_radius_kpc": float(radius_kpc),
        "table": [{k: (v.item() if hasattr(v, "item") else v) for k, v in zip(table.colnames, row)}
                  for row in table],
        "best_f1": {"threshold": float(table["threshold"][best]),
                    "f1": float(table["f1"][best]),
                    "precision": float(table["precision"][best]),
                    "recall": float(table["recall"][best])},
        "operating_threshold": operating,
        "operating_threshold_source": "best F1" if threshold is None else "--threshold",
        "at_operating_threshold": {
            "n_predictions": n_above,
            "n_tp": int(tp_box.sum()),
            "n_returned_clusters": int(returned.sum()),
            "standard_error_kpc": metrics.standard_error_of_regression(tp_offsets),
            "fraction_predictions_within_radius":
                float(np.mean(nearest <= radius_kpc)) if n_above else float("nan"),
            "fraction_predictions_within_250kpc":
                float(np.mean(nearest <= matching.MAX_MATCH_RADIUS_KPC))
                if n_above else float("nan"),
            "recall": float(returned.mean()) if len(clusters) else float("nan"),
        },
        "ks_tests": ks,
        "definitions": DEFINITIONS,
    }
    return table, summary, (nearest, tp_offsets)


def _json_safe(value):
    """Plain JSON: numpy scalars to Python, NaN / infinity to null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_split_outputs(out_dir, name, detections, clusters, radius_kpc, threshold=None,
                        alpha=0.05, timing=None, record_paths=()):
    """Score a split's detections and write every file of the module doc into ``out_dir``.

    ``out_dir`` is replaced whole once every file is written (``atomic_dir``), so a reader
    (or a run killed half-way) finds either the earlier evaluation or this one, never a mix.
    ``record_paths`` (the TFRecords the detections came from, in order) are kept in the
    summary so that ``deepcee candidates`` can cut stamps from the same images; ``timing``
    goes to ``timing.json``, apart from the figures, which are the same bytes on every run.
    """
    score_split(detections, clusters, radius_kpc)
    table, summary, (nearest, tp_offsets) = summarise(detections, clusters, radius_kpc,
                                                      threshold, alpha)
    summary["split"] = name
    summary["records"] = [str(path) for path in record_paths]
    with atomic_dir(out_dir) as staging:
        write_table(staging / "detections.ecsv", detections)
        write_table(staging / "clusters.ecsv", clusters)
        write_table(staging / "threshold_table.ecsv", table)
        best = summary["best_f1"]
        operating = summary["at_operating_threshold"]
        write_text(staging / "threshold_table.md",
                   f"# Deep-CEE evaluation: {name}\n\n{summary['n_images']} images, "
                   f"{summary['n_clusters']} clusters, match radius {radius_kpc:g} kpc.\n\n"
                   + metrics.table_markdown(table)
                   + f"\nBest F1 {best['f1']:.4f} at {best['threshold'] * 100:.0f} % "
                     f"(precision {best['precision']:.4f}, recall {best['recall']:.4f}).\n"
                   + f"At {summary['operating_threshold'] * 100:.0f} %: standard error (eq. 8) "
                     f"{operating['standard_error_kpc']:.2f} kpc over {operating['n_tp']} TP; "
                     f"{operating['fraction_predictions_within_radius']:.2%} of "
                     f"{operating['n_predictions']} predictions within {radius_kpc:g} kpc.\n")
        write_json(staging / "summary.json", _json_safe(summary))
        if timing:
            write_json(staging / "timing.json", _json_safe(timing))
        eval_plots.plot_precision_recall(table, staging / "pr_curve.png",
                                         f"Deep-CEE {name}: precision vs recall")
        eval_plots.plot_centre_offsets(nearest, tp_offsets, radius_kpc,
                                       summary["operating_threshold"],
                                       staging / "centre_offsets.png", f"Deep-CEE {name}")
        if record_paths:
            write_bytes(staging / "examples.png", preview_png(
                example_tiles(record_paths, detections, summary["operating_threshold"])))
    return summary


def example_tiles(record_paths, detections, threshold, count=EXAMPLES):
    """The first ``count`` images of a split with their true boxes and the detections scored
    above ``threshold``, for :func:`data_prep.deepcee_data.box_preview.preview_png`."""
    from data_prep.deepcee_data.tfrecord_schema import read_examples
    tiles = []
    for index, example in zip(range(count), read_examples(record_paths)):
        mine = detections[(detections["image"] == index) & (detections["score"] > threshold)]
        tiles.append({"rgb": example["image"], "boxes": example["boxes"],
                      "centers": np.stack([example["center_x"], example["center_y"]], -1),
                      "predicted": np.stack([mine[c] for c in ("ymin", "xmin", "ymax", "xmax")],
                                            -1),
                      "scores": list(mine["score"]),
                      "title": example["filename"].decode()})
    return tiles


def evaluate_split(detector, record_paths, out_dir, name,
                   radius_kpc=matching.DEFAULT_MATCH_RADIUS_KPC, threshold=None, alpha=0.05,
                   limit=None):
    """Run ``detector`` on the records and write the split's outputs; returns the summary."""
    radius = matching.check_match_radius(radius_kpc)
    detections, clusters, seconds = run_detector(detector, record_paths, limit)
    n_images = detections.meta["n_images"]
    timing = {"detector_seconds": seconds,
              "images_per_second": n_images / seconds if seconds > 0 else float("nan")}
    return write_split_outputs(out_dir, name, detections, clusters, radius, threshold, alpha,
                               timing, record_paths)


def rescore_split(out_dir, name, radius_kpc, threshold=None, alpha=0.05):
    """Re-score a split's saved ``detections.ecsv`` / ``clusters.ecsv`` (another radius or
    threshold) and rewrite its outputs, without running the model."""
    out_dir = Path(out_dir)
    if not (out_dir / "detections.ecsv").is_file():
        raise InputError(f"{out_dir}/detections.ecsv missing: run `deepcee evaluate` without "
                         "--rescore first")
    try:
        detections = Table.read(out_dir / "detections.ecsv")
        clusters = Table.read(out_dir / "clusters.ecsv")
        detections.remove_columns(["cluster", "offset_kpc", "nearest_kpc"])
        clusters.remove_columns(["matched_score", "offset_kpc"])
        previous = json.loads((out_dir / "summary.json").read_text())
        timing_path = out_dir / "timing.json"
        timing = json.loads(timing_path.read_text()) if timing_path.is_file() else None
        records = previous["records"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{out_dir}: the saved evaluation is incomplete or damaged "
                         f"({type(error).__name__}: {str(error)[:120]}); run `deepcee evaluate` "
                         "without --rescore to redo it") from None
    return write_split_outputs(out_dir, name, detections, clusters, radius_kpc, threshold, alpha,
                               timing, records)
