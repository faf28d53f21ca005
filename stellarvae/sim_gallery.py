"""``stellarvae sim-gallery``: PNGs of simulated K-band star-cluster fields, for a person to
compare with real 2MASS Ks and UKIDSS GPS K images.

Each PNG shows the K image in grey (north up, east left) with an asinh stretch between the
sky median and the 99.8th percentile, and the true cluster circle (radius, centre) in green.
The fields are the eight IRAS sources of StellarVAE Table I, or any 'RA,Dec' given.
"""
from io import BytesIO
from pathlib import Path

import numpy as np
from astropy.wcs import WCS
from PIL import Image, ImageDraw

from data_prep.base.errors import InputError
from data_prep.base.files import write_bytes
from data_prep.sim.difficulty import StarClusterDifficulty
from data_prep.sim.star_clusters import simulate_kband_field
from stellarvae.fields import resolve_field, table_i_fields

DIFFICULTIES = {"easy": StarClusterDifficulty.easy, "default": StarClusterDifficulty,
                "hard": StarClusterDifficulty.hard}


def add_arguments(parser):
    """Options of ``stellarvae sim-gallery``."""
    parser.add_argument("--out", default="runs/sim_gallery/kband", help="output folder for PNGs")
    parser.add_argument("--field", action="append",
                        help="field name (IRAS06055, 06055+2039) or 'RA,Dec' in degrees; "
                             "repeat for several (default: the eight Table I fields)")
    parser.add_argument("--survey", choices=("2mass", "ukidss"), default="2mass",
                        help="survey to imitate")
    parser.add_argument("--size-arcmin", type=float, default=10.0, help="field side (arcmin)")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--difficulty", choices=sorted(DIFFICULTIES), default="default",
                        help="difficulty preset")


def grey_png(image, truth, scale_arcsec, label):
    """PNG bytes of a K image (asinh grey stretch, north up) with the truth circles."""
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
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def run(args):
    """Write one PNG per field into ``args.out``."""
    fields = [resolve_field(text) for text in args.field] if args.field else table_i_fields()
    if args.size_arcmin <= 0:
        raise InputError("sim-gallery: --size-arcmin must be positive")
    difficulty = DIFFICULTIES[args.difficulty]()
    out = Path(args.out)
    for field in fields:
        hdu, catalogue, truth = simulate_kband_field(field.ra_deg, field.dec_deg,
                                                     args.size_arcmin, args.survey, args.seed,
                                                     difficulty)
        wcs = WCS(hdu.header)
        x, y = wcs.wcs_world2pix(np.asarray(truth["ra"]), np.asarray(truth["dec"]), 0)
        circles = list(zip(x, y, truth["radius_arcsec"]))
        members = ", ".join(f"r={row['radius_arcsec']:.0f}\" N={row['n_members']}"
                            for row in truth) or "no cluster"
        label = (f"{field.label}  {args.survey}  {args.size_arcmin:g}'  {members}  "
                 f"({args.difficulty})")
        path = out / f"{field.name}_{args.survey}.png"
        write_bytes(path, grey_png(hdu.data, circles, abs(hdu.header["CDELT2"]) * 3600.0, label))
        print(path)
