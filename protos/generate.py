"""Regenerate the committed ``protos/*_pb2.py`` modules from ``protos/*.proto``.

Run ``python -m protos.generate`` after editing a ``.proto`` file (needs ``grpcio-tools``,
a test extra). The generated code must not be newer than the installed protobuf runtime;
``tests/test_config.py`` checks that the committed modules match a fresh generation.
"""
import pathlib
import sys

PROTO_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = PROTO_DIR.parent


def proto_files():
    """The schema files, as paths relative to the repository root, sorted."""
    return sorted(str(path.relative_to(REPO_ROOT)) for path in PROTO_DIR.glob("*.proto"))


def generate(out_dir=REPO_ROOT):
    """Write ``<out_dir>/protos/<name>_pb2.py`` for every schema file.

    Parameters
    ----------
    out_dir : path-like
        Root of the output tree; the default overwrites the committed modules.

    Returns
    -------
    list of pathlib.Path
        The generated modules.
    """
    from grpc_tools import protoc

    out_dir = pathlib.Path(out_dir)
    (out_dir / "protos").mkdir(parents=True, exist_ok=True)
    status = protoc.main(["protoc", f"--proto_path={REPO_ROOT}", f"--python_out={out_dir}",
                          *proto_files()])
    if status != 0:
        raise RuntimeError(f"protoc failed with status {status}; see its message above")
    return sorted((out_dir / "protos").glob("*_pb2.py"))


if __name__ == "__main__":
    for module in generate(*sys.argv[1:2]):
        print(module)
