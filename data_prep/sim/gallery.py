"""PNGs of simulated fields, for a person to compare with real survey images: SDSS galaxy-
cluster fields (``deepcee sim-gallery``) and K-band star-cluster fields (``stellarvae
sim-gallery``). Both are drawn north up, east left.

- :func:`sdss_gallery`: the i, r, g -> R, G, B composite with the square-root stretch of
  Deep-CEE §2.2 (``data_prep.deepcee_data.stretch``), the BCG marked and a 250 kpc circle (the
  optical core radius of Deep-CEE §3.2) around it. The clusters are the first paper-sample
  clusters of the mock Wen et al. catalogue, each cut out with a random offset within 270
  arcsec, as the paper's images are.
- :func:`kband_gallery`: the K image in grey with an asinh stretch between the sky median and
  the 99.8th percentile, and the true cluster circle (radius, centre) in green.
"""
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import numpy as np
from astropy.wcs import WCS
from PIL import Image, ImageDraw

from data_prep.base.cosmology import arcsec_for_kpc
from data_prep.base.errors import InputError
from data_prep.base.files import write_bytes
from data_prep.deepcee_data.stretch import rgb_image
from data_prep.sim.difficulty import ClusterDifficulty, StarClusterDifficulty
from data_prep.sim.galaxy_clusters import MockSky
from data_prep.sim.star_clusters import simulate_kband_field

PRESETS = ("default", "easy", "hard")
"""Difficulty presets: the knobs' defaults and their ``easy()`` and ``hard()`` ends."""
PAPER_OFFSET_ARCSEC = 270.0
CIRCLE_KPC = 250.0


def difficulty_preset(knobs, preset):
    """``knobs`` (``ClusterDifficulty`` or ``StarClusterDifficulty``) at a :data:`PRESETS` name."""
    return knobs() if preset == "default" else getattr(knobs, preset)()


def _png(picture):
    """PNG bytes of a PIL image."""
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def paper_like_clusters(sky, n):
    """The first ``n`` mock Wen clusters that pass the Deep-CEE cuts (Abell, 0.1 < z < 0.2,
    N200 >= 20, Dec > 0), as truth rows; the redshift cut is skipped when the difficulty puts
    every cluster at one redshift, and the N200 cut scales with its richness knob."""
    truth = sky.truth_table()
    in_z = ((truth["z"] > 0.1) & (truth["z"] < 0.2) if sky.difficulty.redshift is None
            else np.ones(len(truth), bool))
    passes = ((np.char.str_len(truth["other"].astype(str)) > 0) & in_z
              & (truth["n200"] >= 20 * sky.difficulty.richness_scale) & (truth["dec"] > 0)
              & (truth["catalogue"] == "wen"))
    return truth[passes][:n]


def annotated_png(hdus, cluster, label):
    """PNG bytes of the i, r, g composite with the BCG cross, a 250 kpc circle and a label."""
    rgb, _ = rgb_image({band: hdu.data[::-1] for band, hdu in hdus.items()})  # north up
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    header = hdus["r"].header
    x, y = WCS(header).wcs_world2pix([cluster["ra"]], [cluster["dec"]], 0)
    x, y = float(x[0]), float(header["NAXIS2"] - 1 - y[0])
    radius = arcsec_for_kpc(CIRCLE_KPC, cluster["z"]) / (abs(header["CDELT2"]) * 3600.0)
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=(0, 255, 0), width=3)
    draw.line([x - 25, y, x - 8, y], fill=(0, 255, 0), width=3)
    draw.line([x + 8, y, x + 25, y], fill=(0, 255, 0), width=3)
    draw.line([x, y - 25, x, y - 8], fill=(0, 255, 0), width=3)
    draw.line([x, y + 8, x, y + 25], fill=(0, 255, 0), width=3)
    draw.text((10, 10), label, fill=(255, 255, 255))
    return _png(image)


