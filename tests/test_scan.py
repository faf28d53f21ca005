"""Survey scans on Dask (``deepcee scan``): regions and tiling, the sky merge, completeness and
purity, the scheduler choices; and, with a real model on a real local cluster, identical
catalogues with 1 and 2 workers, a worker killed mid-scan, an interrupted scan rerun, a failing
tile recorded and retried, and a scan through a separately started scheduler and worker."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from data_prep.base import dask_scan
from data_prep.base.errors import InputError
from data_prep.base.sky_tiling import parse_region
from deepcee.cli import main as deepcee_main
from deepcee.evaluation.survey_completeness import completeness_purity
from helpers import REPO, TINY_CONFIG
from scan_helpers import REGION, export_model

TILE_PX, TILE_SCALE = 256, 0.792  # the test model: 3.38 arcmin tiles
N_TILES = 9  # of REGION for the test model
FAILED = dask_scan.FAILED_TILES
SETTINGS = ["--overlap-arcmin", "1", "--min-score", "0", "--threshold", "0"]
"""Small tiles' overlap; every box of the random-weight model kept."""


# --- regions and tiles ---------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("box:1,2,3", "expected 4 numbers"),
    ("box:10,20,5,1", "DEC1 5 is not below DEC2 1"),
    ("box:10,20,-95,1", "Dec -95 is outside"),
    ("box:400,20,1,2", "RA 400 is outside"),
    ("cone:10,20", "expected 3 numbers"),
    ("cone:10,20,-1", "radius -1 deg is not in"),
    ("cone:a,b,c", "expected 3 numbers"),
    ("circle:1,2,3", "unknown kind"),
    ("list:/no/such/file.txt", "no such file"),
])
def test_region_mistakes_are_one_line_input_errors(text, message):
    with pytest.raises(InputError, match=message) as error:
        parse_region(text)
    assert "\n" not in str(error.value)


