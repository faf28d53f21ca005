"""A verb dispatcher shared by the ``deepcee`` and ``stellarvae`` console scripts.

Each verb lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int | None``. Only the chosen verb's module is imported, so ``--help`` is fast
and one verb's heavy imports never slow another.
"""
import argparse
import importlib
import sys

from data_prep.base.errors import InputError


def dispatch(prog, description, verbs, argv=None):
    """Run ``prog VERB [args]``; ``verbs`` maps verb -> (module name, one-line help).

    Returns the process exit status: 0 on success, 2 on an :class:`InputError`
    (printed as one line on stderr), 130 on Ctrl-C.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in verbs:
        width = max(len(v) for v in verbs)
        lines = [f"usage: {prog} VERB [options]   ({prog} VERB --help for a verb's options)", "",
                 description, "", "verbs:"]
        lines += [f"  {verb.ljust(width)}  {help_}" for verb, (_, help_) in verbs.items()]
        if argv and argv[0] not in ("-h", "--help"):
            print(f"{prog}: unknown verb '{argv[0]}'; choose one of: {', '.join(verbs)}",
                  file=sys.stderr)
            return 2
        print("\n".join(lines))
        return 0
    verb, rest = argv[0], argv[1:]
    module_name, help_ = verbs[verb]
    parser = argparse.ArgumentParser(prog=f"{prog} {verb}", description=help_)
    module = importlib.import_module(module_name)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        status = module.run(args)
    except InputError as error:
        print(f"{prog} {verb}: error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print(f"{prog} {verb}: interrupted; finished work is kept, rerun to resume",
              file=sys.stderr)
        return 130
    return int(status or 0)
