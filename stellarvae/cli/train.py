"""``stellarvae train``: StellarVAE on one named field (Table I name or 'RA,Dec').

Loads the field's K-band image and catalogue (2MASS, UKIDSS or the simulator) and runs
:func:`stellarvae.pipeline.process_named_field`; results go to ``OUT/<FIELD>/``. A rerun with
the same inputs and options skips the field.
"""
from stellarvae import fields, pipeline
from stellarvae.cli.options import add_pipeline_arguments, add_source_arguments, pipeline_options
from stellarvae.outputs import summary_lines


def add_arguments(parser):
    parser.add_argument("--field", required=True,
                        help="a Table I field (IRAS06055, 'IRAS 06055+2039', ...) or 'RA,Dec' "
                             "in ICRS degrees; `stellarvae fields` lists them")
    add_source_arguments(parser)
    add_pipeline_arguments(parser)


def run(args):
    field = fields.resolve_field(args.field)
    summary = pipeline.process_named_field(field, args.source, args.size_arcmin, args.cache,
                                           args.out, pipeline_options(args), args.seed,
                                           args.force)
    print("\n".join(summary_lines(summary, args.out / field.name)))
    return 0
