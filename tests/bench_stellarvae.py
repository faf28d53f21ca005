"""StellarVAE speed and memory on a simulated 10 arcmin 2MASS-like field (600 x 600 px), all
four patch sizes, every output file, on this machine's CPU cores: the paper's method (issue: at
most 60 s) and ``--preset robust`` (issue: at most 10 s on 2 CPU cores; the median of
``ROBUST_REPEATS`` runs). Wall and CPU seconds are both reported: on a machine shared with
other work the wall time grows, the CPU time much less."""
import resource
import time

from data_prep.stellarvae_data.kband_fields import load_kband_field
from stellarvae.fields import resolve_field
from stellarvae.pipeline import FieldData, preset_options, process_field

ROBUST_REPEATS = 3


def _field(workdir):
    field = resolve_field("IRAS06055")
    kband = load_kband_field("sim", field.ra_deg, field.dec_deg, 10.0, workdir / "cache", seed=0)
    return FieldData(field.name, field.label, kband.image, kband.wcs, kband.stars, kband.truth,
                     field)


def _timed(data, workdir, options):
    """(wall s, CPU s, summary) of one field end to end, outputs included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = process_field(data, workdir / "runs", options=options, seed=0, force=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return wall, cpu, summary


def bench_field_seconds(workdir):
    """The paper's method: patches, four DeepVAEs, GMMs, heat map, baselines, every output
    file. The simulation is not timed."""
    data = _field(workdir)
    wall, cpu, summary = _timed(data, workdir, None)
    figures = {"field_10arcmin_2mass_s": ([wall], "s"),
               "field_10arcmin_2mass_cpu_s": ([cpu], "s"),
               "peak_rss_mib": ([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0],
                                "MiB")}
    for size, info in summary["per_patch_size"].items():
        figures[f"train_encode_patch{size}_s"] = ([info["seconds"]], "s")
    return figures


def bench_robust_field_seconds(workdir):
    """``--preset robust`` on the same field, end to end with every output (issue: <= 10 s on
    2 CPU cores), ``ROBUST_REPEATS`` times; the first run also pays TensorFlow's start-up."""
    data = _field(workdir)
    walls, cpus = [], []
    for _ in range(ROBUST_REPEATS):
        wall, cpu, summary = _timed(data, workdir, preset_options("robust"))
        walls.append(wall)
        cpus.append(cpu)
    return {"robust_field_10arcmin_2mass_s": (walls, "s"),
            "robust_field_10arcmin_2mass_cpu_s": (cpus, "s"),
            "robust_vae_train_encode_s": ([sum(i.get("seconds", 0.0) for i in
                                               summary["per_patch_size"].values())], "s")}


SCAN_FIELDS = 4


def _worker_rss_over_fields(request):
    """RSS (MiB) of this process after each of ``request["fields"]`` 6' simulated fields of a
    StellarVAE scan job (robust preset), each run here (``"in_process"``, as the scan did
    before) or through :class:`stellarvae.scan.FieldJob` (``"child"``, a child process per
    field). Runs in a child process of the benchmark (:func:`bench_scan_worker_memory`)."""
    from dataclasses import asdict

    from data_prep.base.sky_tiling import Tile
    from stellarvae import scan

    out = request["workdir"]
    job = scan.FieldJob("sim", 6.0, f"{out}/cache", f"{out}/runs",
                        preset_options("robust", baselines=()), seed=0)
    rss = []
    for k in range(request["fields"]):
        tile = Tile(f"T{k}", 92.0 + 0.2 * k, 20.6, 0.1)
        if request["mode"] == "in_process":
            scan.run_field({"job": asdict(job), "tile": asdict(tile)})
        else:
            job(tile)
        with open("/proc/self/status") as status:
            rss.append(next(int(line.split()[1]) for line in status
                            if line.startswith("VmRSS")) / 1024.0)
    return rss


def bench_scan_worker_memory(workdir):
    """How much a ``stellarvae scan`` worker's memory grows per field: as it runs them now (a
    child process each) and as it ran them itself before (TensorFlow keeps ~50 MB a model)."""
    from data_prep.base.child_process import run_in_child

    figures = {}
    for mode in ("child", "in_process"):
        rss = run_in_child("tests.bench_stellarvae:_worker_rss_over_fields",
                           {"mode": mode, "fields": SCAN_FIELDS,
                            "workdir": str(workdir / mode)})
        figures[f"scan_worker_rss_growth_per_field_{mode}_mib"] = (
            [(rss[-1] - rss[0]) / (len(rss) - 1)], "MiB")
    return figures
