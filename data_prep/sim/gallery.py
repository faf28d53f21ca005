"""``deepcee sim-gallery``: PNGs of simulated SDSS cluster fields, for a person to compare with
real SDSS colour images.

Each PNG is the i, r, g -> R, G, B composite with the square-root stretch of Deep-CEE §2.2
(``data_prep.deepcee_data.stretch``), with the BCG marked and a 250 kpc circle (the optical core radius
of Deep-CEE §3.2) around it. The clusters are the first paper-sample clusters of the mock
Wen et al. catalogue, each cut out with a random offset within 270 arcsec, as the paper's
images are.
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
from data_prep.sim.difficulty import ClusterDifficulty
from data_prep.sim.galaxy_clusters import MockSky
from data_prep.deepcee_data.stretch import rgb_image

DIFFICULTIES = {"easy": ClusterDifficulty.easy, "default": ClusterDifficulty,
                "hard": ClusterDifficulty.hard}
PAPER_OFFSET_ARCSEC = 270.0
CIRCLE_KPC = 250.0


def add_arguments(parser):
    """Options of ``deepcee sim-gallery``."""
    parser.add_argument("--out", default="runs/sim_gallery/sdss", help="output folder for PNGs")
    parser.add_argument("--n", type=int, default=4, help="number of clusters (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--size-px", type=int, default=2000, help="cutout side in pixels")
    parser.add_argument("--difficulty", choices=sorted(DIFFICULTIES), default="default",
                        help="difficulty preset of the simulated sky")
    parser.add_argument("--cluster-free", action="store_true",
                        help="render the same fields without any cluster")


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
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def run(args):
    """Write one PNG per cluster into ``args.out``."""
    if args.n < 1 or not 64 <= args.size_px <= 4000:
        raise InputError("sim-gallery: --n must be >= 1 and --size-px 64 to 4000")
    difficulty = DIFFICULTIES[args.difficulty]()
    if args.cluster_free:
        difficulty = replace(difficulty, cluster_free=True)
    sky = MockSky(seed=args.seed, difficulty=difficulty)
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    clusters = paper_like_clusters(sky, args.n)
    if len(clusters) == 0:
        raise InputError("sim-gallery: no mock cluster passes the paper cuts for this seed")
    for cluster in clusters:
        east, north = rng.uniform(-PAPER_OFFSET_ARCSEC, PAPER_OFFSET_ARCSEC, 2) / 3600.0
        ra = cluster["ra"] + east / np.cos(np.radians(cluster["dec"]))
        hdus = sky.cutout(ra, cluster["dec"] + north, size_px=args.size_px)
        label = (f"{cluster['name']}  z={cluster['z']:.3f}  N200={cluster['n200']}  "
                 f"BCG r={cluster['bcg_rmag']:.2f}  ({args.difficulty}"
                 f"{', cluster-free' if args.cluster_free else ''})")
        path = out / f"{cluster['name'].replace(' ', '_')}.png"
        write_bytes(path, annotated_png(hdus, cluster, label))
        print(path)