def test_region_mistake_on_the_command_line_exits_2_with_one_line(tmp_path, capsys):
    assert deepcee_main(["scan", "--region", "box:1,2", "--model", str(tmp_path),
                         "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expected 4 numbers" in err


def test_list_file_positions_and_errors(tmp_path):
    good = tmp_path / "centres.txt"
    good.write_text("# centres\n150.5, 2.25\n\n10 -5  # a comment\n")
    region = parse_region(f"list:{good}")
    assert region.centres == [(150.5, 2.25), (10.0, -5.0)]
    tiles = region.tiles(0.2, 0.05)
    assert [t.id for t in tiles] == ["p150.50000+02.25000", "p010.00000-05.00000"]
    assert list(region.contains([150.55, 150.75], [2.25, 2.25], tiles)) == [True, False]
    bad = tmp_path / "bad.txt"
    bad.write_text("150.5, 2.25\n151 2 3\n")
    with pytest.raises(InputError, match=r"bad.txt:2: '151 2 3' is not 'RA,Dec'"):
        parse_region(f"list:{bad}")


def test_box_across_ra_zero_and_cone_membership():
    box = parse_region("box:359.5,0.5,-1,1")
    assert list(box.contains([359.7, 0.2, 1.0, 0.2], [0, 0, 0, 1.5])) == [True, True, False,
                                                                          False]
    assert box.area_deg2() == pytest.approx(2.0, rel=1e-3)
    ras = {round(tile.ra) % 360 for tile in box.tiles(0.2, 0.05)}
    assert ras <= {359, 0, 1} and ras >= {0}
    cone = parse_region("cone:150,2,0.5")
    assert list(cone.contains([150.0, 150.49, 150.51], [2.5, 2.0, 2.0])) == [True, True, False]


@pytest.mark.parametrize("dec", [-89.8, -45.0, 0.0, 30.0, 70.0, 86.0])
def test_grid_tile_holds_its_cell_with_half_the_overlap_to_spare(dec):
    side, overlap = 13.2 / 60, 4.57 / 60
    tiles = parse_region(f"cone:{(dec * 7) % 360},{dec},0.3").tiles(side, overlap)
    for tile in tiles:
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [tile.ra, tile.dec]
        wcs.wcs.crpix = [1, 1]
        wcs.wcs.cdelt = [-1, 1]  # 1 pixel = 1 degree, pixel 0 at the centre
        ra_min, width, low, high = tile.cell
        grid = np.linspace(0, 1, 21)
        ra, dec_ = np.meshgrid(ra_min + grid * width, low + grid * (high - low))
        x, y = wcs.wcs_world2pix(ra.ravel() % 360, dec_.ravel(), 0)
        assert np.max(np.abs(np.concatenate([x, y]))) <= (side - overlap) / 2 + 1e-9


def test_every_point_of_a_box_is_owned_by_exactly_one_tile():
    region = parse_region("box:359.8,0.3,59.5,60.2")
    tiles = region.tiles(0.1, 0.03)
    rng = np.random.default_rng(1)
    ra = (359.8 + rng.uniform(0, 0.5, 2000)) % 360
    dec = rng.uniform(59.5, 60.2, 2000)
    owners = sum(tile.owns(ra, dec).astype(int) for tile in tiles)
    assert np.all(owners == 1)
    assert len({tile.id for tile in tiles}) == len(tiles)


def test_overlap_not_smaller_than_the_tile_is_refused():
    with pytest.raises(InputError, match="overlap 6.00 arcmin is not smaller than the tile"):
        parse_region("box:1,2,1,2").tiles(0.1, 0.1)


# --- merge, catalogue figures, engine pieces --------------------------------------------------

def test_merge_keeps_the_highest_score_of_duplicates_from_overlapping_tiles():
    from deepcee.serving.scan import merge_on_sky
    arcmin = 1 / 60
    detections = Table({
        "tile": ["a", "a", "b", "b", "b"],
        "ra": [150.0, 150.2, 150.0 + 0.5 * arcmin, 150.2 + 3 * arcmin, 150.0 + 1.2 * arcmin],
        "dec": [2.0, 2.0, 2.0, 2.0, 2.0],
        "score": [0.6, 0.9, 0.8, 0.7, 0.3],
        "width_arcsec": [60.0] * 5, "height_arcsec": [60.0] * 5})
    merged = merge_on_sky(detections, 1.61)
    # 0.6 (a) and 0.8 (b) and 0.3 (b) are one cluster: 0.8 stands for three
    assert list(merged["score"]) == [0.9, 0.8, 0.7]
    assert list(merged["tile"]) == ["a", "b", "b"]
    assert list(merged["n_merged"]) == [1, 3, 1]


def test_completeness_and_purity_against_truth():
    truth = Table({"ra": [150.0, 151.0, 152.0], "dec": [2.0, 2.0, 2.0],
                   "z": [0.15, 0.15, 0.15], "n200": [25, 10, 30]})
    arcsec_100kpc = 100 / 2.46  # kpc per arcsec at z = 0.15 is about 2.46
    detections = Table({"ra": [150.0, 151.0 + 0.5 * arcsec_100kpc / 3600, 155.0],
                        "dec": [2.0, 2.0, 2.0], "score": [0.9, 0.6, 0.8]})
    table = completeness_purity(detections, truth, thresholds=np.array([0.0, 0.7, 0.95]))
    assert list(table["detections"]) == [3, 2, 0]
    assert list(table["pure"]) == [2, 1, 0]
    assert table["purity"][0] == pytest.approx(2 / 3) and table["purity"][1] == 0.5
    assert np.isnan(table["purity"][2])
    assert list(table["completeness"]) == pytest.approx([2 / 3, 1 / 3, 0.0])
    # paper cuts (N200 >= 20, 0.1 < z < 0.2): clusters 0 and 2
    assert list(table["completeness_paper_cuts"]) == pytest.approx([0.5, 0.5, 0.0])


@pytest.mark.parametrize("scheduler, workers, message", [
    ("local:0", None, "local:N with N >= 1"),
    ("local:2", 3, "disagree"),
    ("slurm", None, "needs --jobqueue-config"),
    ("tcp://127.0.0.1:1", 2, "--workers with --scheduler"),
    ("kubernetes", None, "unknown"),
])
def test_scheduler_mistakes(scheduler, workers, message):
    with pytest.raises(InputError, match=message):
        dask_scan.scheduler_kind(dask_scan.ClusterOptions(scheduler, workers))


def test_local_scheduler_counts():
    assert dask_scan.scheduler_kind(dask_scan.ClusterOptions("local:3")) == ("local", 3)
    assert dask_scan.scheduler_kind(dask_scan.ClusterOptions("local", 2)) == ("local", 2)
    assert dask_scan.scheduler_kind(dask_scan.ClusterOptions("tcp://h:8786")) == ("address",
                                                                                None)


def test_a_result_is_published_once(tmp_path):
    path = tmp_path / "tiles" / "t1.ecsv"
    assert dask_scan.publish_once(path, Table({"score": [0.5]}))
    assert not dask_scan.publish_once(path, Table({"score": [0.9]}))
    assert list(Table.read(path)["score"]) == [0.5]
    assert [p.name for p in path.parent.iterdir()] == ["t1.ecsv"]


def test_a_child_process_returns_its_tasks_result_or_its_error():
    from data_prep.base.child_process import run_in_child
    assert run_in_child("json:dumps", {"a": [1, 2]}) == '{"a": [1, 2]}'
    with pytest.raises(InputError, match="^REGION 'nonsense': unknown kind"):
        run_in_child("data_prep.base.sky_tiling:parse_region", "nonsense")
    with pytest.raises(RuntimeError, match="^JSONDecodeError: Expecting property name"):
        run_in_child("json:loads", "{")


@pytest.mark.parametrize("preset", ["paper", "robust"])
def test_stellarvae_options_survive_the_trip_to_a_fields_child_process(preset):
    from dataclasses import asdict

    from stellarvae.pipeline import options_from_dict, preset_options
    options = preset_options(preset, patch_sizes=(8, 16))
    assert options_from_dict(json.loads(json.dumps(asdict(options)))) == options


def test_scan_folder_refuses_other_settings(tmp_path):
    dask_scan.claim_folder(tmp_path, {"model": "a", "overlap_arcmin": 4.57})
    dask_scan.claim_folder(tmp_path, {"model": "a", "overlap_arcmin": 4.57})
    with pytest.raises(InputError, match=r"other settings \(overlap_arcmin\)"):
        dask_scan.claim_folder(tmp_path, {"model": "a", "overlap_arcmin": 3.0})


def test_jobqueue_config_becomes_a_slurm_job(tmp_path):
    config = tmp_path / "jobqueue.yaml"
    config.write_text("jobqueue:\n  slurm:\n    cores: 8\n    memory: 32GB\n    processes: 4\n"
                      "    queue: astro\n    walltime: '02:00:00'\n"
                      "    scheduler-options: {host: 127.0.0.1, dashboard_address: ':0'}\n")
    cluster = dask_scan.jobqueue_cluster("slurm", config)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p astro" in script and "#SBATCH -t 02:00:00" in script
    assert "--nworkers 4" in script and "--nthreads 2" in script
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobqueue:\n  pbs:\n    cores: 8\n")
    with pytest.raises(InputError, match="no 'jobqueue: slurm:' section"):
        dask_scan.jobqueue_cluster("slurm", bad)


def test_sdss_tiles_ask_skyview_for_sdss_pixels_and_a_failed_download_fails_the_tile(
        tmp_path, monkeypatch):
    from data_prep.base.errors import NoCoverageError
    from data_prep.sim.galaxy_clusters import MockSky
    from data_prep.surveys import skyview
    from deepcee.serving.scan_sources import tile_source
    asked = []

    def sdss_cutout(ra, dec, cache_dir, size_px, scale_arcsec, bands, retry):
        asked.append((ra, dec, size_px, scale_arcsec, Path(cache_dir)))
        if dec > 10:
            raise NoCoverageError("SDSSr at RA 10.00000, Dec +20.00000: image is all NaN "
                                  "(outside the survey footprint)")
        return MockSky(seed=0).cutout(ra, dec, size_px=size_px, scale_arcsec=scale_arcsec)

    monkeypatch.setattr(skyview, "sdss_cutout", sdss_cutout)
    source = tile_source("sdss", cache=tmp_path / "cache")
    tile = parse_region("box:150,150.01,2,2.01").tiles(13.2 / 60, 4.57 / 60)[0]
    with source.images(tile) as paths:
        assert sorted(paths) == ["g", "i", "r"]
        assert fits_shape(paths["r"]) == (2000, 2000)  # 13.2 arcmin at 0.396"/px
    assert asked == [(tile.ra, tile.dec, 2000, 0.396, tmp_path / "cache")]
    assert not paths["r"].exists()  # the temporary copies are gone

    def job(tile):
        with source.images(tile):
            return Table()

    far = parse_region("list:" + str(write_lines(tmp_path / "c.txt", "10,20"))).tiles(0.05, 0)
    state = dask_scan.process_tile(job, far[0], tmp_path / "out")
    assert state[1] == "failed" and "outside the survey footprint" in state[2]


def fits_shape(path):
    from astropy.io import fits
    return fits.getdata(path).shape


def write_lines(path, *lines):
    path.write_text("\n".join(lines) + "\n")
    return path


# --- real scans on a local cluster ------------------------------------------------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The tiny Faster R-CNN with random weights, for 256 px images at 0.792"/px, exported."""
    return export_model(tmp_path_factory.mktemp("model"), TINY_CONFIG, TILE_PX, TILE_SCALE)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of one worker, shared by the tests below (``two_workers`` adds a
    second): (client, scheduler address)."""
    options = dask_scan.ClusterOptions("local:1", dashboard_address="127.0.0.1:0")
    with dask_scan.dask_client(options, log=lambda _: None) as client:
        yield client, client.scheduler_info()["address"]


def scan_args(model, out, *extra):
    return ["scan", "--region", REGION, "--model", str(model), "--out", str(out),
            "--no-progress", "--dashboard-address", "127.0.0.1:0", *SETTINGS, *extra]


@pytest.fixture(scope="module")
def baseline(model, cluster, tmp_path_factory):
    """An uninterrupted scan of the test region with one local worker."""
    out = tmp_path_factory.mktemp("baseline")
    assert len(cluster[0].nthreads()) == 1
    assert deepcee_main(scan_args(model, out, "--scheduler", cluster[1])) == 0
    return out


@pytest.fixture(scope="module")
def two_workers(cluster, baseline):
    """The shared cluster with a second local worker (after the baseline)."""
    client = cluster[0]
    client.cluster.scale(2)
    client.wait_for_workers(2, timeout=120)
    return cluster


def catalogue_text(out):
    return (Path(out) / "catalogue.ecsv").read_text()


def tile_tables(out):
    return {path.stem: Table.read(path) for path in sorted((Path(out) / "tiles").glob("*.ecsv"))}


def plan(model):
    from deepcee.serving import scan
    from deepcee.serving.scan_sources import tile_source
    return scan.plan_scan(model, tile_source("sim"), REGION, overlap_arcmin=1.0, min_score=0.0)


@pytest.mark.slow
def test_one_and_two_local_workers_give_identical_catalogues(model, baseline, two_workers,
                                                             tmp_path, capsys):
    out = tmp_path / "two"
    assert deepcee_main(scan_args(model, out, "--scheduler", two_workers[1])) == 0
    assert "Dask dashboard: http" in capsys.readouterr().out
    assert catalogue_text(out) == catalogue_text(baseline)
    one, two = tile_tables(baseline), tile_tables(out)
    assert len(one) == N_TILES and one.keys() == two.keys()
    for name in one:
        assert one[name].pformat(max_lines=-1, max_width=-1) == two[name].pformat(
            max_lines=-1, max_width=-1)
    # the model (and the mock sky) were built once per worker process, not per tile
    assert {t.meta["worker_loads"] for t in [*one.values(), *two.values()]} == {1}
    assert len({t.meta["worker_pid"] for t in one.values()}) == 1
    catalogue = Table.read(out / "catalogue.ecsv")
    assert len(catalogue) > 0 and {"wen_name", "redmapper_z", "known"} <= set(catalogue.colnames)
    assert Table.read(out / "catalogue.fits")["name"].tolist() == catalogue["name"].tolist()
    assert (out / "sky_map.png").read_bytes()[:4] == b"\x89PNG"
    assert len(Table.read(out / "completeness_purity.ecsv")) == 101
    assert (out / "catalogue.reg").read_text().count("box(") == len(catalogue)
    assert len(Table.read(out / "failed_tiles.ecsv")) == 0


@pytest.mark.slow
def test_worker_killed_mid_scan_every_tile_once_same_catalogue(model, baseline, two_workers,
                                                               tmp_path):
    from deepcee.serving import scan
    client = two_workers[0]
    out = tmp_path / "killed"
    scan_plan = plan(model)
    dask_scan.claim_folder(out, scan_plan.settings)
    victim = sorted(client.run(os.getpid).values())[0]
    seen = {}

    def kill_after_first_result():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not dask_scan.finished_tiles(out):
            time.sleep(0.02)
        seen["finished"] = len(dask_scan.finished_tiles(out))
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_after_first_result)
    killer.start()
    report = dask_scan.run_tiles(client, scan_plan.job, scan_plan.tiles, out, progress=False,
                                 log=lambda _: None)
    killer.join()
    assert 0 < seen["finished"] < len(scan_plan.tiles)  # killed mid-scan
    assert victim not in client.run(os.getpid).values()
    assert report.failed == {}
    assert report.written + report.skipped == len(scan_plan.tiles)  # skipped: a twin task
    assert dask_scan.finished_tiles(out) == {tile.id for tile in scan_plan.tiles}
    scan.write_products(out, scan_plan, threshold=0.0)
    assert catalogue_text(out) == catalogue_text(baseline)


@pytest.mark.slow
def test_interrupted_scan_rerun_finishes_each_tile_once_same_catalogue(model, baseline,
                                                                      two_workers, tmp_path):
    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "deepcee", *scan_args(model, out, "--scheduler", "local:1")]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 150
        while len(dask_scan.finished_tiles(out)) < 2 and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "interrupted; finished work is kept" in err
    before = dask_scan.finished_tiles(out)
    assert 2 <= len(before) < N_TILES
    assert deepcee_main(scan_args(model, out, "--scheduler", two_workers[1])) == 0
    run = json.loads((out / "summary.json").read_text())["run"]
    assert run["skipped"] == len(before) and run["written"] == N_TILES - len(before)
    assert catalogue_text(out) == catalogue_text(baseline)


def mock_triplets(folder, centres, size_px=512):
    """g, r, i FITS of the mock sky (seed 0, SDSS pixels) named field<k>_<band>.fits."""
    from data_prep.sim.galaxy_clusters import MockSky
    sky = MockSky(seed=0)
    folder.mkdir(parents=True, exist_ok=True)
    for k, (ra, dec) in enumerate(centres):
        for band, hdu in sky.cutout(ra, dec, size_px=size_px).items():
            hdu.writeto(folder / f"field{k}_{band}.fits", overwrite=True)


@pytest.mark.slow
def test_a_failing_tile_is_recorded_the_others_finish_and_it_is_retried(model, two_workers,
                                                                         tmp_path, capsys):
    images = tmp_path / "images"
    mock_triplets(images, [(186.90, 29.85), (186.92, 29.87), (186.94, 29.85)])
    good = (images / "field1_r.fits").read_bytes()
    (images / "field1_r.fits").write_bytes(good[:len(good) // 2])  # truncated
    out = tmp_path / "scan"
    args = ["scan", "--source", f"dir:{images}", "--catalogues", "sim", "--model", str(model),
            "--out", str(out), "--no-progress", "--scheduler", two_workers[1], *SETTINGS]
    assert deepcee_main(args) == 1
    assert "1 tiles failed" in capsys.readouterr().out
    failed = Table.read(out / "failed_tiles.ecsv")
    assert list(failed["tile"]) == ["field1"]
    assert "field1_r.fits: unreadable or truncated FITS" in failed["reason"][0]
    assert dask_scan.finished_tiles(out) == {"field0", "field2"}
    (images / "field1_r.fits").write_bytes(good)
    assert deepcee_main(args) == 0
    assert len(Table.read(out / "failed_tiles.ecsv")) == 0
    assert dask_scan.finished_tiles(out) == {"field0", "field1", "field2"}
    run = json.loads((out / "summary.json").read_text())["run"]
    assert (run["written"], run["skipped"]) == (1, 2)


@pytest.mark.slow
def test_scan_through_a_separately_started_scheduler_and_worker(model, tmp_path):
    dask = Path(sys.executable).with_name("dask")
    scheduler_file = tmp_path / "scheduler.json"
    started = []
    try:
        started.append(subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)], cwd=REPO, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        started.append(subprocess.Popen(
            [str(dask), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
             "--no-nanny", "--no-dashboard"], cwd=REPO, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        centres = tmp_path / "centres.txt"
        centres.write_text("186.914,29.861\n186.93,29.85\n")
        out = tmp_path / "tcp"
        args = scan_args(model, out, "--scheduler", address)
        args[args.index(REGION)] = f"list:{centres}"
        assert deepcee_main(args) == 0, (out / "failed_tiles.ecsv").read_text()
        tables = tile_tables(out)
        assert sorted(tables) == ["p186.91400+29.86100", "p186.93000+29.85000"]
        assert {table.meta["worker_pid"] for table in tables.values()} == {started[1].pid}
        assert len(Table.read(out / "catalogue.ecsv")) > 0
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(tmp_path / "dask-scratch-space", ignore_errors=True)


# --- StellarVAE on the same engine ------------------------------------------------------------

def test_stellarvae_fields_and_grid_tiles(tmp_path):
    from stellarvae import scan as vae_scan
    tiles = vae_scan.field_tiles(["IRAS06055", "IRAS 06055+2039", "92.2,20.7"], 3.0)
    assert [t.id for t in tiles] == ["IRAS06055", "RA092.2000_DEC+20.7000"]
    assert vae_scan.field_of_tile(tiles[0]).has_reference
    other = vae_scan.field_of_tile(tiles[1])
    assert (other.name, other.ra_deg, other.dec_deg) == (tiles[1].id, 92.2, 20.7)
    grid, _ = vae_scan.region_tiles("box:92,92.4,20.5,20.8", 10.0, 5.0)
    assert len(grid) > 4 and all(t.cell is not None for t in grid)
    # a detection counts for the tile that owns its centre only, on a grid
    first, second = grid[0], grid[1]
    for tile in (first, second):
        dask_scan.publish_once(dask_scan.result_path(tmp_path, tile.id), Table(
            {"tile": [tile.id] * 2, "method": ["vae", "knn_density"],
             "ra": [first.ra, np.nan], "dec": [first.dec, np.nan]}))
    merged = vae_scan.merged_detections(tmp_path, [first, second], grid=True)
    assert list(merged["tile"]) == [first.id]
    assert len(vae_scan.merged_detections(tmp_path, [first, second], grid=False)) == 4


@pytest.mark.slow
def test_stellarvae_scan_runs_a_field_like_train_and_skips_it_on_rerun(two_workers, tmp_path):
    from stellarvae.cli import main as stellarvae_main
    args = ["scan", "--field", "IRAS06055", "--size-arcmin", "3", "--max-epochs", "1",
            "--max-train-patches", "16", "--no-baselines", "--out", str(tmp_path),
            "--no-progress", "--scheduler", two_workers[1]]
    assert stellarvae_main(args) == 0
    summary = json.loads((tmp_path / "IRAS06055" / "detection.json").read_text())
    assert summary["field"] == "IRAS06055" and not summary["skipped"]
    (folder,) = tmp_path.glob("scan-*")
    merged = Table.read(folder / "detections.ecsv")
    assert list(merged["tile"]) == ["IRAS06055"] and list(merged["method"]) == ["vae"]
    assert (folder / "sky_map.png").is_file() and len(Table.read(folder / FAILED)) == 0
    assert stellarvae_main(args) == 0  # nothing left to do: no cluster is even started
    assert [p.name for p in tmp_path.glob("scan-*")] == [folder.name]
