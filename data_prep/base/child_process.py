"""Run one task in a fresh Python process, so that its memory goes back when it ends.

TensorFlow keeps about 50 MB of every model a process has built (graphs, datasets), even after
``tf_keras.backend.clear_session()``: a Dask worker that trains StellarVAE's four DeepVAEs for
field after field grows by about 200 MB a field, and a long scan runs out of memory. A child
process per task gives all of it back, for a TensorFlow start-up of a few seconds.

The task is a module-level function named ``"package.module:function"`` that takes one
JSON-able value and returns one; :func:`run_in_child` sends the request on the child's stdin
and reads the result from the last line of its stdout (the task may print before it). The child
imports from the parent's ``sys.path``.
"""
import importlib
import json
import os
import subprocess
import sys

from data_prep.base.errors import InputError


def run_in_child(target, request):
    """``target(request)`` in a child Python process; returns its result.

    Parameters
    ----------
    target : str
        ``"package.module:function"``.
    request : JSON-able

    Raises
    ------
    InputError
        When the task raised one (its message unchanged).
    RuntimeError
        When the task raised anything else (``"<type>: <message>"``) or the child died (its
        last line on stderr).
    """
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    child = subprocess.run([sys.executable, "-m", __name__],
                           input=json.dumps({"target": target, "request": request}),
                           capture_output=True, text=True, check=False, env=environment)
    lines = child.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if child.returncode == 0 and "result" in answer:
        return answer["result"]
    if answer.get("error") == "InputError":
        raise InputError(answer["message"])
    if "error" in answer:
        raise RuntimeError(f"{answer['error']}: {answer['message']}")
    errors = [line for line in child.stderr.splitlines() if line.strip()]
    raise RuntimeError(errors[-1] if errors else f"child process exited {child.returncode}")


def _main():
    """The child: call the target named on stdin; print ``{"result": ...}`` or
    ``{"error": type, "message": ...}`` as the last line of stdout."""
    from data_prep.base.tensorflow_env import select_tf_keras

    select_tf_keras()
    message = json.loads(sys.stdin.read())
    module, function = message["target"].split(":")
    try:
        answer = {"result": getattr(importlib.import_module(module), function)(message["request"])}
    except Exception as error:  # reported to the parent, which raises it there
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))
        sys.exit(1)
    print(json.dumps(answer))


if __name__ == "__main__":
    _main()
