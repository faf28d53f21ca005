"""Table I of the paper for the eight IRAS fields, ours beside theirs (``stellarvae table``).

Each field is run (or reused, when already finished with the same inputs) as ``stellarvae
train`` would; the table puts our radius, members and IoU beside the reference values of
Tej et al. (2006) and the paper's own, plus the IoU of the catalogue baselines and, for
simulated fields, the IoU against the simulator's truth circle. Written as
``OUT/table1.md`` (Markdown) and ``OUT/table1.ecsv``.
"""
from pathlib import Path

import numpy as np
from astropy.table import Table

from data_prep.base.files import write_table, write_text

COLUMNS = [  # (name, unit, format, Markdown header)
    ("field", None, "", "IRAS field"),
    ("radius_arcsec", "arcsec", ".1f", "r ours (\")"),
    ("ref_radius_arcsec", "arcsec", ".0f", "r ref (\")"),
    ("paper_radius_arcsec", "arcsec", ".2f", "r paper (\")"),
    ("members", None, "d", "N ours"),
    ("ref_members", None, ".0f", "N ref"),
    ("paper_members", None, ".0f", "N paper"),
    ("iou_reference_percent", "%", ".1f", "IoU ours vs ref %"),
    ("paper_iou_percent", "%", ".2f", "IoU paper %"),
    ("iou_truth_percent", "%", ".1f", "IoU ours vs truth %"),
    ("offset_truth_arcsec", "arcsec", ".1f", "offset truth (\")"),
    ("star_counts_iou_percent", "%", ".1f", "IoU star counts %"),
    ("knn_density_iou_percent", "%", ".1f", "IoU k-NN %"),
]


def table_row(field, summary):
    """One Table I row from a field's summary (values as in detection.json)."""
    by_method = {row["method"]: row for row in summary["detections"]}
    vae = by_method["vae"]
    iou_key = "iou_truth" if summary.get("has_truth") else "iou_reference"

    def percent(row, key):
        value = None if row is None else row.get(key)
        return np.nan if value is None else 100.0 * value

    values = {
        "field": field.label,
        "radius_arcsec": vae["radius_arcsec"], "ref_radius_arcsec": field.ref_radius_arcsec,
        "paper_radius_arcsec": field.paper_radius_arcsec, "members": vae["members"],
        "ref_members": field.ref_members, "paper_members": field.paper_members,
        "iou_reference_percent": percent(vae, "iou_reference"),
        "paper_iou_percent": field.paper_iou_percent,
        "iou_truth_percent": percent(vae, "iou_truth"),
        "offset_truth_arcsec": vae.get("offset_truth_arcsec"),
        "star_counts_iou_percent": percent(by_method.get("star_counts"), iou_key),
        "knn_density_iou_percent": percent(by_method.get("knn_density"), iou_key),
    }
    if vae.get("status") == "no significant cluster":  # --min-significance withheld it
        values.update({"radius_arcsec": np.nan, "members": np.nan})
    return {key: (np.nan if value is None else value) for key, value in values.items()}


def markdown(table):
    """Table I as a Markdown table."""
    lines = ["| " + " | ".join(header for *_, header in COLUMNS) + " |",
             "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in table:
        cells = []
        for name, _, spec, _ in COLUMNS:
            value = row[name]
            if isinstance(value, str):
                cells.append(value)
            elif not np.isfinite(value):
                cells.append("n/a")
            else:
                cells.append(format(int(value) if spec == "d" else float(value), spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table_i(out_dir, rows, source, seed):
    """Write ``OUT/table1.md`` and ``OUT/table1.ecsv`` from :func:`table_row` rows.

    ``source`` and ``seed`` (those of the runs) go into the ECSV's meta. Returns the Markdown.
    """
    table = Table(rows=rows, names=[name for name, *_ in COLUMNS])
    for name, unit, _, _ in COLUMNS:
        if unit:
            table[name].unit = unit
    table.meta.update({"source": source, "seed": seed,
                       "reference": "Tej et al. (2006), as quoted in Karmakar et al. (2018) "
                                    "Table I", "iou_baselines_against": "truth when simulated, "
                                                                        "else reference"})
    text = markdown(table)
    write_text(Path(out_dir) / "table1.md", text)
    write_table(Path(out_dir) / "table1.ecsv", table, format="ascii.ecsv")
    return text
