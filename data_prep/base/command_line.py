"""A verb dispatcher shared by the ``deepcee`` and ``stellarvae`` console scripts.

Each verb lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int | None``. Only the chosen verb's module is imported, so ``--help`` is fast
and one verb's heavy imports never slow another.

Every user mistake ends the same way, whichever verb made it: one line on stderr,
``PROG VERB: error: what is wrong; what to do``, and exit status 2, with no traceback. That
covers an :class:`~data_prep.base.errors.InputError` raised by the verb, an option argparse
refuses (a missing or unknown option, a value of the wrong type: one line instead of the
usage), and an operating-system refusal while reading or writing (a folder that is a file, a
read-only folder, a full disk), which names the path.

The option types below (:func:`positive_int`, :func:`non_negative_int`, ...) let argparse
refuse impossible numbers with that same line before a verb starts.
"""
import argparse
import importlib
import shlex
import sys

from data_prep.base.errors import InputError


class _OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose mistakes are one :class:`InputError` line, not the usage."""

    def error(self, message):
        raise InputError(f"{message}; see '{self.prog} --help'")


def _number(kind, name, accept):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: '{text}'") \
                from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text}: give {name}")
        return value
    parse.__name__ = name
    return parse


positive_int = _number(int, "an integer >= 1", lambda v: v >= 1)
"""argparse ``type``: an integer of at least 1 (a count, a size, a number of steps)."""
non_negative_int = _number(int, "an integer >= 0", lambda v: v >= 0)
"""argparse ``type``: an integer of at least 0 (a seed, a count that may be zero)."""
positive_float = _number(float, "a number > 0", lambda v: v > 0 and v != float("inf"))
"""argparse ``type``: a finite number above 0 (a size, a radius)."""
non_negative_float = _number(float, "a finite number >= 0",
                             lambda v: 0 <= v < float("inf"))
"""argparse ``type``: a finite number of at least 0."""
score = _number(float, "a score between 0 and 1", lambda v: 0.0 <= v <= 1.0)
"""argparse ``type``: a detection score or probability in [0, 1]."""


def os_error_line(error):
    """One line for an operating-system refusal: the path, the reason, what to do."""
    where = " -> ".join(str(name) for name in (error.filename, error.filename2) if name)
    reason = error.strerror or str(error)
    return (f"{where}: {reason}; check the path and its permissions (a folder where a file "
            "is expected, or the reverse, a read-only folder or a full disk)" if where
            else f"{reason}; check the paths given and their permissions")


def dispatch(prog, description, verbs, argv=None):
    """Run ``prog VERB [args]``; ``verbs`` maps verb -> (module name, one-line help).

    Returns the process exit status: 0 on success, 2 on a user mistake (printed as one line
    on stderr, see the module doc), 130 on Ctrl-C.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in verbs:
        width = max(len(v) for v in verbs)
        lines = [f"usage: {prog} VERB [options]   ({prog} VERB --help for a verb's options)", "",
                 description, "", "verbs:"]
        lines += [f"  {verb.ljust(width)}  {help_}" for verb, (_, help_) in verbs.items()]
        if argv and argv[0] not in ("-h", "--help"):
            print(f"{prog}: error: unknown verb '{argv[0]}'; choose one of: {', '.join(verbs)}",
                  file=sys.stderr)
            return 2
        print("\n".join(lines))
        return 0
    verb, rest = argv[0], argv[1:]
    module_name, help_ = verbs[verb]
    parser = _OneLineParser(prog=f"{prog} {verb}", description=help_)
    module = importlib.import_module(module_name)
    module.add_arguments(parser)
    try:
        args = parser.parse_args(rest)
        args.command_line = f"{prog} {verb} {shlex.join(rest)}".rstrip()  # for result files
        status = module.run(args)
    except InputError as error:
        print(f"{prog} {verb}: error: {error}", file=sys.stderr)
        return error.exit_status
    except OSError as error:
        print(f"{prog} {verb}: error: {os_error_line(error)}", file=sys.stderr)
        return InputError.exit_status
    except KeyboardInterrupt:
        print(f"{prog} {verb}: interrupted; finished work is kept, rerun to resume",
              file=sys.stderr)
        return 130
    return int(status or 0)
