"""Run every benchmark (``tests/bench_*.py``, functions ``bench_*(workdir)``) and write
``runs/bench/<timestamp>.json`` and a Markdown table beside it.

Each benchmark function returns ``{figure: (values, unit)}``; the report keeps the median of
the repeats with its unit, the machine, and the package versions. A benchmark that fails is
recorded with its error and the others still run; one that cannot run here (the GPU
benchmarks on a machine without a GPU) raises ``unittest.SkipTest`` and is recorded as
skipped, with its reason.
"""
import argparse
import datetime
import importlib.util
import inspect
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import unittest
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from data_prep.base.files import write_json, write_text  # noqa: E402
from data_prep.base.tensorflow_env import select_tf_keras  # noqa: E402

select_tf_keras()  # before any benchmark imports TensorFlow

PACKAGES = ("tensorflow", "tf-keras", "tf-models-official", "tensorflow-probability", "numpy",
            "astropy", "astroquery", "galsim", "scikit-learn", "scipy", "pillow")


def machine():
    """What the figures were measured on."""
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "processor": platform.processor()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        info["memory_gib"] = round(mem_kb / 2**20, 1)
    except OSError:
        pass
    import tensorflow as tf
    info["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
    return info


def versions():
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def discover(pattern):
    """Yield (module stem, function name, function) for every benchmark matching ``pattern``."""
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("bench_") and func.__module__ == module.__name__:
                if pattern in f"{path.stem}.{name}":
                    yield path.stem, name, func


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench", help="output directory")
    parser.add_argument("-k", default="", help="run only benchmarks whose name contains this")
    args = parser.parse_args(argv)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = {"timestamp": stamp, "machine": machine(), "versions": versions(),
              "figures": {}, "skipped": {}, "errors": {}}
    for stem, name, func in discover(args.k):
        label = f"{stem}.{name}"
        print(f"[bench] {label} ...", flush=True)
        start = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory() as workdir:
                figures = func(Path(workdir))
        except unittest.SkipTest as reason:
            report["skipped"][label] = str(reason)
            print(f"[bench]   skipped: {reason}", flush=True)
            continue
        except Exception as error:  # a broken benchmark must not hide the others
            report["errors"][label] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
            continue
        for figure, (values, unit) in figures.items():
            values = [float(v) for v in values]
            report["figures"][figure] = {"median": statistics.median(values), "unit": unit,
                                         "values": values, "benchmark": label}
            print(f"[bench]   {figure}: {statistics.median(values):.4g} {unit}", flush=True)
        print(f"[bench]   ({time.perf_counter() - start:.0f} s)", flush=True)
    out = Path(args.out)
    write_json(out / f"{stamp}.json", report)
    rows = ["| figure | median | unit | repeats |", "|---|---|---|---|"]
    rows += [f"| {k} | {v['median']:.4g} | {v['unit']} | {len(v['values'])} |"
             for k, v in sorted(report["figures"].items())]
    rows += [f"| {k} | skipped | {v} | |" for k, v in report["skipped"].items()]
    rows += [f"| {k} | error | {v} | |" for k, v in report["errors"].items()]
    write_text(out / f"{stamp}.md", "\n".join(rows) + "\n")
    print("\n".join(rows))
    print(f"[bench] wrote {out / (stamp + '.json')}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
