"""Benchmark of ``deepcee tfrecords``: cutouts per second from cached FITS to TFRecord on one
core, at the paper's sizes (2000 px g, r, i FITS -> 1000 px PNG records), and the peak
memory of a whole run at N and 4N clusters (it must not grow with N: images are streamed).

The rate is given per wall-clock second (the process pinned to one core) and per CPU second
of the process (what one core delivers when other work shares it); both count the whole run
(sample, plan, cutouts, preview, manifest), not the cutouts alone.

The cutouts come from a quick fake source (noise and blobs) and are cached by a first run;
the timed runs start from an empty output directory, so every record is made again from the
cached FITS.
"""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_cluster_source import FakeClusterSource, run_tfrecords, scattered_clusters  # noqa: E402

N_CLUSTERS = 2  # the memory runs use N and 4N; 4N clusters make 4N x 4 + 4N cutouts


def build(workdir, n_clusters, n=None):
    """One in-process ``deepcee tfrecords`` run at paper sizes; return its wall and CPU
    times (s)."""
    source = FakeClusterSource(scattered_clusters(n_clusters),
                               scattered_clusters(n_clusters, "RM", redmapper=True))
    argv = ["tfrecords", "--source", "sim", "--out", str(workdir / "out"),
            "--cache", str(workdir / "cache")] + (["--n", str(n)] if n else [])
    start, start_cpu = time.perf_counter(), time.process_time()
    assert run_tfrecords(argv, source) == 0
    return time.perf_counter() - start, time.process_time() - start_cpu


def peak_rss_mib(workdir, n):
    """Peak resident memory (MiB) of a fresh process building ``n`` of 4N clusters."""
    shutil.rmtree(workdir / "out", ignore_errors=True)
    code = (f"import resource, sys; sys.path.insert(0, {str(HERE)!r}); import bench_dataset; "
            "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            f"bench_dataset.build(__import__('pathlib').Path({str(workdir)!r}), "
            f"{4 * N_CLUSTERS}, n={n}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, check=True,
                            capture_output=True, text=True)
    return int(result.stdout.strip().splitlines()[-1]) / 1024.0


def bench_tfrecords_from_cached_fits(workdir: Path):
    """Cutouts / s on one core from cached FITS, and peak memory at N and 4N clusters."""
    build(workdir, 4 * N_CLUSTERS)  # fills the cutout cache
    images = 4 * N_CLUSTERS * 4 + 4 * N_CLUSTERS
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})
    rates, cpu_rates = [], []
    try:
        for _ in range(2):
            shutil.rmtree(workdir / "out")
            wall, cpu = build(workdir, 4 * N_CLUSTERS)
            rates.append(images / wall)
            cpu_rates.append(images / cpu)
    finally:
        os.sched_setaffinity(0, affinity)
    rss_n = peak_rss_mib(workdir, N_CLUSTERS)
    rss_4n = peak_rss_mib(workdir, 4 * N_CLUSTERS)
    return {"tfrecords_cutouts_per_s_one_core": (rates, "cutouts/s"),
            "tfrecords_cutouts_per_cpu_s": (cpu_rates, "cutouts/CPU-s"),
            "tfrecords_peak_rss_N": ([rss_n], "MiB"),
            "tfrecords_peak_rss_4N": ([rss_4n], "MiB"),
            "tfrecords_peak_rss_growth_4N_over_N": ([rss_4n - rss_n], "MiB")}
