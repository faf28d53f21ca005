"""``stellarvae scan``: StellarVAE over many K-band fields on Dask (:mod:`stellarvae.scan`):
named fields (default: the eight of Table I) or a region cut into fields.

Exit status 0 when every field is finished, 1 when some failed (listed with their reasons in
the scan folder's ``failed_tiles.ecsv``; rerun the same command to retry them), 2 on a usage
mistake.
"""
from data_prep.base import dask_scan
from data_prep.base.errors import InputError
from data_prep.base.sky_tiling import SYNTAX
from stellarvae import fields, scan
from stellarvae.cli.options import add_pipeline_arguments, add_source_arguments, pipeline_options


def add_arguments(parser):
    parser.add_argument("--field", action="append", default=None,
                        help="a field to run (repeatable): a Table I name or 'RA,Dec' in "
                             "degrees (default: the eight Table I fields)")
    parser.add_argument("--region", default=None,
                        help=f"instead of --field, a region cut into fields of --size-arcmin: "
                             f"{SYNTAX}")
    parser.add_argument("--overlap-arcmin", type=float, default=scan.DEFAULT_OVERLAP_ARCMIN,
                        help="overlap of neighbouring fields of a --region (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_source_arguments(parser)
    add_pipeline_arguments(parser)
    dask_scan.add_cluster_arguments(parser)


def run(args):
    if args.field and args.region:
        raise InputError("give --field or --region, not both")
    if not args.size_arcmin > 0:
        raise InputError(f"--size-arcmin {args.size_arcmin}: give a positive field size")
    cluster = dask_scan.cluster_options(args)
    options = pipeline_options(args)
    if args.region:
        tiles, _ = scan.region_tiles(args.region, args.size_arcmin, args.overlap_arcmin)
    else:
        tiles = scan.field_tiles(args.field or [f.name for f in fields.table_i_fields()],
                                 args.size_arcmin)
    job = scan.FieldJob(args.source, args.size_arcmin, str(args.cache.resolve()),
                        str(args.out.resolve()), options, args.seed, args.force)
    folder, report, merged = scan.run_scan(job, tiles, bool(args.region), cluster,
                                           progress=not args.no_progress)
    print(f"{report.total} fields ({report.written} run now, {report.skipped} before, "
          f"{len(report.failed)} failed) in {report.seconds:.0f} s; {len(merged)} detection rows")
    print(f"written: {args.out}/<FIELD>/ per field; {folder}/detections.ecsv, sky_map.png")
    if report.failed:
        print(f"{len(report.failed)} fields failed: see {folder}/failed_tiles.ecsv; run the same "
              "command again to retry them")
        return 1
    return 0
