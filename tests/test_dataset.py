"""``deepcee tfrecords`` (data_prep.deepcee_data.builder and its helpers), Deep-CEE §2.2.

Most tests use a small fake cluster source (noise plus a Gaussian blob on every BCG, 300 px
cutouts resampled to 150 px) so they run in seconds; one slow test runs the real simulator.
"""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.wcs import WCS
from PIL import Image

from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.cosmology import arcsec_for_kpc
from data_prep.base.files import sha256_file
from data_prep.deepcee_data.offsets import bcg_offset, cutout_centre
from data_prep.deepcee_data.png_encoding import encode_rgb_png
from data_prep.deepcee_data.regrid import resize_image, resized_wcs
from data_prep.deepcee_data.sample_split import split_by_cluster
from deepcee.cli import main as deepcee_main
from fake_cluster_source import FakeClusterSource, run_tfrecords
from helpers import tan_wcs

HERE = Path(__file__).resolve().parent
MAX_OFFSET = 40.0  # arcsec: a 300 px cutout is 119 arcsec wide
SMALL = ["--cutout-px", "300", "--image-px", "150", "--max-offset", str(MAX_OFFSET)]

# name, ra, dec, z, bcg_rmag, richness, n200: pairs close enough to share an image
WEN = [("FAKE A", 150.000, 20.000, 0.12, 15.5, 40.0, 25),
       ("FAKE B", 150.008, 20.004, 0.15, 16.0, 30.0, 21),
       ("FAKE C", 160.000, 30.000, 0.18, 16.5, 50.0, 30),
       ("FAKE D", 160.500, 29.500, 0.11, 15.0, 60.0, 35),
       ("FAKE E", 170.000, 40.000, 0.19, 17.0, 25.0, 20),
       ("FAKE F", 180.000, 50.000, 0.14, 16.2, 35.0, 24)]
REDMAPPER = [("RM 1", 200.000, 10.000, 0.13, np.nan, 28.0, np.nan),
             ("RM 2", 200.007, 10.003, 0.16, np.nan, 33.0, np.nan)]


def fake_source(faults=None, delay=0.0):
    """The fake source over the clusters above."""
    return FakeClusterSource(WEN, REDMAPPER, faults, delay)


def build(tmp_path, out="out", source=None, extra=(), seed=0, n=None):
    """Run ``deepcee tfrecords`` in-process with a fake source; return (status, out dir)."""
    argv = ["tfrecords", "--source", "sim", "--seed", str(seed), "--out",
            str(tmp_path / out), "--cache", str(tmp_path / "cache"), *SMALL, *extra]
    status = run_tfrecords(argv + (["--n", str(n)] if n else []), source or fake_source())
    return status, tmp_path / out


def shard_files(out):
    return sorted(p for p in out.glob("*.tfrecord"))


def output_bytes(out):
    names = [p.name for p in shard_files(out)] + ["manifest.json", "clusters.ecsv",
                                                  "preview.png", "label_map.pbtxt"]
    return {name: (out / name).read_bytes() for name in names}


def records(out, split):
    from data_prep.deepcee_data.tfrecord_schema import read_examples
    return list(read_examples(sorted(out.glob(f"{split}-*.tfrecord"))))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dataset")
    status, out = build(tmp)
    assert status == 0
    return out


def test_official_decoder_reads_every_record(dataset):
    import tensorflow as tf
    from official.vision.dataloaders.tf_example_decoder import TfExampleDecoder
    decoder = TfExampleDecoder()
    count = 0
    for path in shard_files(dataset):
        for record in tf.data.TFRecordDataset(str(path)):
            decoded = decoder.decode(record)
            assert decoded["image"].shape == (150, 150, 3)
            assert decoded["image"].dtype == tf.uint8
            boxes = decoded["groundtruth_boxes"].numpy()
            assert boxes.shape[0] >= 1 and boxes.shape[1] == 4
            assert np.all(decoded["groundtruth_classes"].numpy() == 1)
            int(decoded["source_id"].numpy())  # numeric, as official.vision parsers need
            count += 1
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert count == manifest["totals"]["records"] == 6 * 4 + 2


