"""``deepcee detect``: find galaxy clusters in SDSS g, r, i FITS triplets or colour images
(:mod:`deepcee.serving.detect`)."""
from pathlib import Path

from data_prep.base.errors import InputError
from data_prep.surveys.sdss import BANDS
from deepcee.serving import detect


def add_arguments(parser):
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="PNG/JPEG images, or FITS triplets as a pattern with {band} "
                             "(e.g. 'A1656_{band}.fits' for the g, r, i files)")
    parser.add_argument("--fits-g", help="g-band FITS image of a triplet")
    parser.add_argument("--fits-r", help="r-band FITS image of a triplet (its WCS is used)")
    parser.add_argument("--fits-i", help="i-band FITS image of a triplet")
    parser.add_argument("--model", required=True,
                        help="export directory (deepcee export) or training run directory")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="keep detections with at least this score (default 0.5)")


def named_input_files(args):
    """Every file the command line names, patterns expanded, checked before a model is loaded;
    a lone FITS file (not a g, r, i triplet) is refused here."""
    names = [path for path in (getattr(args, f"fits_{band}") for band in BANDS) if path]
    for item in args.inputs:
        if "{band}" in item:
            names += [item.replace("{band}", band) for band in BANDS]
        elif item.lower().endswith((".fits", ".fit", ".fits.gz")):
            raise InputError(f"{item}: a single FITS file; give the g, r, i triplet as "
                             "--fits-g/--fits-r/--fits-i or a pattern like field_{band}.fits")
        else:
            names.append(item)
    return names


def pictures_from_args(args, training_pixel_scale_arcsec):
    """The inputs named on the command line, as :class:`Picture` objects."""
    pictures = []
    triplet = {band: getattr(args, f"fits_{band}") for band in BANDS}
    if any(triplet.values()):
        pictures.append(detect.read_fits_triplet(triplet, training_pixel_scale_arcsec))
    for item in args.inputs:
        if "{band}" in item:
            paths = {band: item.replace("{band}", band) for band in BANDS}
            picture = detect.read_fits_triplet(paths, training_pixel_scale_arcsec)
            picture.name = Path(item.replace("{band}", "")).stem.rstrip("_-.")
            pictures.append(picture)
        else:
            pictures.append(detect.Picture(Path(item).stem, detect.read_colour_image(item)))
    if not pictures:
        raise InputError("no input: give PNG/JPEG images or a FITS g,r,i triplet")
    return pictures


def run(args):
    if not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold {args.threshold}: give a score between 0 and 1")
    for name in named_input_files(args):
        if not Path(name).is_file():
            raise InputError(f"{name}: no such file; check the path (inputs are PNG/JPEG images "
                             "or FITS g, r, i triplets)")
    detector = detect.load_detector(args.model)
    pictures = pictures_from_args(args, detector.training_pixel_scale_arcsec)
    out = Path(args.out)
    for picture in pictures:
        boxes, scores = detector(picture.rgb)
        keep = scores >= args.threshold
        target = out if len(pictures) == 1 else out / picture.name
        detect.write_outputs(target, picture, boxes[keep], scores[keep])
        print(f"{picture.name}: {int(keep.sum())} detections with score >= "
              f"{args.threshold} -> {target}")
