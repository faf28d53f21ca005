"""``deepcee detect``: find galaxy clusters in SDSS g, r, i FITS triplets or colour images
(:mod:`deepcee.serving.detect`).

Every input is read and checked, and every output folder too, before the model is loaded,
so a mistake in the last input costs no model load and writes nothing. One input writes into
``--out``, several into ``--out/<input name>/``; two inputs of one name, or an output folder
holding the detections of another input, are refused rather than mixed or replaced.
"""
from pathlib import Path

from data_prep.base.command_line import score
from data_prep.base.errors import InputError
from data_prep.base.files import output_folder
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
    parser.add_argument("--threshold", type=score, default=0.5,
                        help="keep detections with at least this score (default 0.5)")


class NamedInput:
    """One input of the command line: its name (the output folder's), its files, how to check
    them (``check()``, raising :class:`InputError`) and how to read them
    (``read(training_pixel_scale_arcsec) -> Picture``)."""

    def __init__(self, name, files, check, read):
        self.name, self.files, self.check, self.read = name, files, check, read


def named_inputs(args):
    """The inputs the command line names, patterns expanded; a lone FITS file (not a g, r, i
    triplet) is refused here."""
    inputs = []
    triplet = {band: getattr(args, f"fits_{band}") for band in BANDS}
    if any(triplet.values()):
        inputs.append(_triplet(Path(triplet["r"] or "triplet").stem, triplet))
    for item in args.inputs:
        if "{band}" in item:
            paths = {band: item.replace("{band}", band) for band in BANDS}
            inputs.append(_triplet(Path(item.replace("{band}", "")).stem.rstrip("_-."), paths))
        elif item.lower().endswith((".fits", ".fit", ".fits.gz")):
            raise InputError(f"{item}: a single FITS file; give the g, r, i triplet as "
                             "--fits-g/--fits-r/--fits-i or a pattern like field_{band}.fits")
        else:
            inputs.append(NamedInput(
                Path(item).stem, [item], lambda item=item: detect.read_colour_image(item),
                lambda scale, item=item: detect.Picture(
                    Path(item).stem, detect.read_colour_image(item), files=[item])))
    if not inputs:
        raise InputError("no input: give PNG/JPEG images or a FITS g,r,i triplet")
    return inputs


def _triplet(name, paths):
    files = [paths[band] for band in BANDS if paths[band]]

    def read(scale):
        picture = detect.read_fits_triplet(paths, scale)
        picture.name = name
        return picture
    return NamedInput(name, files, lambda: detect.check_fits_triplet(paths), read)


def output_targets(out, inputs):
    """The output folder of each input (``out`` for one, ``out/<name>`` for several), checked:
    distinct names, and no folder holding another input's detections."""
    if len(inputs) == 1:
        targets = [out]
    else:
        seen = {}
        for item in inputs:
            if item.name in seen:
                raise InputError(f"two inputs are named {item.name} ({seen[item.name]}, "
                                 f"{item.files[0]}): their results would share "
                                 f"{out / item.name}; rename one or detect them separately")
            seen[item.name] = item.files[0]
        targets = [output_folder(out / item.name, "--out") for item in inputs]
    for target, item in zip(targets, inputs):
        detect.check_output_target(target, item.files)
    return targets


def run(args):
    out = output_folder(args.out, "--out")
    inputs = named_inputs(args)
    for item in inputs:
        item.check()  # every input, before the model is loaded
    targets = output_targets(out, inputs)
    detector = detect.load_detector(args.model)
    for item, target in zip(inputs, targets):
        picture = item.read(detector.training_pixel_scale_arcsec)
        boxes, scores = detector(picture.rgb)
        keep = scores >= args.threshold
        detect.write_outputs(target, picture, boxes[keep], scores[keep])
        print(f"{picture.name}: {int(keep.sum())} detections with score >= "
              f"{args.threshold} -> {target}")
