"""Writing files so that nothing is lost: write to a temporary name, then rename; and the
checks every verb makes of the paths it is given before it starts (an input that is a folder,
an output folder that is a file or cannot be written), each one line naming the option."""
import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from data_prep.base.errors import InputError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A run killed mid-write leaves at most a ``.tmp-*`` file behind, never a truncated
    ``path``. The parent directory is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path):
    """Yield an empty staging folder beside ``path``; on success it replaces ``path`` whole.

    The folder a reader finds at ``path`` is always complete: the earlier one until the new
    one is finished, then the new one (the earlier is renamed aside, the new renamed in, and
    the earlier removed). A failure or a kill before the swap leaves ``path`` untouched and at
    most a ``.tmp-*`` folder beside it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    staging = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        replace_dir(path, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale_temporaries(folder, name=None):
    """Delete the ``.tmp-<pid>-<name>`` files and folders (:func:`atomic_path`,
    :func:`atomic_dir`) of processes that no longer run: what a killed run left half-written
    (those of ``name`` only, when given)."""
    for path in Path(folder).glob(".tmp-*" if name is None else f".tmp-*-{name}"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # still writing
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def replace_dir(path, replacement):
    """Put the finished folder ``replacement`` (beside ``path``) at ``path``: the earlier
    folder is renamed aside, the new one renamed in, then the earlier one removed. Between
    the two renames (an instant) both are whole on disk, the earlier as ``.old-*``."""
    path = Path(path)
    retired = path.with_name(f".old-{os.getpid()}-{path.name}")
    if path.exists():
        os.replace(path, retired)
    os.replace(replacement, path)
    shutil.rmtree(retired, ignore_errors=True)


def input_path(path, option, what, folder=False):
    """``path`` as a :class:`~pathlib.Path` once it is known to exist and be a file (or, with
    ``folder``, a folder); else :class:`InputError` naming ``option`` and ``what`` it should
    be."""
    path = Path(path)
    if folder and path.is_file():
        raise InputError(f"{option} {path}: is a file; give {what}")
    if not folder and path.is_dir():
        raise InputError(f"{option} {path}: is a directory; give {what}")
    if not path.exists():
        raise InputError(f"{option} {path}: no such {'directory' if folder else 'file'}; "
                         f"give {what}")
    return path


def output_folder(path, option):
    """Check that ``path`` can be the output folder ``option`` names, before any work.

    It may exist (a folder) or not yet (it is created later); a file there or above it, or a
    folder where nothing can be written, is an :class:`InputError` naming the option.
    Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == path else f"{existing} is a file"
        raise InputError(f"{option} {path}: {where}; give a folder (a new one or one of "
                         "this command's earlier outputs)")
    probe = existing / f".write-test-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as error:
        raise InputError(f"{option} {path}: cannot write in {existing} "
                         f"({error.strerror}); choose a writable folder") from None
    return path


def write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=float) + "\n")


def write_table(path, table, format=None):
    """Write an astropy Table (ECSV, FITS, ...) to ``path`` atomically."""
    path = Path(path)
    fmt = format or {".ecsv": "ascii.ecsv", ".fits": "fits", ".md": "ascii.basic"}.get(
        path.suffix, None)
    with atomic_path(path) as tmp:
        table.write(tmp, format=fmt, overwrite=True)


def write_fits(path, hdus):
    """Write an HDU or HDUList to ``path`` atomically."""
    with atomic_path(path) as tmp:
        hdus.writeto(tmp, overwrite=True)


def sha256_file(path, chunk=1 << 20):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
