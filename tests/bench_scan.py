"""Benchmark of ``deepcee scan`` on this machine: a 40-tile mock survey (the paper's model at its
1000 px, 0.792"/px input, random weights: speed does not depend on them) scanned with one and
with two local Dask workers.

Figures: tiles per minute of each (the model and the mock sky loaded in every worker before
the clock starts; the cluster's start is reported on its own), the scaling efficiency
(tiles/min with 2 workers / (2 x with 1)), the largest peak memory (resident set) of a worker,
the workers' CPU seconds per tile, whether the two catalogues are identical, and, in this
process with TensorFlow on every core, the seconds one tile spends in preparation (mock-sky
images at SDSS pixels, FITS, resampling, stretch) and in detection: the basis of the survey
estimates in the README."""
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import PAPER_CONFIG  # noqa: E402
from scan_helpers import export_model  # noqa: E402

REGION = "box:186.5,187.45,29.5,30.2"
"""40 tiles of 13.2 arcmin with the default overlap (4.57 arcmin), 0.6 deg^2 of the mock sky."""
TILE_PX, TILE_SCALE = 1000, 0.792  # the paper's images: 2000 px at 0.396"/px resized to 1000
PHASE_TILES = 4


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _warm_up(job):
    """Load the model and build the mock sky in a worker."""
    job.detector()
    job.source.survey()


def _scan(plan, out, workers):
    """Scan ``plan`` with ``workers`` local workers: (seconds to start and warm the cluster,
    seconds to scan, largest worker peak MiB, worker CPU seconds, median tile seconds)."""
    from data_prep.base import dask_scan
    from deepcee.serving import scan

    dask_scan.claim_folder(out, plan.settings)
    options = dask_scan.ClusterOptions(f"local:{workers}", dashboard_address="127.0.0.1:0")
    job = plan.job
    start = time.perf_counter()
    with dask_scan.dask_client(options, log=lambda _: None) as client:
        client.wait_for_workers(workers)
        client.run(_warm_up, job)
        started = time.perf_counter() - start
        cpu_before = sum(client.run(time.process_time).values())
        begin = time.perf_counter()
        report = dask_scan.run_tiles(client, job, plan.tiles, out, progress=False,
                                     log=lambda _: None)
        seconds = time.perf_counter() - begin
        cpu = sum(client.run(time.process_time).values()) - cpu_before
        peak = max(client.run(_peak_rss_mib).values())
    if report.failed or report.written != len(plan.tiles):
        raise RuntimeError(f"scan with {workers} workers: {report}")
    scan.write_products(out, plan)
    tile_seconds = statistics.median(float(table.meta["seconds"]) for _, table in
                                     dask_scan.read_results(out, plan.tiles))
    return started, seconds, peak, cpu, tile_seconds


def _phases(plan):
    """Seconds per tile of preparation and of detection in this process (first tile left
    out: it traces the model)."""
    from deepcee.serving.detect import read_fits_triplet
    detector = plan.job.detector()
    prepare, detect = [], []
    for tile in plan.tiles[:PHASE_TILES]:
        start = time.perf_counter()
        with plan.job.source.images(tile) as paths:
            picture = read_fits_triplet(paths, detector.training_pixel_scale_arcsec)
        middle = time.perf_counter()
        detector(picture.rgb)
        prepare.append(middle - start)
        detect.append(time.perf_counter() - middle)
    return prepare[1:], detect[1:]


def bench_scan_mock_survey(workdir):
    """40 tiles, one and two local workers (see the module doc)."""
    from deepcee.serving import scan
    from deepcee.serving.scan_sources import tile_source

    model = export_model(Path(workdir) / "model", PAPER_CONFIG, TILE_PX, TILE_SCALE)
    plan = scan.plan_scan(model, tile_source("sim", cache=Path(workdir) / "cache"), REGION)
    if len(plan.tiles) != 40:
        raise RuntimeError(f"{REGION} gives {len(plan.tiles)} tiles, not 40")
    prepare, detect = _phases(plan)
    figures = {"scan_prepare_seconds_per_tile_1000px": (prepare, "s"),
               "scan_detect_seconds_per_tile_1000px": (detect, "s")}
    catalogues, rates = [], {}
    for workers in (1, 2):
        out = Path(workdir) / f"scan-{workers}"
        started, seconds, peak, cpu, tile_seconds = _scan(plan, out, workers)
        rates[workers] = 60.0 * len(plan.tiles) / seconds
        catalogues.append((out / "catalogue.ecsv").read_text())
        figures.update({
            f"scan_tiles_per_minute_{workers}_worker": ([rates[workers]], "tiles/min"),
            f"scan_cluster_start_seconds_{workers}_worker": ([started], "s"),
            f"scan_peak_memory_per_worker_{workers}_worker": ([peak], "MiB"),
            f"scan_worker_cpu_seconds_per_tile_{workers}_worker": ([cpu / len(plan.tiles)],
                                                                   "CPU s/tile"),
            f"scan_tile_wall_seconds_{workers}_worker": ([tile_seconds], "s")})
    figures["scan_scaling_efficiency_2_workers"] = ([rates[2] / (2 * rates[1])], "fraction")
    figures["scan_catalogues_identical_1_vs_2_workers"] = (
        [float(catalogues[0] == catalogues[1])], "1 = identical")
    return figures
