"""Files written for one field in ``runs/stellarvae/<FIELD>/`` (all atomic).

* ``heat_map.fits`` -- primary HDU: the summed heat map with the image's celestial WCS;
  extensions ``VOTES8`` ... ``VOTES64`` (per-size vote fractions) and ``REGION`` (uint8 mask of
  the detected region), all with the same WCS.
* ``detection.ecsv`` -- one row per method (``vae``, ``star_counts``, ``knn_density``):
  centre (deg), radius (arcsec), members, IoU against the reference and the truth circles,
  centre offsets, and the reference / truth / paper values of the field; then the significance
  of the detection (:mod:`stellarvae.significance`): ``significance_sigma``, ``p_value``,
  ``n_in`` (catalogue stars in the circle), ``n_expected`` (field stars expected there),
  ``contrast`` (``n_in / n_expected - 1``),
  ``heat_contrast_sigma`` (VAE row: heat-map peak over its background) and ``status``:
  ``significant``, ``not significant`` (a region reported below the threshold: the paper's
  method), ``no significant cluster`` (withheld, NaN centre: ``--min-significance``),
  ``untested`` (no catalogue) or ``none`` (no region at all).
* ``detection.json`` -- the same rows plus run facts (seed, options, timings, GMM attempts,
  training epochs), ``candidates`` (every method's detection and significance before any was
  withheld), ``vae`` (working pixel scale, widths, where the radius came from, the Plummer
  fit) and the input fingerprint that lets a rerun skip a finished field.
* ``detection.reg`` -- ds9 regions (ICRS, ``data_prep.base.regions``): every circle and centre,
  colour-coded as in ``detection.png``.
"""
import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import Table

from data_prep.base import regions
from data_prep.base.files import write_fits, write_json, write_table, write_text

COLUMN_UNITS = {"ra": u.deg, "dec": u.deg, "radius_arcsec": u.arcsec,
                "area_arcsec2": u.arcsec ** 2, "offset_reference_arcsec": u.arcsec,
                "offset_truth_arcsec": u.arcsec, "ref_ra": u.deg, "ref_dec": u.deg,
                "ref_radius_arcsec": u.arcsec, "truth_ra": u.deg, "truth_dec": u.deg,
                "truth_radius_arcsec": u.arcsec, "paper_radius_arcsec": u.arcsec}

REGION_COLOURS = {"vae": "red", "star_counts": "orange", "knn_density": "magenta",
                  "reference": "black", "truth": "cyan"}


def write_heat_map_fits(path, heat, region, vote_maps, wcs):
    """Heat map, per-size vote maps and region mask with the image's WCS."""
    header = wcs.celestial.to_header()
    primary = fits.PrimaryHDU(np.asarray(heat, np.float32), header=header)
    primary.header["BUNIT"] = ("votes", "sum of per-size max-normalised vote fractions")
    hdus = [primary]
    for size, votes in sorted(vote_maps.items()):
        hdus.append(fits.ImageHDU(np.asarray(votes, np.float32), header=header,
                                  name=f"VOTES{size}"))
    hdus.append(fits.ImageHDU(region.astype(np.uint8), header=header, name="REGION"))
    write_fits(path, fits.HDUList(hdus))


def detection_table(rows, meta):
    """An astropy Table of detection rows (dicts) with units in the column meta."""
    table = Table(rows=rows, names=list(rows[0]))
    for name, unit in COLUMN_UNITS.items():
        if name in table.colnames:
            table[name].unit = unit
    table.meta.update(meta)
    return table


def write_detection_table(path, rows, meta):
    """``detection.ecsv``."""
    write_table(path, detection_table(rows, meta), format="ascii.ecsv")


def write_summary_json(path, summary):
    """``detection.json`` (NaN written as null)."""
    write_json(path, _nan_to_none(summary))


def _nan_to_none(value):
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(item) for item in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def ds9_region_text(circles):
    """ds9 region file text for ``(label, style, SkyCoord centre, radius arcsec)`` circles:
    each circle (dashed for the baselines and the truth) and its centre, coloured by style."""
    shapes = []
    for label, style, centre, radius in circles:
        if not np.isfinite(radius):
            continue
        colour = REGION_COLOURS[style]
        shapes.append(regions.sky_circle(centre, radius, label, colour,
                                         dashed=style not in ("vae", "reference")))
        shapes.append(regions.sky_point(centre, "x" if style == "vae" else "cross", colour))
    return regions.ds9_text(shapes, ["StellarVAE detections"])


def write_ds9_regions(path, circles):
    """``detection.reg``."""
    write_text(path, ds9_region_text(circles))


def summary_lines(summary, run_dir):
    """Console report of one field: one line per method, then where the files are."""
    state = "reused (inputs unchanged)" if summary.get("skipped") else \
        f"done in {summary['seconds']:.1f} s"
    lines = [f"{summary['label']}: {state}"]
    threshold = summary.get("significance_threshold_sigma")
    for row in summary["detections"]:
        if row.get("status") in ("no significant cluster", "none"):
            best = row.get("significance_sigma")
            lines.append(f"  {row['method']:11s} no significant cluster"
                         + (f" (best candidate {_fmt(best, '.1f')} sigma < {threshold:g})"
                            if row.get("status") != "none" else " (no region found)"))
            continue
        text = (f"  {row['method']:11s} RA {_fmt(row['ra'], '.5f')} Dec {_fmt(row['dec'], '+.5f')}"
                f"  r = {_fmt(row['radius_arcsec'], '.1f')}\"  members {row['members']}")
        if "significance_sigma" in row:
            sigma = _fmt(row.get("significance_sigma"), ".1f")
            text += {"significant": f"  {sigma} sigma",
                     "not significant": f"  {sigma} sigma (NOT significant, < {threshold:g})",
                     "untested": "  significance n/a (no catalogue)"}.get(row.get("status"), "")
        for prefix, short in (("reference", "ref"), ("truth", "truth")):
            iou = row.get(f"iou_{prefix}")
            if row.get(f"{short}_radius_arcsec") is not None and \
                    np.isfinite(row.get(f"{short}_radius_arcsec") or np.nan):
                text += (f"  IoU({prefix}) {_fmt(iou, '.2f')}"
                         f" offset {_fmt(row.get(f'offset_{prefix}_arcsec'), '.1f')}\"")
        lines.append(text)
    lines.append(f"  files: {run_dir}")
    return lines


def _fmt(value, spec):
    """``value`` formatted with ``spec``, or 'n/a' for None / NaN."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return format(value, spec)
