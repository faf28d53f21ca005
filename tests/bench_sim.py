"""Simulator speed (issue: a 2000 x 2000 x 3 cluster field in <= 3 s and a 2MASS 10 arcmin
field in <= 1 s on one core)."""
import time

from data_prep.sim.galaxy_clusters import MockSky
from data_prep.sim.star_clusters import simulate_kband_field

IRAS06055 = (92.1156, 20.6539)


def _timed(function, repeats):
    """Wall-clock seconds of ``repeats`` calls of ``function``."""
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        values.append(time.perf_counter() - start)
    return values


def bench_sdss_cluster_field(workdir):
    """One 2000 x 2000 px g, r, i cutout around a cluster (0.396"/px); the first cutout of a
    sky also builds its stamp banks."""
    start = time.perf_counter()
    sky = MockSky(seed=0)
    build = time.perf_counter() - start
    truth = sky.truth_table()
    cluster = truth[(truth["n200"] >= 20) & (truth["z"] > 0.1) & (truth["z"] < 0.2)][0]
    first = _timed(lambda: sky.cutout(cluster["ra"], cluster["dec"]), 1)
    warm = _timed(lambda: sky.cutout(cluster["ra"] + 0.01, cluster["dec"]), 3)
    return {"mock_sky_build_s": ([build], "s"),
            "cutout_2000px_gri_first_s": (first, "s"),
            "cutout_2000px_gri_s": (warm, "s")}


def bench_kband_fields(workdir):
    """A 10 arcmin 2MASS field (600 x 600 px) and a 5 arcmin UKIDSS field (1500 x 1500 px)."""
    return {"twomass_10arcmin_s": (_timed(lambda: simulate_kband_field(*IRAS06055, 10.0,
                                                                       "2mass"), 5), "s"),
            "ukidss_5arcmin_s": (_timed(lambda: simulate_kband_field(*IRAS06055, 5.0,
                                                                     "ukidss"), 3), "s")}
