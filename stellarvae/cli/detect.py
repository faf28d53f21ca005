"""``stellarvae detect IMAGE.fits [--catalog TABLE] [--out DIR]``: StellarVAE on any K-band image.

The image may sit in any HDU of the FITS file and needs a celestial WCS (the pixel scale is
read from it). With ``--catalog`` (ECSV, FITS, VOTable or CSV with RA/Dec in degrees; raw 2MASS
PSC or UKIDSS GPS tables are filtered to stars) the detection also gets members, IoU against
``--field``'s reference circle when given, and the catalogue baselines. Results go to
``OUT/<image name>/`` (:func:`stellarvae.pipeline.process_image_file`).

Every detection gets a significance (the catalogue's star over-density in its circle against
the annulus around it, :mod:`stellarvae.significance`), printed and written in the
``status`` column. ``--preset paper`` (default) is the paper's method and always reports a
region; ``--preset robust`` reports "no significant cluster" (exit status 0) when the
detection is below 5 sigma or 50 % over-density, and works the same at any pixel scale.
"""
from pathlib import Path

from stellarvae import fields, pipeline
from stellarvae.cli.options import add_pipeline_arguments, pipeline_options
from stellarvae.outputs import summary_lines


def add_arguments(parser):
    parser.add_argument("image", type=Path, help="K-band FITS image with a celestial WCS")
    parser.add_argument("--catalog", type=Path, default=None,
                        help="star table for members, IoU and the baselines (optional)")
    parser.add_argument("--field", default=None,
                        help="a Table I field whose reference circle the detection is "
                             "compared with (optional)")
    parser.add_argument("--out", type=Path, default=Path("runs/stellarvae"),
                        help="results root; the image writes OUT/<image name>/")
    add_pipeline_arguments(parser)


def run(args):
    reference = fields.resolve_field(args.field) if args.field else None
    summary = pipeline.process_image_file(args.image, args.out, args.catalog, reference,
                                          pipeline_options(args), args.seed, args.force)
    print("\n".join(summary_lines(summary, args.out / summary["field"])))
    return 0
