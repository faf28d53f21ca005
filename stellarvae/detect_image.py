"""``stellarvae detect IMAGE.fits [--catalog TABLE] [--out DIR]``: StellarVAE on any K-band image.

The image may sit in any HDU of the FITS file and needs a celestial WCS (the pixel scale is
read from it). With ``--catalog`` (ECSV, FITS, VOTable or CSV with RA/Dec in degrees; raw 2MASS
PSC or UKIDSS GPS tables are filtered to stars) the detection also gets members, IoU against
``--field``'s reference circle when given, and the catalogue baselines. Results go to
``OUT/<image name>/``.
"""
from pathlib import Path

from stellarvae import fields, pipeline
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
    pipeline.add_pipeline_arguments(parser)


def run(args):
    from data_prep.stellarvae_data.kband_fields import read_kband_image, read_star_catalog

    reference = fields.resolve_field(args.field) if args.field else None
    options = pipeline.pipeline_options(args)
    image, wcs = read_kband_image(args.image)
    stars = read_star_catalog(args.catalog) if args.catalog is not None else None
    name = fields.safe_name(args.image.name.split(".")[0] or "image")
    data = pipeline.FieldData(name=name, label=args.image.name, image=image, wcs=wcs,
                              stars=stars, reference=reference)
    summary = pipeline.process_field(data, args.out, options, seed=args.seed,
                                     where=str(args.image), force=args.force)
    print("\n".join(summary_lines(summary, args.out / name)))
    return 0
