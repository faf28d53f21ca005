"""``stellarvae table``: Table I of the paper for the eight IRAS fields, ours beside theirs
(:mod:`stellarvae.table`); each field's progress, then the table, is printed."""
from data_prep.base.errors import InputError
from stellarvae import fields, pipeline, table
from stellarvae.cli.options import add_pipeline_arguments, add_source_arguments, pipeline_options


def add_arguments(parser):
    add_source_arguments(parser)
    parser.add_argument("--fields", default=None,
                        help="comma-separated subset of the Table I fields (default: all eight)")
    add_pipeline_arguments(parser)


def run(args):
    options = pipeline_options(args)
    chosen = fields.table_i_fields()
    if args.fields:
        wanted = [fields.resolve_field(text).name for text in args.fields.split(",")]
        chosen = [field for field in chosen if field.name in wanted]
        if not chosen:
            raise InputError(f"--fields {args.fields}: none of these is a Table I field")
    rows = []
    for field in chosen:
        summary = pipeline.process_named_field(field, args.source, args.size_arcmin, args.cache,
                                               args.out, options, args.seed, args.force)
        state = "reused" if summary.get("skipped") else f"{summary['seconds']:.1f} s"
        print(f"{field.label}: {state}", flush=True)
        rows.append(table.table_row(field, summary))
    text = table.write_table_i(args.out, rows, args.source, args.seed)
    print(text, end="")
    print(f"written: {args.out / 'table1.md'}, {args.out / 'table1.ecsv'}")
    return 0