def sdss_gallery(out_dir, n, seed, size_px, difficulty="default", cluster_free=False):
    """Write one SDSS-like PNG per paper-like mock cluster into ``out_dir``.

    Parameters
    ----------
    out_dir : path
    n : int
        Number of clusters (the first ``n`` of :func:`paper_like_clusters`).
    seed : int
        Simulator and offset seed.
    size_px : int
        Cutout side, pixels (0.396 arcsec each).
    difficulty : str
        A :data:`PRESETS` name.
    cluster_free : bool
        Render the same fields without any cluster.

    Yields
    ------
    pathlib.Path
        Each PNG once written.
    """
    knobs = difficulty_preset(ClusterDifficulty, difficulty)
    if cluster_free:
        knobs = replace(knobs, cluster_free=True)
    sky = MockSky(seed=seed, difficulty=knobs)
    rng = np.random.default_rng(seed)
    clusters = paper_like_clusters(sky, n)
    if len(clusters) == 0:
        raise InputError("sim-gallery: no mock cluster passes the paper cuts for this seed")
    for cluster in clusters:
        east, north = rng.uniform(-PAPER_OFFSET_ARCSEC, PAPER_OFFSET_ARCSEC, 2) / 3600.0
        ra = cluster["ra"] + east / np.cos(np.radians(cluster["dec"]))
        hdus = sky.cutout(ra, cluster["dec"] + north, size_px=size_px)
        label = (f"{cluster['name']}  z={cluster['z']:.3f}  N200={cluster['n200']}  "
                 f"BCG r={cluster['bcg_rmag']:.2f}  ({difficulty}"
                 f"{', cluster-free' if cluster_free else ''})")
        path = Path(out_dir) / f"{cluster['name'].replace(' ', '_')}.png"
        write_bytes(path, annotated_png(hdus, cluster, label))
        yield path


def grey_png(image, truth, scale_arcsec, label):
    """PNG bytes of a K image (asinh grey stretch, north up) with the truth circles
    (``(x, y, radius arcsec)``, 0-based pixels); ``scale_arcsec`` is the pixel side."""
    sample = image[::2, ::2]
    low = np.median(sample)
    high = np.percentile(sample, 99.8)
    scaled = np.arcsinh(np.clip((image - low) / (high - low), 0.0, 1.0) * 10.0) / np.arcsinh(10.0)
    grey = (255.0 * scaled[::-1]).astype(np.uint8)
    picture = Image.fromarray(grey).convert("RGB")
    draw = ImageDraw.Draw(picture)
    height = image.shape[0]
    for x, y, radius_arcsec in truth:
        radius = radius_arcsec / scale_arcsec
        y = height - 1 - y
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=(0, 255, 0),
                     width=max(1, height // 300))
        draw.line([x - 6, y, x + 6, y], fill=(0, 255, 0))
        draw.line([x, y - 6, x, y + 6], fill=(0, 255, 0))
    draw.text((5, 5), label, fill=(255, 255, 0))
    return _png(picture)


def kband_gallery(fields, out_dir, survey, size_arcmin, seed, difficulty="default"):
    """Write one simulated K-band PNG per field into ``out_dir``.

    Parameters
    ----------
    fields : iterable
        Targets with ``name``, ``label``, ``ra_deg``, ``dec_deg`` (ICRS degrees), such as
        ``stellarvae.fields.Field``.
    out_dir : path
    survey : str
        ``"2mass"`` or ``"ukidss"``, the survey imitated.
    size_arcmin : float
        Field side, arcmin.
    seed : int
        Simulator seed.
    difficulty : str
        A :data:`PRESETS` name.

    Yields
    ------
    pathlib.Path
        Each PNG (``<field name>_<survey>.png``) once written.
    """
    knobs = difficulty_preset(StarClusterDifficulty, difficulty)
    for field in fields:
        hdu, _, truth = simulate_kband_field(field.ra_deg, field.dec_deg, size_arcmin, survey,
                                             seed, knobs)
        x, y = WCS(hdu.header).wcs_world2pix(np.asarray(truth["ra"]),
                                             np.asarray(truth["dec"]), 0)
        members = ", ".join(f"r={row['radius_arcsec']:.0f}\" N={row['n_members']}"
                            for row in truth) or "no cluster"
        label = f"{field.label}  {survey}  {size_arcmin:g}'  {members}  ({difficulty})"
        path = Path(out_dir) / f"{field.name}_{survey}.png"
        write_bytes(path, grey_png(hdu.data, list(zip(x, y, truth["radius_arcsec"])),
                                   abs(hdu.header["CDELT2"]) * 3600.0, label))
        yield path
