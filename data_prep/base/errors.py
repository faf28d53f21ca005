"""User-facing errors: one line that says what is wrong, where, and what to do; exit status 2."""


class InputError(Exception):
    """Bad user input, a bad file, or an unreachable service.

    The command-line entry points print ``str(error)`` as one line on stderr and exit with
    status 2, with no traceback. The message should name what is wrong, where (file, line,
    field, service) and what to do about it.
    """

    exit_status = 2


class CorruptFileError(InputError):
    """A file that cannot be read completely (truncated, not FITS, no image, no WCS)."""


class NoCoverageError(InputError):
    """A survey image with no data (all NaN or all zero): the position is outside the footprint."""
