"""The sky-map PNG of a survey scan: the tiles' own areas, the detections coloured by a value
(a score), one marker per group (known / new), failed tiles hatched and, on simulated skies,
the true clusters. RA grows to the left (east left, as on the sky) and is unwrapped around the
region, so a region across RA 0 is drawn in one piece."""
import numpy as np
from matplotlib.patches import Rectangle

from data_prep.base.figures import new_figure, save_png

MARKERS = ("o", "^", "s", "D")


def unwrap_ra(ra, centre):
    """RA (deg) shifted by multiples of 360 to within 180 deg of ``centre``."""
    return centre + (np.asarray(ra, float) - centre + 180.0) % 360.0 - 180.0


def _circular_mean_deg(angles):
    radians = np.radians(np.asarray(angles, float))
    return float(np.degrees(np.arctan2(np.sin(radians).mean(), np.cos(radians).mean())) % 360)


def _tile_rectangle(tile, centre):
    """``(ra_left, dec_bottom, ra_width, dec_height)`` of a tile's own area (deg)."""
    if tile.cell is not None:
        ra_min, width, dec_min, dec_max = tile.cell
        return unwrap_ra(ra_min + width / 2, centre) - width / 2, dec_min, width, \
            dec_max - dec_min
    width = tile.side_deg / max(np.cos(np.radians(tile.dec)), 1e-3)
    return unwrap_ra(tile.ra, centre) - width / 2, tile.dec - tile.side_deg / 2, width, \
        tile.side_deg


def plot_sky_map(path, tiles, ra, dec, values, value_label, groups, title, failed=(),
                 truth=None):
    """Write the sky map PNG.

    Parameters
    ----------
    path : path
    tiles : list of data_prep.base.sky_tiling.Tile
        Drawn as the outlines of the areas they own.
    ra, dec : array
        Detections (deg).
    values : array
        Colour of each detection (e.g. its score), on a 0-1 scale.
    value_label : str
        Colour bar label.
    groups : dict
        Legend label -> boolean mask over the detections; one marker shape per group.
    title : str
    failed : collection of str
        Ids of tiles without a result (hatched).
    truth : (ra, dec) arrays or None
        True cluster positions (deg), drawn as black crosses.
    """
    located = [tile for tile in tiles if np.isfinite(tile.ra)]
    centre = _circular_mean_deg([tile.ra for tile in located]) if located else 180.0
    figure, axes = new_figure(7.0, 6.0)
    for tile in located:
        left, bottom, width, height = _tile_rectangle(tile, centre)
        bad = tile.id in failed
        axes.add_patch(Rectangle((left, bottom), width, height, fill=bad, lw=0.4,
                                 edgecolor="tab:red" if bad else "0.75",
                                 facecolor="mistyrose" if bad else "none",
                                 hatch="//" if bad else None))
    if truth is not None and len(truth[0]):
        axes.plot(unwrap_ra(truth[0], centre), truth[1], "+", color="k", ms=7, mew=1.0,
                  label="true clusters (simulated)")
    x, dec, values = unwrap_ra(ra, centre), np.asarray(dec, float), np.asarray(values, float)
    scatter = None
    for (label, mask), marker in zip(groups.items(), MARKERS):
        mask = np.asarray(mask, bool)
        scatter = axes.scatter(x[mask], dec[mask], c=values[mask], cmap="viridis", vmin=0.0,
                               vmax=1.0, marker=marker, s=36, edgecolors="k", linewidths=0.4,
                               label=f"{label} ({int(mask.sum())})")
    if scatter is not None:
        figure.colorbar(scatter, ax=axes, label=value_label, fraction=0.046, pad=0.04)
    if failed:
        axes.add_patch(Rectangle((0, 0), 0, 0, facecolor="mistyrose", edgecolor="tab:red",
                                 hatch="//", label=f"failed tiles ({len(failed)})"))
    axes.autoscale_view()
    axes.invert_xaxis()
    axes.set(xlabel="RA (deg)", ylabel="Dec (deg)", title=title)
    middle_dec = float(np.median([tile.dec for tile in located])) if located else 0.0
    axes.set_aspect(1.0 / max(np.cos(np.radians(middle_dec)), 1e-3), adjustable="datalim")
    axes.legend(loc="upper left", fontsize=7, framealpha=0.8)
    axes.grid(alpha=0.25)
    save_png(figure, path)
