"""Leave-one-look-out evaluation (``deepcee look-table``): how well detectors trained on some
looks of the simulator (``data_prep.sim.looks``) find clusters in images of looks they never
saw.

For each look (``default``: the simulator's fixed, paper-like look; otherwise a file of
``pipeline_configs/looks``) a test set is built from clusters of its own seed
(``<data>/<look>/``, reused when finished, like any ``deepcee tfrecords`` data set); every
detector is run on its test split; the table gives per look and detector the best F1 (the
paper's 100 kpc rule), its precision and recall, and the eq. 8 standard error.

Outputs in ``--out``: ``<detector>/<look>/`` (the split's evaluation files),
``look_table.json`` and ``look_table.md``.
"""
import dataclasses
from pathlib import Path

from data_prep.base.files import write_json, write_text
from data_prep.deepcee_data import builder
from deepcee.evaluation import evaluate

DEFAULT_LOOK = "default"


def look_settings(look, base):
    """The data set settings of a look's test set (``base`` with the look set)."""
    return dataclasses.replace(base, look=None if look == DEFAULT_LOOK else look)


def build_test_sets(looks, base, data_dir, cache_dir):
    """Build (or reuse) one data set per look; return {look: its folder}."""
    folders = {}
    for look in looks:
        folders[look] = Path(data_dir) / look
        builder.build(look_settings(look, base), folders[look], cache_dir)
    return folders


def evaluate_looks(detectors, folders, out_dir, split="test"):
    """{detector: {look: split summary}} of every detector on every look's split."""
    results = {}
    for name, detector in detectors.items():
        results[name] = {}
        for look, folder in folders.items():
            _, paths = evaluate.split_records(folder, split)
            results[name][look] = evaluate.evaluate_split(detector, paths,
                                                          Path(out_dir) / name / look, split)
    return results


def table_rows(results):
    """One row per look: the best F1 (precision, recall, eq. 8 error) of each detector."""
    looks = list(next(iter(results.values())))
    rows = []
    for look in looks:
        row = {"look": look}
        for name, per_look in results.items():
            summary = per_look[look]
            best = summary["best_f1"]
            row[name] = {"f1": best["f1"], "precision": best["precision"],
                         "recall": best["recall"], "threshold": best["threshold"],
                         "standard_error_kpc":
                             summary["at_operating_threshold"]["standard_error_kpc"],
                         "n_images": summary["n_images"]}
        rows.append(row)
    return rows


def markdown(rows, detectors):
    """The table as Markdown: best F1 (precision / recall) per look and detector."""
    lines = ["| look | " + " | ".join(f"{name}: best F1 (P / R)" for name in detectors) +
             " | images |", "|---" * (len(detectors) + 2) + "|"]
    for row in rows:
        cells = [f"{row[name]['f1']:.3f} ({row[name]['precision']:.2f} / "
                 f"{row[name]['recall']:.2f})" for name in detectors]
        lines.append(f"| {row['look']} | " + " | ".join(cells) +
                     f" | {row[detectors[0]]['n_images']} |")
    return "\n".join(lines) + "\n"


def write_table(out_dir, rows, detectors, command):
    """``look_table.json`` and ``look_table.md`` in ``out_dir``."""
    write_json(Path(out_dir) / "look_table.json",
               {"command": command, "detectors": detectors, "rows": rows})
    write_text(Path(out_dir) / "look_table.md",
               f"Made by `{command}`.\n\n" + markdown(rows, list(detectors)))