def test_boxes_contain_bcg_and_wcs_maps_bcg_to_its_pixel(dataset):
    multi = 0
    for split in ("train", "test", "redmapper"):
        for example in records(dataset, split):
            wcs = WCS(example["wcs_header"].decode())
            assert wcs.pixel_shape == (150, 150)
            assert pixel_scale_arcsec(wcs) == pytest.approx(0.792, rel=1e-6)
            x, y = wcs.world_to_pixel(SkyCoord(example["ra"], example["dec"], unit="deg"))
            for k, (ymin, xmin, ymax, xmax) in enumerate(example["boxes"]):
                cx, cy = example["center_x"][k], example["center_y"][k]
                assert xmin <= cx <= xmax and ymin <= cy <= ymax
                # the stored WCS takes the BCG's sky position to its labelled pixel
                assert abs((x[k] + 0.5) - cx * 150) < 1.0 and abs((y[k] + 0.5) - cy * 150) < 1.0
                # the box is 250 kpc in half-side at the cluster's redshift, unless clipped
                half = arcsec_for_kpc(250.0, example["redshift"][k]) / 0.792 / 150
                assert xmax - xmin <= 2 * half + 1e-5 and ymax - ymin <= 2 * half + 1e-5
                if 0 < xmin and xmax < 1:
                    assert xmax - xmin == pytest.approx(2 * half, rel=1e-4)
            multi += len(example["boxes"]) > 1
    assert multi > 0  # neighbours in the same split are labelled too (RM 1 and RM 2)


def test_offsets_within_limit(dataset):
    clusters = Table.read(dataset / "clusters.ecsv")
    offsets = np.concatenate([clusters["offset_east"], clusters["offset_north"]]).ravel()
    offsets = offsets[np.isfinite(offsets)]
    assert len(offsets) == 2 * (6 * 4 + 2)
    assert np.all(np.abs(offsets) <= MAX_OFFSET)
    # the BCG of each image lies as far from the image centre as its offset says
    for example in records(dataset, "train"):
        stem = example["filename"].decode().split("/", 1)[1].removesuffix(".png")
        name, copy = stem.rsplit("_", 1)[0], int(stem.rsplit("_", 1)[1])
        row = clusters[clusters["name"] == name][0]
        assert row["split"] == "train"
        target = list(example["names"]).index(name.encode())
        dx_px = example["center_x"][target] * 150 - 75
        dy_px = example["center_y"][target] * 150 - 75
        # east is -x for this WCS (CD1_1 < 0), north is +y
        assert -dx_px * 0.792 == pytest.approx(row["offset_east"][copy], abs=0.8)
        assert dy_px * 0.792 == pytest.approx(row["offset_north"][copy], abs=0.8)


def test_split_is_by_cluster(dataset):
    clusters = Table.read(dataset / "clusters.ecsv")
    train = set(clusters["name"][clusters["split"] == "train"])
    test = set(clusters["name"][clusters["split"] == "test"])
    assert len(train) == 5 and len(test) == 1 and not train & test
    for split, names in (("train", train), ("test", test)):
        examples = records(dataset, split)
        assert len(examples) == 4 * len(names)
        assert {e["names"][list(e["classes"]).index(1)].decode() for e in examples} <= names
        for example in examples:  # only clusters of the same split are labelled
            assert {n.decode() for n in example["names"]} <= names
    # the paper's counts: 497 clusters -> 446 / 51 -> 1784 / 204 images
    table = Table({"name": [f"c{i}" for i in range(497)]})
    train_t, test_t = split_by_cluster(table, seed=3)
    assert (len(train_t), len(test_t)) == (446, 51)
    assert (4 * len(train_t), 4 * len(test_t)) == (1784, 204)
    assert not set(train_t["name"]) & set(test_t["name"])


def test_same_seed_same_bytes_other_seed_differs(tmp_path, dataset):
    _, again = build(tmp_path, out="again")
    assert output_bytes(again) == output_bytes(dataset)
    _, other = build(tmp_path, out="other", seed=1)
    first = {p.name: p.read_bytes() for p in shard_files(dataset)}
    assert all(first[p.name] != p.read_bytes() for p in shard_files(other))


