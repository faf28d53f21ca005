"""StellarVAE speed and memory (issue: at most 60 s for a 10 arcmin 2MASS field, all four patch
sizes, on 2 CPU cores; peak memory)."""
import resource
import time

from data_prep.stellarvae_data.kband_fields import load_kband_field
from stellarvae.fields import resolve_field
from stellarvae.pipeline import FieldData, process_field


def bench_field_seconds(workdir):
    """One simulated 10 arcmin 2MASS-like field (600 x 600 px) end to end: patches, four
    DeepVAEs, GMMs, heat map, baselines, every output file. The simulation is not timed."""
    field = resolve_field("IRAS06055")
    kband = load_kband_field("sim", field.ra_deg, field.dec_deg, 10.0, workdir / "cache", seed=0)
    data = FieldData(field.name, field.label, kband.image, kband.wcs, kband.stars, kband.truth,
                     field)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = process_field(data, workdir / "runs", seed=0, force=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    figures = {"field_10arcmin_2mass_s": ([wall], "s"),
               "field_10arcmin_2mass_cpu_s": ([cpu], "s"),
               "peak_rss_mib": ([after.ru_maxrss / 1024.0], "MiB")}
    for size, info in summary["per_patch_size"].items():
        figures[f"train_encode_patch{size}_s"] = ([info["seconds"]], "s")
    return figures
