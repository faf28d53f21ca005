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