def test_manifest_lists_shards_with_counts_and_checksums(dataset):
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert [s["file"] for s in manifest["shards"]] == [
        "train-00000-of-00001.tfrecord", "test-00000-of-00001.tfrecord",
        "redmapper-00000-of-00001.tfrecord"]
    for shard in manifest["shards"]:
        assert sha256_file(dataset / shard["file"]) == shard["sha256"]
        assert len(records(dataset, shard["split"])) == shard["records"]
    assert manifest["counts"]["redmapper"] == {"clusters": 2, "copies": 1, "images_planned": 2,
                                               "records": 2, "rejected": 0, "shards": 1}
    assert not (dataset / "rejects.ecsv").exists()
    assert (dataset / "label_map.pbtxt").read_text().count("galaxy_cluster") == 1
    assert (dataset / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_skips_finished_work(tmp_path):
    source = fake_source()
    build(tmp_path, source=source, extra=["--shard-size", "5"])
    assert source.calls == 26
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in shard_files(tmp_path / "out")}
    manifest = (tmp_path / "out" / "manifest.json").read_bytes()
    again = fake_source()
    status, out = build(tmp_path, source=again, extra=["--shard-size", "5"])
    assert status == 0 and again.calls == 0
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in shard_files(out)} == before
    assert (out / "manifest.json").read_bytes() == manifest
    # a lost output is remade from the cached cutouts, without asking the source
    lost = shard_files(out)[2]
    lost.unlink()
    status, out = build(tmp_path, source=again, extra=["--shard-size", "5"])
    assert status == 0 and again.calls == 0 and lost.read_bytes() == before[lost.name][1]
    # other settings make other shards, still from the cached cutouts
    status, out = build(tmp_path, source=again, extra=["--shard-size", "5", "--box-kpc", "100"])
    assert status == 0 and again.calls == 0
    assert all(p.read_bytes() != before[p.name][1] for p in shard_files(out))


