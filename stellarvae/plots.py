"""The paper's figures for one field: latent space (Fig. 4), heat map (Fig. 5), detection (Fig. 6).

Every figure is drawn on the image's pixel grid with the WCS as axes (RA/Dec labels), written
atomically as PNG.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from data_prep.base.files import atomic_path  # noqa: E402
from data_prep.base.celestial import pixel_scale_arcsec  # noqa: E402
from stellarvae.measure import star_coords  # noqa: E402

CIRCLE_STYLES = {
    "vae": dict(color="red", linestyle="-", linewidth=2.0),
    "star_counts": dict(color="orange", linestyle="--", linewidth=1.2),
    "knn_density": dict(color="magenta", linestyle=":", linewidth=1.5),
    "reference": dict(color="black", linestyle="-", linewidth=1.5),
    "truth": dict(color="tab:cyan", linestyle="-.", linewidth=1.5),
}


def save_figure(figure, path):
    """Write a figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def plot_latent_space(latents, path, title):
    """Fig. 4: z_mu of every patch, coloured by GMM label, one panel per patch size.

    Parameters
    ----------
    latents : dict
        patch size -> dict with ``z_mu`` (N, d) and ``is_cluster`` (N,) bool.
    """
    sizes = sorted(latents)
    figure, axes = plt.subplots(1, len(sizes), figsize=(4.0 * len(sizes), 3.8), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        z_mu, is_cluster = latents[size]["z_mu"], latents[size]["is_cluster"]
        z_y = z_mu[:, 1] if z_mu.shape[1] > 1 else np.zeros(len(z_mu))
        axis.scatter(z_mu[~is_cluster, 0], z_y[~is_cluster], s=3, c="tab:blue", alpha=0.5,
                     label=f"background ({(~is_cluster).sum()})")
        axis.scatter(z_mu[is_cluster, 0], z_y[is_cluster], s=3, c="tab:red", alpha=0.7,
                     label=f"cluster ({is_cluster.sum()})")
        axis.set_title(f"{size} x {size} px patches")
        axis.set_xlabel("z_mu[0]")
        axis.set_ylabel("z_mu[1]")
        axis.legend(loc="best", fontsize=7, markerscale=3)
    figure.suptitle(f"{title}: latent space coloured by GMM label")
    save_figure(figure, path)


def plot_heat_map(heat, region, wcs, path, title, fraction=0.7):
    """Fig. 5: the summed heat map with the 0.7 x max contour and the detected region."""
    figure = plt.figure(figsize=(6.2, 5.6))
    axis = figure.add_subplot(projection=wcs.celestial)
    shown = axis.imshow(heat, origin="lower", cmap="inferno")
    axis.contour(heat, levels=[fraction * float(np.max(heat))], colors="cyan", linewidths=1.0)
    axis.contour(region.astype(float), levels=[0.5], colors="red", linewidths=1.5)
    figure.colorbar(shown, ax=axis, label="summed normalised votes")
    axis.set_xlabel("RA")
    axis.set_ylabel("Dec")
    axis.set_title(f"{title}\nheat map; cyan: {fraction:g} x max, red: region")
    save_figure(figure, path)


def plot_detection(image, stars, circles, wcs, path, title):
    """Fig. 6: catalogue stars over the image with the detected and reference circles.

    Parameters
    ----------
    circles : list of (label, style key, SkyCoord centre, radius arcsec)
    """
    scale = pixel_scale_arcsec(wcs)
    figure = plt.figure(figsize=(6.4, 6.0))
    axis = figure.add_subplot(projection=wcs.celestial)
    finite = np.isfinite(image)
    low, high = np.percentile(image[finite], [5, 99.5]) if finite.any() else (0, 1)
    axis.imshow(np.where(finite, image, low), origin="lower", cmap="gray_r", vmin=low, vmax=high)
    if len(stars):
        x, y = wcs.celestial.world_to_pixel(star_coords(stars))
        axis.scatter(x, y, s=4, c="tab:blue", alpha=0.6, label=f"catalogue stars ({len(stars)})")
    for label, style, centre, radius in circles:
        if not np.isfinite(radius):
            continue
        cx, cy = wcs.celestial.world_to_pixel(centre)
        axis.add_patch(Circle((float(cx), float(cy)), radius / scale, fill=False,
                              label=f"{label} r={radius:.1f}\"", **CIRCLE_STYLES[style]))
        axis.plot(float(cx), float(cy), marker="x" if style == "vae" else "+",
                  color=CIRCLE_STYLES[style]["color"], markersize=9)
    axis.set_xlim(-0.5, image.shape[1] - 0.5)
    axis.set_ylim(-0.5, image.shape[0] - 0.5)
    axis.set_xlabel("RA")
    axis.set_ylabel("Dec")
    axis.legend(loc="upper right", fontsize=7)
    axis.set_title(f"{title}: detected and reference circles")
    save_figure(figure, path)


METHOD_ORDER = ("vae_paper", "vae_robust", "vae_robust_image", "star_counts", "knn_density")


def plot_selection_maps(cells, grid, metric, label, path):
    """Selection-function maps (``stellarvae injection-recovery``): one row of panels per
    method, one column per survey x field density x nebulosity; each panel is members
    (rows) x half-number radius (columns), coloured by ``metric`` with its value written in.

    Parameters
    ----------
    cells : astropy.table.Table
        ``stellarvae.injection_recovery.cell_table`` rows.
    grid : stellarvae.injection_recovery.Grid
    metric : str
        Column of ``cells`` (``median_iou``, ``detection_rate``, ...).
    label : str
        Colour-bar and title text.
    """
    from itertools import product

    cluster = cells[~cells["empty"]]
    methods = [m for m in METHOD_ORDER if m in set(cluster["method"])]
    columns = list(product(grid.surveys, grid.density, grid.nebulosity))
    members, radii = list(grid.members), list(grid.r_half_arcsec)
    vmax = 2.0 if metric.endswith("over_r_half") else 1.0  # ratios: 1 is right
    figure, axes = plt.subplots(len(methods), len(columns), squeeze=False,
                                figsize=(1.9 * len(columns) + 1.2, 1.9 * len(methods) + 0.8))
    shown = None
    for (i, method), (j, (survey, density, nebulosity)) in product(enumerate(methods),
                                                                    enumerate(columns)):
        axis = axes[i][j]
        values = np.full((len(members), len(radii)), np.nan)
        for row in cluster[(cluster["method"] == method) & (cluster["survey"] == survey)
                           & (cluster["density"] == density)
                           & (cluster["nebulosity"] == nebulosity)]:
            if row["members"] in members and row["r_half_arcsec"] in radii:
                values[members.index(row["members"]),
                       radii.index(row["r_half_arcsec"])] = row[metric]
        shown = axis.imshow(values, origin="lower", cmap="viridis", vmin=0.0, vmax=vmax,
                            aspect="auto")
        for (a, b), value in np.ndenumerate(values):
            if np.isfinite(value):
                axis.text(b, a, f"{value:.2f}", ha="center", va="center", fontsize=7,
                          color="white" if value < 0.6 * vmax else "black")
        axis.set_xticks(range(len(radii)), [f"{r:g}\"" for r in radii], fontsize=6)
        axis.set_yticks(range(len(members)), [str(m) for m in members], fontsize=6)
        if i == 0:
            axis.set_title(f"{survey}\ndensity x{density:g}, nebula x{nebulosity:g}",
                           fontsize=7)
        if j == 0:
            axis.set_ylabel(f"{method}\nmembers", fontsize=7)
        if i == len(methods) - 1:
            axis.set_xlabel("r_half", fontsize=7)
    figure.colorbar(shown, ax=axes, shrink=0.6, label=label)
    figure.suptitle(f"StellarVAE selection function (simulator): {label}", fontsize=9)
    save_figure(figure, path)


def plot_false_detections(cells, path):
    """Bar chart of the false-detection rate on cluster-free fields, per method and empty cell
    (claimed and significant), with the rate of regions claimed at all as open bars."""
    empty = cells[cells["empty"]]
    methods = [m for m in METHOD_ORDER if m in set(empty["method"])]
    names = sorted(set(empty["cell"]))
    figure, axis = plt.subplots(figsize=(1.0 + 0.9 * len(names), 3.6))
    width = 0.8 / max(len(methods), 1)
    colours = {"vae_paper": "tab:red", "vae_robust": "tab:green",
               "vae_robust_image": "tab:olive", "star_counts": "orange", "knn_density": "magenta"}
    for k, method in enumerate(methods):
        rows = {row["cell"]: row for row in empty[empty["method"] == method]}
        x = np.arange(len(names)) + (k - (len(methods) - 1) / 2) * width
        claims = [rows[n]["claim_rate"] if n in rows else np.nan for n in names]
        false = [rows[n]["false_detection_rate"] if n in rows else np.nan for n in names]
        axis.bar(x, claims, width, fill=False, edgecolor=colours[method], linewidth=0.8)
        axis.bar(x, false, width, color=colours[method], label=method)
    axis.axhline(0.05, color="grey", linestyle="--", linewidth=0.8)
    axis.set_xticks(range(len(names)), [n.replace("empty_", "").replace("_", "\n")
                                        for n in names], fontsize=6)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("fraction of empty fields")
    axis.legend(fontsize=7, loc="upper right")
    axis.set_title("Cluster-free fields: false detections (filled: significant; open: any "
                   "region claimed); dashed: 5 %", fontsize=8)
    save_figure(figure, path)
