"""``stellarvae train``: StellarVAE on one named field (Table I name or 'RA,Dec').

Loads the field's K-band image and catalogue (2MASS, UKIDSS or the simulator) through
``data_prep.stellarvae_data.kband_fields`` and runs :func:`stellarvae.pipeline.process_field`; results go to
``OUT/<FIELD>/``. A rerun with the same inputs and options skips the field.
"""
from pathlib import Path

from data_prep.base.errors import InputError
from stellarvae import fields, pipeline
from stellarvae.outputs import summary_lines

SOURCES = ("sim", "2mass", "ukidss")
DEFAULT_SIZE_ARCMIN = 10.0


def add_source_arguments(parser):
    """Where the K-band data come from (shared with ``stellarvae table``)."""
    parser.add_argument("--source", choices=SOURCES, default="sim",
                        help="K-band data: sim (embedded simulator, offline), 2mass or ukidss")
    parser.add_argument("--size-arcmin", type=float, default=DEFAULT_SIZE_ARCMIN,
                        help="field side in arcmin (default %(default)s)")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"),
                        help="download / simulation cache (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/stellarvae"),
                        help="results root; each field writes OUT/<FIELD>/")


def add_arguments(parser):
    parser.add_argument("--field", required=True,
                        help="a Table I field (IRAS06055, 'IRAS 06055+2039', ...) or 'RA,Dec' "
                             "in ICRS degrees; `stellarvae fields` lists them")
    add_source_arguments(parser)
    pipeline.add_pipeline_arguments(parser)


def run_named_field(field, args, options):
    """Load ``field`` from ``args.source`` and process it; returns the summary dict."""
    from data_prep.stellarvae_data.kband_fields import load_kband_field

    kband = load_kband_field(args.source, field.ra_deg, field.dec_deg, args.size_arcmin,
                             args.cache, seed=args.seed)
    if len(kband.stars) == 0:
        raise InputError(f"field {field.label} ({args.source}): the catalogue has no stars "
                         "in the image; try a larger --size-arcmin or another source")
    data = pipeline.FieldData(name=field.name, label=field.label, image=kband.image,
                              wcs=kband.wcs, stars=kband.stars, truth=kband.truth,
                              reference=field if field.has_reference else None)
    return pipeline.process_field(data, args.out, options, seed=args.seed,
                                  where=f"field {field.label} ({kband.image_path})",
                                  force=args.force)


def run(args):
    field = fields.resolve_field(args.field)
    summary = run_named_field(field, args, pipeline.pipeline_options(args))
    print("\n".join(summary_lines(summary, args.out / field.name)))
    return 0