@pytest.mark.slow
def test_killed_run_resumes_to_complete_shards(tmp_path):
    out = tmp_path / "out"
    argv = ["tfrecords", "--source", "sim", "--out", str(out), "--cache",
            str(tmp_path / "cache"), "--shard-size", "2", *SMALL]
    rows = json.dumps([WEN, REDMAPPER])  # NaN survives JSON as NaN
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); "
            "from fake_cluster_source import FakeClusterSource, run_tfrecords; "
            f"wen, redmapper = json.loads({rows!r}); "
            f"sys.exit(run_tfrecords({argv!r}, FakeClusterSource(wen, redmapper, delay=0.15)))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=HERE.parent,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        progress = out / ".progress.json"
        if progress.exists() and len(json.loads(progress.read_text())) >= 2:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "manifest.json").exists()
    finished = len(shard_files(out))
    assert 2 <= finished < 13
    (out / f".tmp-{process.pid}-train-00009-of-00010.tfrecord").write_bytes(b"partial")
    status, out = build(tmp_path, extra=["--shard-size", "2"])
    assert status == 0
    assert not list(out.glob(".tmp-*"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["shards"]) == len(shard_files(out)) == 10 + 2 + 1
    assert manifest["totals"]["records"] == 26
    for shard in manifest["shards"]:
        assert sha256_file(out / shard["file"]) == shard["sha256"]
    assert sum(len(records(out, split)) for split in ("train", "test", "redmapper")) == 26


def test_bad_cutouts_are_rejected_and_the_run_goes_on(tmp_path):
    faults = {"FAKE C": "nan", "FAKE E": "zeros", "FAKE F": "no-g", "FAKE D": "nan-edge"}
    status, out = build(tmp_path, source=fake_source(faults))
    assert status == 0
    # a truncated cached cutout: remake the outputs from the cache
    cached = tmp_path / "cache" / "sim" / "cutouts" / "FAKE_A_0_r.fits"
    cached.write_bytes(cached.read_bytes()[:5000])
    for path in out.iterdir():
        path.unlink()
    status, out = build(tmp_path, source=fake_source(faults))
    assert status == 0
    rejects = Table.read(out / "rejects.ecsv")
    reasons = {(row["name"], int(row["copy"])): row["reason"] for row in rejects}
    assert len(rejects) == 3 * 4 + 1
    assert "NaN or zero" in reasons[("FAKE C", 0)] and "NaN or zero" in reasons[("FAKE E", 2)]
    assert "no g band" in reasons[("FAKE F", 3)]
    assert "truncated" in reasons[("FAKE A", 0)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"] == {"records": 26 - 13, "rejected": 13, "shards": 3}
    assert sum(len(records(out, s)) for s in ("train", "test", "redmapper")) == 13
    # a cutout partly off the footprint is kept, its missing rows black
    edge = [e for s in ("train", "test") for e in records(out, s)
            if e["filename"].decode().endswith(("FAKE D_0.png", "FAKE D_1.png"))]
    assert len(edge) == 2
    for example in edge:
        assert np.all(example["image"][:29] == 0) and example["image"][31:].any()


def test_n_chooses_clusters_and_options_are_checked(tmp_path, capsys):
    status, out = build(tmp_path, n=2)
    assert status == 0
    clusters = Table.read(out / "clusters.ecsv")
    assert list(clusters["split"]).count("train") == list(clusters["split"]).count("test") == 1
    assert list(clusters["split"]).count("redmapper") == 2
    status, _ = build(tmp_path, out="bad", extra=["--max-offset", "270"])
    assert status == 2
    assert "--max-offset" in capsys.readouterr().err


def test_sdss_without_network_exits_2_with_one_line(tmp_path, repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "deepcee", "tfrecords", "--source", "sdss", "--out",
         str(tmp_path / "out"), "--cache", str(tmp_path / "cache")],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY":
             "http://127.0.0.1:9", "NO_PROXY": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepcee tfrecords: error:")


def test_resized_wcs_keeps_sky_positions():
    wcs = tan_wcs(150.0, 20.0, 0.396, size=300, cd=True)
    small = resized_wcs(wcs, 2.0)
    sky = wcs.pixel_to_world([0.0, 100.3, 299.0], [0.0, 57.8, 299.0])
    x, y = small.world_to_pixel(sky)
    # 0-based pixel p of the old grid is at (p + 0.5) / 2 - 0.5 on the new one
    np.testing.assert_allclose(x, (np.array([0.0, 100.3, 299.0]) + 0.5) / 2 - 0.5, atol=1e-6)
    np.testing.assert_allclose(y, (np.array([0.0, 57.8, 299.0]) + 0.5) / 2 - 0.5, atol=1e-6)


def test_resize_is_an_area_average():
    image = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_allclose(resize_image(image, (3, 2)),
                               [[3.5, 5.5, 7.5], [15.5, 17.5, 19.5]])
    np.testing.assert_allclose(resize_image(image[:, :4], 2), [[3.5, 5.5], [15.5, 17.5]])


def test_offsets_are_seeded_and_place_the_bcg():
    first = [bcg_offset("WHL J1", copy, seed=0) for copy in range(4)]
    assert first == [bcg_offset("WHL J1", copy, seed=0) for copy in range(4)]
    assert first != [bcg_offset("WHL J1", copy, seed=1) for copy in range(4)]
    assert len(set(first)) == 4 and all(abs(v) <= 270 for pair in first for v in pair)
    for ra_bcg, dec_bcg, dx, dy in ((150.0, 60.0, 200.0, -150.0), (359.99, 0.5, 270.0, 270.0),
                                    (10.0, 80.0, -270.0, 3.0)):
        ra, dec = cutout_centre(ra_bcg, dec_bcg, dx, dy)
        # north-up TAN grid of 1 arcsec pixels, pixel 0 on the cutout centre
        wcs = tan_wcs(ra, dec, 1.0, crpix=(1.0, 1.0), cd=True)
        x, y = wcs.world_to_pixel(SkyCoord(ra_bcg, dec_bcg, unit="deg"))
        assert -x == pytest.approx(dx, abs=1e-6) and y == pytest.approx(dy, abs=1e-6)


@pytest.mark.slow
def test_simulated_sky_makes_decodable_records(tmp_path):
    """The real simulator source through the whole verb (small cutouts, 2 clusters)."""
    status = deepcee_main(["tfrecords", "--source", "sim", "--n", "2", "--out",
                           str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), *SMALL])
    assert status == 0
    examples = records(tmp_path / "out", "train") + records(tmp_path / "out", "test")
    assert len(examples) == 8
    for example in examples:
        for k, (ymin, xmin, ymax, xmax) in enumerate(example["boxes"]):
            assert xmin <= example["center_x"][k] <= xmax
            assert ymin <= example["center_y"][k] <= ymax


def test_png_encoding_round_trips():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    png = encode_rgb_png(rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), rgb)
    assert encode_rgb_png(rgb) == png
