"""``deepcee look-table``: leave-one-look-out evaluation of one or more detectors on test sets
of chosen simulator looks (:mod:`deepcee.evaluation.look_table`)."""
from pathlib import Path

from data_prep.base.command_line import non_negative_int, positive_int
from data_prep.base.errors import InputError
from data_prep.base.files import output_folder
from data_prep.deepcee_data import builder
from data_prep.sim.looks import load_look
from deepcee.evaluation import look_table


def add_arguments(parser):
    parser.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                        help="a detector to evaluate, named (an export or a training run "
                             "dir); repeat for several")
    parser.add_argument("--looks", nargs="+", required=True,
                        help="looks to test on: 'default' (the fixed paper-like look) or "
                             "names of pipeline_configs/looks/*.json")
    parser.add_argument("--n", type=positive_int, default=30,
                        help="clusters per look's data set (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=11,
                        help="simulator seed of the test sets: another than training's "
                             "(default %(default)s)")
    parser.add_argument("--image-px", type=positive_int, default=256,
                        help="side of the encoded images: the detectors' (default %(default)s)")
    parser.add_argument("--test-fraction", type=float, default=0.9,
                        help="clusters in the test split (default %(default)s)")
    parser.add_argument("--data", type=Path, default=Path("data/looks"),
                        help="where the test sets are built (<data>/<look>/)")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"))
    parser.add_argument("--out", type=Path, default=Path("runs/deepcee/looks"),
                        help="evaluation files and look_table.{json,md}")


def parse_models(items):
    """{name: path} of ``NAME=PATH`` items."""
    models = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--model {item}: give NAME=PATH, e.g. paper=runs/deepcee/export")
        models[name] = path
    return models


def run(args):
    models = parse_models(args.model)
    for look in args.looks:
        if look != look_table.DEFAULT_LOOK:
            load_look(look)
    if not 0 < args.test_fraction < 1:
        raise InputError(f"--test-fraction {args.test_fraction}: give a fraction between 0 and 1")
    out = output_folder(args.out, "--out")
    from deepcee.serving.detect import load_detector
    detectors = {name: load_detector(path) for name, path in models.items()}
    base = builder.Settings(source="sim", seed=args.seed, n=args.n, image_px=args.image_px,
                            test_fraction=args.test_fraction)
    folders = look_table.build_test_sets(args.looks, base, args.data, args.cache)
    results = look_table.evaluate_looks(detectors, folders, out)
    rows = look_table.table_rows(results)
    look_table.write_table(out, rows, list(models), args.command_line)
    print(look_table.markdown(rows, list(models)), end="")
    print(f"files: {out}/look_table.md, look_table.json, <model>/<look>/")
    return 0
