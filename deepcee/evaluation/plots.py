"""The evaluation figures (matplotlib, Agg): precision-recall curve (Deep-CEE Figs. 12, 17),
centre offsets in kpc (Fig. 13), candidate stamps, and the injection-recovery completeness map."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from data_prep.base.figures import save_png  # noqa: E402
from data_prep.base.files import write_bytes  # noqa: E402
from deepcee.evaluation.metrics import best_f1_row  # noqa: E402


def _point_labels(recall, precision, percent):
    """One label per distinct (recall, precision) point: thresholds that share a point are
    written as a range ("0-50%")."""
    groups = {}
    for r, p, t in zip(recall, precision, percent):
        groups.setdefault((round(float(r), 6), round(float(p), 6)), []).append(int(t))
    return [(r, p, f"{min(t)}%" if len(t) == 1 else f"{min(t)}-{max(t)}%")
            for (r, p), t in groups.items()]


def plot_precision_recall(table, path, title):
    """Precision vs recall, one labelled point per threshold (the 100 % row is left out, as in
    the paper's Figs. 12 and 17: nothing counts there); the best-F1 point is ringed."""
    keep = np.asarray(table["threshold_percent"]) < 100
    recall = np.asarray(table["recall"])[keep]
    precision = np.asarray(table["precision"])[keep]
    percent = np.asarray(table["threshold_percent"])[keep]
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.plot(recall, precision, "o-", color="tab:blue")
    for r, p, label in _point_labels(recall, precision, percent):
        axes.annotate(label, (r, p), textcoords="offset points", xytext=(4, 4), fontsize=8)
    best = table[best_f1_row(table)]
    if best["threshold_percent"] < 100:
        axes.plot(best["recall"], best["precision"], "o", ms=14, mfc="none", color="tab:red",
                  label=f"best F1 {best['f1']:.4f} at {best['threshold_percent']}%")
        axes.legend(loc="best", fontsize=8)
    axes.set(xlabel="Recall", ylabel="Precision", xlim=(-0.02, 1.05), ylim=(-0.02, 1.05),
             title=title)
    axes.grid(alpha=0.3)
    save_png(figure, path)


def plot_centre_offsets(all_kpc, tp_kpc, radius_kpc, threshold, path, title):
    """Histograms of the distance (kpc) of every prediction above the threshold from its
    nearest ground-truth centre (top) and of the TP predictions (bottom), with the match
    radius and the 250 kpc limit marked (the paper's Fig. 13)."""
    all_kpc = np.asarray(all_kpc, float)
    all_kpc = all_kpc[np.isfinite(all_kpc)]
    tp_kpc = np.asarray(tp_kpc, float)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(6, 6.5))
    top_max = max(float(all_kpc.max()) if all_kpc.size else 0.0, 300.0)
    top.hist(all_kpc, bins=np.linspace(0, top_max, 41), color="tab:gray")
    top.set(xlabel="distance from nearest ground-truth centre (kpc)", ylabel="predictions",
            title=f"{title}: all predictions with score > {threshold:.2f} (n = {all_kpc.size})")
    bottom.hist(tp_kpc, bins=np.linspace(0, radius_kpc, 21), color="tab:blue")
    bottom.set(xlabel="distance from ground-truth centre (kpc)", ylabel="predictions",
               title=f"true positives (within {radius_kpc:g} kpc, n = {tp_kpc.size})")
    for axes in (top, bottom):
        axes.axvline(radius_kpc, color="tab:red", ls="--", label=f"{radius_kpc:g} kpc")
        axes.axvline(250.0, color="tab:orange", ls=":", label="250 kpc")
        axes.legend(fontsize=8)
    figure.tight_layout()
    save_png(figure, path)


def plot_completeness(completeness, z_values, richness_edges, counts, threshold, path, title):
    """Heat map of completeness (fraction recovered): one column per injection redshift, one
    row per richness bin, each cell labelled ``recovered/injected``."""
    recovered, injected = counts
    n_z, n_r = completeness.shape
    figure, axes = plt.subplots(figsize=(1.1 * n_z + 2.5, 0.8 * n_r + 1.8))
    mesh = axes.pcolormesh(np.arange(n_z + 1), np.arange(n_r + 1),
                           np.ma.masked_invalid(completeness.T), vmin=0, vmax=1, cmap="viridis")
    figure.colorbar(mesh, ax=axes, label=f"completeness (score > {threshold:.2f})")
    for i in range(n_z):
        for j in range(n_r):
            axes.text(i + 0.5, j + 0.5, f"{recovered[i, j]}/{injected[i, j]}", ha="center",
                      va="center", fontsize=9,
                      color="black" if completeness[i, j] > 0.6 else "white")
    axes.set_xticks(np.arange(n_z) + 0.5, [f"{z:g}" for z in z_values])
    axes.set_yticks(np.arange(n_r) + 0.5, [f"{lo:g}-{hi:g}" for lo, hi in
                                           zip(richness_edges[:-1], richness_edges[1:])])
    axes.set(xlabel="injected redshift", ylabel="richness $R_{L*}$", title=title)
    save_png(figure, path)


def write_stamp(image, box, path):
    """Crop ``image`` (uint8 [H, W, 3]) around a normalised box (ymin, xmin, ymax, xmax),
    half a box size on each side, draw the box in red, and write a PNG."""
    height, width = image.shape[:2]
    ymin, xmin, ymax, xmax = (float(v) for v in box)
    pad_y, pad_x = (ymax - ymin) / 2, (xmax - xmin) / 2
    top, left = max(int((ymin - pad_y) * height), 0), max(int((xmin - pad_x) * width), 0)
    bottom = min(int(np.ceil((ymax + pad_y) * height)), height)
    right = min(int(np.ceil((xmax + pad_x) * width)), width)
    picture = Image.fromarray(np.ascontiguousarray(image[top:bottom, left:right]))
    ImageDraw.Draw(picture).rectangle(
        [xmin * width - left, ymin * height - top, xmax * width - left - 1,
         ymax * height - top - 1], outline=(255, 64, 64), width=2)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    write_bytes(path, buffer.getvalue())


def plot_learning_curve(rows, path, title):
    """Training loss and test-split best F1 against step (left) and wall-clock minutes of
    training (right), from the rows of ``learning_curve.json``."""
    step = np.array([row["step"] for row in rows])
    minutes = np.array([row["minutes"] for row in rows])
    loss = np.array([row["loss"] for row in rows])
    f1 = np.array([row["best_f1"] for row in rows])
    figure, (by_step, by_time) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, x, label in ((by_step, step, "step"), (by_time, minutes, "training minutes")):
        axes.plot(x, loss, "o-", color="tab:blue", ms=3)
        axes.set(xlabel=label, ylabel="total loss (mean since the last evaluation)")
        axes.yaxis.label.set_color("tab:blue")
        right = axes.twinx()
        right.plot(x, f1, "s-", color="tab:red", ms=3)
        right.set(ylabel="best F1 on the test split", ylim=(-0.02, 1.02))
        right.yaxis.label.set_color("tab:red")
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    save_png(figure, path)
