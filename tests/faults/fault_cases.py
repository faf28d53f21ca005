"""The fault corpus: user mistakes and damaged or clashing files, for every verb but ``scan``.

Each case builds its own tiny files in its workspace and returns the command line and the
word its one error line must contain (``fault_support.Case``). The classes (``kind``):

- ``options``: argparse mistakes (missing, unknown, mistyped options): one line, not usage;
- ``numbers``: impossible numbers (negative, zero, out of range, NaN);
- ``paths``: a folder given for a file, a file for a folder, missing files, read-only folders;
- ``fits``: FITS images that are truncated, not FITS, without WCS, blank (NaN or 0), holding
  1e38 blank markers, or too small;
- ``triplet``: g, r, i FITS triplets with a missing, truncated, flat or blank band, bands of
  other shapes, WCSs that disagree, or an r band without WCS;
- ``colour``: colour pictures that are 16-bit, grayscale, 1 x 1 or 5 x 3000 px, or no image;
- ``tfrecord``: truncated, bit-flipped, foreign or empty TFRecord shards;
- ``savedmodel``: damaged exports and checkpoints, or no model at all;
- ``config``: pipeline configs and label maps with mistakes;
- ``star-table``: star catalogues that are empty, unreadable, or off the image;
- ``clash``: outputs that would mix or replace another input's or another run's results;
- ``offline``: surveys asked for without a network;
- ``word``: right answers that are a word with exit status 0 (no detection, nothing to do,
  a file not found yet).
"""
import numpy as np
from astropy.io import fits

from fault_support import (case, colour_array, evaluated_split, flip_bit, make_read_only,
                           truncate, write_config, write_fits, write_label_map, write_png,
                           write_records, write_triplet)
from helpers import TINY_CONFIG, write_tfrecord

QUICK = ("--max-epochs", "1", "--max-train-patches", "16")
"""StellarVAE options that make a run that gets as far as training short."""


def deepcee(*args):
    return ["deepcee", *map(str, args)]


def stellarvae(*args):
    return ["stellarvae", *map(str, args)]


# --- check-config -------------------------------------------------------------------------

@case("config", console=True)
def check_config_misspelt_field(ws):
    config = ws.path("bad.config")
    config.write_text("model {\n  faster_rcnn {\n    num_clases: 1\n  }\n}\n")
    return deepcee("check-config", config), "bad.config:3: "


@case("config")
def check_config_unclosed_brace(ws):
    config = ws.path("broken.config")
    config.write_text("model { faster_rcnn { num_classes: 1 \n")
    return deepcee("check-config", config), "broken.config:"


@case("config")
def check_config_missing_file(ws):
    return deepcee("check-config", ws.root / "nowhere.config"), "no such pipeline config"


@case("config")
def check_config_folder(ws):
    ws.path("a_folder.config").mkdir()
    return deepcee("check-config", ws.root / "a_folder.config"), "is a directory"


@case("config")
def check_config_binary_file(ws):
    config = ws.path("binary.config")
    config.write_bytes(bytes(range(128, 256)) * 4)
    return deepcee("check-config", config), "not a text file"


@case("config")
def check_config_empty_file(ws):
    config = ws.path("empty.config")
    config.write_text("")
    return deepcee("check-config", config), "faster_rcnn"


@case("config")
def check_config_negative_learning_rate(ws):
    config = write_config(ws, "rate.config", [("initial_learning_rate: 0.004", "initial_learning_rate: -0.1")])
    return deepcee("check-config", config), "must be positive"


@case("config")
def check_config_zero_resizer(ws):
    config = write_config(ws, "zero.config", [("height: 256", "height: 0"),
                                              ("width: 256", "width: 0")])
    return deepcee("check-config", config), "at least 33 px"


@case("config")
def check_config_32px_resizer(ws):
    config = write_config(ws, "small.config", [("height: 256", "height: 32")])
    return deepcee("check-config", config), "at least 33 px"


@case("config")
def check_config_label_map_id_zero(ws):
    config = write_label_map(ws, "item {\n  id: 0\n  name: 'galaxy_cluster'\n}\n")
    return deepcee("check-config", config), "label_map.pbtxt:2: label map id 0"


@case("config")
def check_config_label_map_repeated_id(ws):
    config = write_label_map(ws, "item { id: 1 name: 'a' }\nitem { id: 1 name: 'b' }\n")
    return deepcee("check-config", config), "used twice"


@case("config")
def check_config_two_classes(ws):
    config = write_config(ws, "two.config", [("num_classes: 1", "num_classes: 2")])
    return deepcee("check-config", config), "num_classes"


@case("config")
def check_config_batch_size_zero(ws):
    config = write_config(ws, "batch.config", [("batch_size: 1", "batch_size: 0")])
    return deepcee("check-config", config), "batch_size must be at least 1"


@case("config")
def check_config_more_rois_than_proposals(ws):
    text = TINY_CONFIG.read_text()
    proposals = next(line.strip() for line in text.splitlines()
                     if line.strip().startswith("first_stage_max_proposals"))
    config = write_config(ws, "rois.config", [(proposals, "first_stage_max_proposals: 4")])
    return deepcee("check-config", config), "second_stage_batch_size"


@case("config")
def check_config_unknown_feature_extractor(ws):
    config = write_config(ws, "resnet.config", [("type: 'faster_rcnn_inception_v2'",
                                                  "type: 'faster_rcnn_resnet50'")])
    return deepcee("check-config", config), "not supported"


@case("word", status=0)
def check_config_label_map_not_found_yet(ws):
    config = write_config(ws, "later.config", [('"pipeline_configs/label_map.pbtxt"',
                                                '"not/yet/label_map.pbtxt"')])
    return deepcee("check-config", config), "not found yet"


@case("options")
def check_config_without_a_path(ws):
    return deepcee("check-config"), "the following arguments are required: PATH"


@case("options")
def unknown_verb(ws):
    return deepcee("chek-config", TINY_CONFIG), "unknown verb 'chek-config'"


# --- train ----------------------------------------------------------------------------------

@case("numbers", console=True)
def train_negative_steps(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--steps", "-5"), "--steps: -5: give an integer >= 1"


@case("options")
def train_steps_not_a_number(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--steps", "many"), "invalid int value: 'many'"


@case("options")
def train_misspelt_option(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--stepz", "5"), "unrecognized arguments: --stepz"


@case("options")
def train_without_config(ws):
    return deepcee("train", "--model-dir", ws.out / "train"), "required: --config"


@case("numbers")
def train_checkpoint_every_zero(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--checkpoint-every", "0"), "--checkpoint-every"


@case("numbers")
def train_negative_seed(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--seed", "-1"), "--seed: -1"


@case("numbers")
def train_negative_eval_every(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "train",
                   "--eval-every", "-2"), "--eval-every"


@case("paths")
def train_model_dir_is_a_file(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "detections.ecsv",
                   "--data", ws.records), "--model-dir"


@case("paths")
def train_model_dir_below_a_file(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir",
                   ws.out / "detections.ecsv" / "run", "--data", ws.records), "is a file"


@case("paths")
def train_model_dir_read_only(ws):
    make_read_only(ws.out / "locked", ws.request)
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "locked" / "run",
                   "--data", ws.records), "cannot write"


@case("paths")
def train_data_folder_missing(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run",
                   "--data", ws.root / "no_data"), "--data"


@case("paths")
def train_data_is_a_file(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run",
                   "--data", ws.out / "detections.ecsv"), "is a file"


@case("config")
def train_malformed_config(ws):
    config = ws.path("broken.config")
    config.write_text("model { faster_rcnn { num_classes: 1 \n")
    return deepcee("train", "--config", config, "--model-dir", ws.out / "run", "--steps", 1), \
        "broken.config"


@case("config")
def train_negative_learning_rate(ws):
    config = write_config(ws, "rate.config", [("initial_learning_rate: 0.004", "initial_learning_rate: -0.1")])
    return deepcee("train", "--config", config, "--model-dir", ws.out / "run", "--data",
                   ws.records), "must be positive"


@case("tfrecord")
def train_truncated_shard(ws):
    data = ws.records_copy()
    truncate(data / "train-00000-of-00001.tfrecord")
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   data, "--steps", 1), "train-00000-of-00001.tfrecord: damaged"


@case("tfrecord")
def train_bit_flipped_shard(ws):
    data = ws.records_copy()
    flip_bit(data / "train-00000-of-00001.tfrecord")
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   data, "--steps", 1), "damaged"


@case("tfrecord")
def train_text_file_as_shard(ws):
    data = ws.records_copy()
    shard = data / "train-00000-of-00001.tfrecord"
    shard.unlink()
    shard.write_text("these are not records\n" * 20)
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   data, "--steps", 1), "damaged"


@case("tfrecord")
def train_records_of_another_schema(ws):
    data = ws.records_copy()
    shard = data / "train-00000-of-00001.tfrecord"
    shard.unlink()
    write_tfrecord(shard, [b"\x08\x96\x01 not an example", b"\x01\x02\x03"])
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   data, "--steps", 1), "not in the Deep-CEE TFRecord schema"


@case("tfrecord")
def train_damaged_test_shard(ws):
    data = ws.records_copy()
    truncate(data / "test-00000-of-00001.tfrecord", 0.9)
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   data, "--steps", 1), "test-00000-of-00001.tfrecord: damaged"


@case("tfrecord")
def train_empty_shards(ws):
    for split in ("train", "test"):
        write_tfrecord(ws.path(f"empty/{split}-00000-of-00001.tfrecord"), [])
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run", "--data",
                   ws.root / "empty", "--steps", 1), "hold no records"


@case("clash")
def train_resume_on_records_of_another_size(ws):
    run = ws.run_copy()
    for split in ("train", "test"):
        write_records(ws.path(f"small/{split}-00000-of-00001.tfrecord"), size=96)
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", run, "--data",
                   ws.root / "small", "--steps", 2), "trained on 128 x 128 px images"


@case("clash")
def train_run_of_another_config(ws):
    run = ws.run_copy()
    config = write_config(ws, "other.config", [("batch_size: 1", "batch_size: 2")])
    return deepcee("train", "--config", config, "--model-dir", run, "--data", ws.records,
                   "--steps", 2), "another pipeline config"


@case("word", status=0)
def train_already_finished(ws):
    return deepcee("train", "--config", TINY_CONFIG, "--model-dir", ws.run_copy(), "--data",
                   ws.records, "--steps", 1), "training already finished"


# --- export ---------------------------------------------------------------------------------

@case("paths")
def export_model_dir_missing(ws):
    return deepcee("export", "--model-dir", ws.root / "no_run", "--out", ws.out / "export"), \
        "no such directory"


@case("paths")
def export_model_dir_is_a_file(ws):
    return deepcee("export", "--model-dir", ws.out / "detections.ecsv", "--out",
                   ws.out / "export"), "--model-dir"


@case("paths", console=True)
def export_out_is_a_file(ws):
    return deepcee("export", "--model-dir", ws.run, "--out", ws.out / "detections.ecsv"), \
        "--out"


@case("paths")
def export_out_below_a_file(ws):
    return deepcee("export", "--model-dir", ws.run, "--out",
                   ws.out / "test" / "summary.json" / "export"), "is a file"


@case("paths")
def export_out_read_only(ws):
    make_read_only(ws.out / "locked", ws.request)
    return deepcee("export", "--model-dir", ws.run, "--out", ws.out / "locked"), "cannot write"


@case("savedmodel")
def export_run_without_checkpoint(ws):
    ws.path("empty_run").mkdir()
    return deepcee("export", "--model-dir", ws.root / "empty_run", "--out", ws.out / "export"), \
        "no trained checkpoint"


@case("savedmodel")
def export_truncated_checkpoint(ws):
    run = ws.run_copy()
    truncate(next(run.glob("ckpt-1.data-*")))
    return deepcee("export", "--model-dir", run, "--out", ws.out / "export"), \
        "cannot be restored"


@case("options")
def export_unknown_checkpoint_choice(ws):
    return deepcee("export", "--model-dir", ws.run, "--out", ws.out / "export", "--checkpoint",
                   "first"), "invalid choice: 'first'"


# --- detect: colour pictures ----------------------------------------------------------------

def detect(ws, *inputs, out=None, model=None):
    return deepcee("detect", *inputs, "--model", model or ws.root / "model-not-needed",
                   "--out", out or ws.out)


@case("paths")
def detect_missing_picture(ws):
    return detect(ws, ws.root / "missing.png"), "missing.png: no such file"


@case("paths")
def detect_folder_as_picture(ws):
    ws.path("folder.png").mkdir()
    return detect(ws, ws.root / "folder.png"), "folder.png: is a directory"


@case("colour")
def detect_text_file_as_png(ws):
    notes = ws.path("notes.png")
    notes.write_text("not an image\n")
    return detect(ws, notes), "not a PNG or JPEG"


@case("colour")
def detect_truncated_png(ws):
    picture = truncate(write_png(ws.path("cut.png"), colour_array()), 0.4)
    return detect(ws, picture), "cut.png: not a PNG or JPEG"


@case("colour", console=True)
def detect_16_bit_png(ws):
    ramp = (np.arange(128 * 128).reshape(128, 128) * 3).astype(np.uint16)
    picture = write_png(ws.path("deep.png"), ramp)
    return detect(ws, picture), "16-bit PNG"


@case("colour")
def detect_grayscale_png(ws):
    picture = write_png(ws.path("gray.png"), colour_array()[..., 0])
    return detect(ws, picture), "grayscale"


@case("colour")
def detect_grayscale_jpeg(ws):
    picture = write_png(ws.path("gray.jpg"), colour_array()[..., 1], quality=95)
    return detect(ws, picture), "grayscale"


@case("colour")
def detect_one_pixel_png(ws):
    picture = write_png(ws.path("dot.png"), colour_array(1, 1))
    return detect(ws, picture), "1 x 1 px"


@case("colour")
def detect_5_by_3000_png(ws):
    picture = write_png(ws.path("strip.png"), colour_array(5, 3000))
    return detect(ws, picture), "3000 x 5 px"


@case("paths")
def detect_lone_fits_file(ws):
    return detect(ws, write_fits(ws.path("one.fits"))), "single FITS file"


@case("paths")
def detect_out_is_a_file(ws):
    return detect(ws, write_png(ws.path("a.png"), colour_array()),
                  out=ws.out / "test" / "summary.json"), "--out"


@case("clash")
def detect_two_inputs_of_one_name(ws):
    first = write_png(ws.path("night1/field.png"), colour_array(seed=1))
    second = write_png(ws.path("night2/field.png"), colour_array(seed=2))
    return detect(ws, first, second), "two inputs are named field"


@case("clash")
def detect_over_the_detections_of_another_input(ws):
    return detect(ws, write_png(ws.path("new.png"), colour_array())), "holds the detections of"


@case("numbers")
def detect_threshold_above_one(ws):
    return deepcee("detect", write_png(ws.path("a.png"), colour_array()), "--model", ws.root,
                   "--out", ws.out, "--threshold", "1.5"), "--threshold: 1.5"


@case("numbers")
def detect_threshold_nan(ws):
    return deepcee("detect", write_png(ws.path("a.png"), colour_array()), "--model", ws.root,
                   "--out", ws.out, "--threshold", "nan"), "a score between 0 and 1"


@case("options")
def detect_without_model(ws):
    return deepcee("detect", write_png(ws.path("a.png"), colour_array()), "--out", ws.out), \
        "required: --model"


@case("paths")
def detect_without_input(ws):
    return detect(ws), "no input"


# --- detect: FITS triplets ------------------------------------------------------------------

def fits_writer(**options):
    """A triplet fault: write the band with these ``write_fits`` options."""
    def write(path, data):
        write_fits(path, options.pop("data", data), **{"scale_arcsec": 0.396, "ra": 150.0,
                                                        "dec": 30.0, **options})
    return write


@case("triplet")
def detect_triplet_missing_band(ws):
    pattern = write_triplet(ws.root)
    return deepcee("detect", "--fits-g", pattern.format(band="g"), "--fits-r",
                   pattern.format(band="r"), "--model", ws.root, "--out", ws.out), \
        "the i band is missing"


@case("triplet")
def detect_triplet_band_file_missing(ws):
    pattern = write_triplet(ws.root)
    (ws.root / "field_i.fits").unlink()
    return detect(ws, pattern), "field_i.fits: no such file"


@case("triplet")
def detect_triplet_truncated_band(ws):
    pattern = write_triplet(ws.root)
    truncate(ws.root / "field_r.fits", 0.6)
    return detect(ws, pattern), "field_r.fits: unreadable or truncated FITS"


@case("triplet")
def detect_triplet_bands_of_other_shapes(ws):
    pattern = write_triplet(ws.root, faults={"g": fits_writer(
        data=np.random.default_rng(0).normal(0, 1, (100, 120)))})
    return detect(ws, pattern), "differ in shape"


@case("triplet", console=True)
def detect_triplet_wcs_disagree_by_a_degree(ws):
    pattern = write_triplet(ws.root, faults={"i": fits_writer(dec=31.0)})
    return detect(ws, pattern), "field_i.fits: its WCS places pixels 3600"


@case("triplet")
def detect_triplet_r_band_without_wcs(ws):
    pattern = write_triplet(ws.root, faults={"r": fits_writer(wcs=False)})
    return detect(ws, pattern), "field_r.fits has no celestial WCS"


@case("triplet")
def detect_triplet_g_band_all_nan(ws):
    pattern = write_triplet(ws.root, faults={"g": fits_writer(data=np.full((200, 200),
                                                                            np.nan))})
    return detect(ws, pattern), "field_g.fits: image is all NaN"


@case("triplet")
def detect_triplet_flat_g_band(ws):
    pattern = write_triplet(ws.root, faults={"g": fits_writer(data=np.ones((200, 200)))})
    return detect(ws, pattern), "field_g.fits: nothing to stretch"


@case("triplet")
def detect_triplet_blank_markers(ws):
    def write(path, data):
        data = data.copy()
        data[:, :8] = 1e38
        fits_writer(data=data)(path, data)
    pattern = write_triplet(ws.root, faults={"i": write})
    return detect(ws, pattern), "field_i.fits: 1600 pixels (4.00%) are infinite"


@case("triplet")
def detect_triplet_too_small(ws):
    pattern = write_triplet(ws.root, size=40)
    return detect(ws, pattern), "at least 64 px"


# --- detect and evaluate: models ------------------------------------------------------------

@case("paths")
def detect_model_missing(ws):
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=ws.root / "no_model"), "--model"


@case("paths")
def detect_model_is_a_file(ws):
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=ws.out / "detections.ecsv"), "is a file"


@case("savedmodel")
def detect_model_folder_without_model(ws):
    ws.path("nothing").mkdir()
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=ws.root / "nothing"), "neither an export"


@case("savedmodel")
def detect_corrupt_saved_model_pb(ws):
    model = ws.model_copy()
    flip_bit(model / "saved_model" / "saved_model.pb", 40)
    truncate(model / "saved_model" / "saved_model.pb", 0.5)
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=model), "not a readable deepcee SavedModel"


@case("savedmodel")
def detect_truncated_variables(ws):
    model = ws.model_copy()
    truncate(next((model / "saved_model" / "variables").glob("variables.data-*")), 0.5)
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=model), "not a readable deepcee SavedModel"


@case("savedmodel")
def detect_saved_model_without_variables(ws):
    model = ws.model_copy()
    for path in (model / "saved_model" / "variables").iterdir():
        path.unlink()
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=model), "not a readable deepcee SavedModel"


@case("savedmodel")
def detect_run_with_truncated_checkpoint(ws):
    run = ws.run_copy()
    truncate(next(run.glob("ckpt-1.data-*")))
    return detect(ws, write_png(ws.path("a.png"), colour_array()), out=ws.out / "new",
                  model=run), "cannot be restored"


@case("word", status=0)
def detect_nothing_above_the_threshold(ws):
    return deepcee("detect", write_png(ws.path("plain.png"), colour_array()), "--model",
                   ws.model, "--out", ws.out / "plain", "--threshold", "1.0"), \
        "plain: 0 detections with score >= 1.0"


# --- evaluate -------------------------------------------------------------------------------

def evaluate(ws, data, *extra, model=None):
    return deepcee("evaluate", "--model", model or ws.root / "model-not-needed", "--data",
                   data, "--out", ws.out, *extra)


@case("numbers")
def evaluate_limit_zero(ws):
    return evaluate(ws, ws.records, "--limit", "0"), "--limit: 0"


@case("numbers")
def evaluate_limit_negative(ws):
    return evaluate(ws, ws.records, "--limit", "-3"), "--limit: -3"


@case("numbers")
def evaluate_radius_beyond_250_kpc(ws):
    return evaluate(ws, ws.records, "--match-radius-kpc", "300"), "match radius 300 kpc"


@case("numbers")
def evaluate_threshold_above_one(ws):
    return evaluate(ws, ws.records, "--threshold", "2"), "not a score"


@case("numbers")
def evaluate_alpha_zero(ws):
    return evaluate(ws, ws.records, "--alpha", "0"), "--alpha 0"


@case("word")
def evaluate_rescore_without_evaluation(ws):
    return deepcee("evaluate", "--rescore", "--out", ws.root / "no_eval"), \
        "--rescore: no <split>/detections.ecsv"


@case("clash")
def evaluate_rescore_of_a_damaged_evaluation(ws):
    (ws.out / "test" / "detections.ecsv").write_text("# %ECSV 1.0\ncut short")
    return deepcee("evaluate", "--rescore", "--out", ws.out, "--split", "test"), \
        "incomplete or damaged"


@case("word")
def evaluate_rescore_of_a_split_never_evaluated(ws):
    return deepcee("evaluate", "--rescore", "--out", ws.out, "--split", "redmapper"), \
        "redmapper/detections.ecsv missing"


@case("tfrecord", console=True)
def evaluate_truncated_shard(ws):
    data = ws.records_copy()
    truncate(data / "test-00000-of-00001.tfrecord", 0.7)
    return evaluate(ws, data), "test-00000-of-00001.tfrecord: damaged"


@case("tfrecord")
def evaluate_bit_flipped_shard(ws):
    data = ws.records_copy()
    flip_bit(data / "test-00000-of-00001.tfrecord", 100)
    return evaluate(ws, data), "test-00000-of-00001.tfrecord: damaged"


@case("tfrecord")
def evaluate_empty_split(ws):
    write_tfrecord(ws.path("empty/test-00000-of-00001.tfrecord"), [])
    return evaluate(ws, ws.root / "empty"), "hold no records"


@case("tfrecord")
def evaluate_without_records(ws):
    ws.path("nothing").mkdir()
    return evaluate(ws, ws.root / "nothing"), "no test-* or redmapper-* TFRecords"


@case("tfrecord")
def evaluate_unknown_split(ws):
    return evaluate(ws, ws.records, "--split", "validation"), "no TFRecords for split"


@case("paths")
def evaluate_out_is_a_file(ws):
    return deepcee("evaluate", "--model", ws.root, "--data", ws.records, "--out",
                   ws.out / "detections.ecsv"), "--out"


@case("paths")
def evaluate_model_missing(ws):
    return evaluate(ws, ws.records, model=ws.root / "no_model"), "--model"


@case("savedmodel")
def evaluate_corrupt_saved_model(ws):
    model = ws.model_copy()
    truncate(model / "saved_model" / "saved_model.pb", 0.3)
    return evaluate(ws, ws.records, model=model), "not a readable deepcee SavedModel"


@case("options")
def evaluate_without_model(ws):
    return deepcee("evaluate", "--data", ws.records, "--out", ws.out), "--model is required"


# --- candidates -----------------------------------------------------------------------------

def candidates(ws, eval_dir, *extra):
    return deepcee("candidates", "--eval", eval_dir, "--data", ws.root / "data", "--source",
                   "sim", "--out", ws.out, *extra)


@case("paths")
def candidates_eval_missing(ws):
    return candidates(ws, ws.root / "no_eval"), "--eval"


@case("paths")
def candidates_eval_without_splits(ws):
    ws.path("eval_empty").mkdir()
    return candidates(ws, ws.root / "eval_empty"), "no <split>/detections.ecsv"


@case("clash")
def candidates_damaged_detections(ws):
    eval_dir, _ = evaluated_split(ws)
    (eval_dir / "test" / "detections.ecsv").write_text("# %ECSV 1.0\nnot a table\n")
    return candidates(ws, eval_dir), "incomplete or damaged"


@case("clash")
def candidates_summary_without_records(ws):
    eval_dir, _ = evaluated_split(ws)
    (eval_dir / "test" / "summary.json").write_text('{"split": "test"}\n')
    return candidates(ws, eval_dir), "incomplete or damaged"


@case("tfrecord")
def candidates_records_truncated(ws):
    eval_dir, records = evaluated_split(ws)
    truncate(records, 0.5)
    return candidates(ws, eval_dir), "test-00000-of-00001.tfrecord: damaged"


@case("numbers")
def candidates_negative_threshold(ws):
    return candidates(ws, ws.root, "--threshold", "-0.1"), "--threshold: -0.1"


@case("numbers")
def candidates_zero_radius(ws):
    return candidates(ws, ws.root, "--radius-arcmin", "0"), "--radius-arcmin: 0"


@case("numbers")
def candidates_reversed_z_range(ws):
    eval_dir, _ = evaluated_split(ws)
    return candidates(ws, eval_dir, "--z-range", "0.4", "0.05"), "--z-range 0.4 0.05"


@case("clash")
def candidates_data_of_another_source(ws):
    eval_dir, _ = evaluated_split(ws)
    (ws.root / "data" / "manifest.json").write_text('{"source": "sdss", "seed": 0}\n')
    return candidates(ws, eval_dir), "built with --source sdss"


@case("clash")
def candidates_damaged_manifest(ws):
    eval_dir, _ = evaluated_split(ws)
    (ws.root / "data" / "manifest.json").write_text('{"source": "sim", ')
    return candidates(ws, eval_dir), "not a data set manifest"


@case("options")
def candidates_without_source(ws):
    return deepcee("candidates", "--eval", ws.root, "--out", ws.out), "required: --source"


@case("paths")
def candidates_out_is_a_file(ws):
    eval_dir, _ = evaluated_split(ws)
    return deepcee("candidates", "--eval", eval_dir, "--data", ws.root / "data", "--source",
                   "sim", "--out", ws.out / "detections.ecsv"), "--out"


# --- tfrecords ------------------------------------------------------------------------------

def tfrecords(ws, *extra, out=None, cache=None):
    return deepcee("tfrecords", "--out", out or ws.out / "data", "--cache",
                   cache or ws.root / "cache", *extra)


@case("numbers")
def tfrecords_zero_clusters(ws):
    return tfrecords(ws, "--n", "0"), "--n 0"


@case("numbers")
def tfrecords_negative_clusters(ws):
    return tfrecords(ws, "--n", "-3"), "--n -3"


@case("numbers")
def tfrecords_negative_seed(ws):
    return tfrecords(ws, "--seed", "-1"), "--seed: -1"


@case("numbers")
def tfrecords_tiny_cutouts(ws):
    return tfrecords(ws, "--cutout-px", "8"), "--cutout-px 8"


@case("options")
def tfrecords_unknown_look(ws):
    return tfrecords(ws, "--look", "sunny"), "--look sunny: no such look"


@case("options")
def tfrecords_look_with_the_real_survey(ws):
    return tfrecords(ws, "--source", "sdss", "--look", "varied"), "use it with --source sim"


@case("config")
def tfrecords_look_file_with_a_reversed_range(ws):
    look = ws.path("mine.json")
    look.write_text('{"seeing_fwhm_arcsec": [2.0, 1.0]}\n')
    return tfrecords(ws, "--look", look), "mine.json: seeing_fwhm_arcsec [2, 1]"


@case("numbers")
def tfrecords_test_fraction_one(ws):
    return tfrecords(ws, "--test-fraction", "1"), "--test-fraction 1"


@case("numbers")
def tfrecords_offset_beyond_the_cutout(ws):
    return tfrecords(ws, "--max-offset", "500", "--cutout-px", "1000"), "--max-offset 500"


@case("options")
def tfrecords_unknown_source(ws):
    return tfrecords(ws, "--source", "dss"), "invalid choice: 'dss'"


@case("paths", console=True)
def tfrecords_out_is_a_file(ws):
    return tfrecords(ws, "--n", "1", out=ws.out / "detections.ecsv"), "--out"


@case("paths")
def tfrecords_cache_is_a_file(ws):
    return tfrecords(ws, "--n", "1", cache=ws.out / "test" / "summary.json"), "--cache"


@case("paths")
def tfrecords_cache_read_only(ws):
    make_read_only(ws.root / "locked_cache", ws.request)
    return tfrecords(ws, "--n", "1", cache=ws.root / "locked_cache"), \
        "--cache"


@case("paths")
def tfrecords_out_read_only(ws):
    make_read_only(ws.out / "locked", ws.request)
    return tfrecords(ws, "--n", "1", out=ws.out / "locked" / "data"), "--out"


@case("offline")
def tfrecords_sdss_offline(ws):
    ws.request.getfixturevalue("no_network")
    return tfrecords(ws, "--source", "sdss", "--n", "1"), "use --source sim"


# --- injection-recovery ---------------------------------------------------------------------

def injection(ws, *extra):
    return deepcee("injection-recovery", "--model", ws.root / "model-not-needed", "--data",
                   ws.root / "data", "--out", ws.out / "injection", *extra)


@case("numbers")
def injection_zero_per_bin(ws):
    return injection(ws, "--per-bin", "0"), "--per-bin: 0"


@case("numbers")
def injection_redshift_outside_the_simulator(ws):
    return injection(ws, "--z-grid", "0.9"), "--z-grid"


@case("numbers")
def injection_decreasing_richness_edges(ws):
    return injection(ws, "--richness-edges", "50", "20"), "--richness-edges"


@case("numbers")
def injection_threshold_above_one(ws):
    return injection(ws, "--threshold", "3"), "not a score"


@case("clash")
def injection_damaged_manifest(ws):
    ws.path("data/manifest.json").write_text("[1, 2")
    return injection(ws), "not a data set manifest"


@case("paths")
def injection_out_is_a_file(ws):
    return deepcee("injection-recovery", "--model", ws.root, "--data", ws.root / "data",
                   "--out", ws.out / "detections.ecsv"), "--out"


@case("paths")
def injection_model_missing(ws):
    return injection(ws), "--model"


# --- sim-gallery ----------------------------------------------------------------------------

@case("numbers")
def sim_gallery_zero_clusters(ws):
    return deepcee("sim-gallery", "--n", "0", "--out", ws.out / "gallery"), "--n must be >= 1"


@case("paths")
def sim_gallery_out_is_a_file(ws):
    return deepcee("sim-gallery", "--n", "1", "--size-px", "64", "--out",
                   ws.out / "detections.ecsv"), "detections.ecsv"


@case("options")
def sim_gallery_unknown_difficulty(ws):
    return deepcee("sim-gallery", "--difficulty", "brutal", "--out", ws.out), "invalid choice"


# --- stellarvae detect ----------------------------------------------------------------------

def kband(ws, name="field.fits", **options):
    return write_fits(ws.path(name), **options)


def star_table(ws, ra, dec, name="stars.ecsv"):
    from astropy.table import Table
    path = ws.path(name)
    Table({"ra": np.asarray(ra, float), "dec": np.asarray(dec, float),
           "kmag": np.full(len(ra), 12.0)}).write(path, format="ascii.ecsv")
    return path


@case("paths")
def stellarvae_detect_missing_image(ws):
    return stellarvae("detect", ws.root / "missing.fits", "--out", ws.out), "no such file"


@case("paths")
def stellarvae_detect_folder_as_image(ws):
    ws.path("folder.fits").mkdir()
    return stellarvae("detect", ws.root / "folder.fits", "--out", ws.out), "is a directory"


@case("fits")
def stellarvae_detect_truncated_fits(ws):
    image = truncate(kband(ws, "cut.fits"), 0.3)
    return stellarvae("detect", image, "--out", ws.out), "cut.fits: unreadable or truncated"


@case("fits")
def stellarvae_detect_bit_flipped_header(ws):
    image = kband(ws, "flipped.fits")
    data = bytearray(image.read_bytes())
    data[0:6] = b"XIMPLE"
    image.unlink()
    image.write_bytes(bytes(data))
    return stellarvae("detect", image, "--out", ws.out), "flipped.fits"


@case("fits")
def stellarvae_detect_text_as_fits(ws):
    image = ws.path("notes.fits")
    image.write_text("SIMPLE but not really\n")
    return stellarvae("detect", image, "--out", ws.out), "notes.fits"


@case("fits")
def stellarvae_detect_without_wcs(ws):
    return stellarvae("detect", kband(ws, "nowcs.fits", wcs=False), "--out", ws.out), \
        "no celestial WCS"


@case("fits")
def stellarvae_detect_all_zero(ws):
    return stellarvae("detect", kband(ws, "zeros.fits", data=np.zeros((128, 128))), "--out",
                      ws.out), "zeros.fits: image is all NaN or zero"


@case("fits")
def stellarvae_detect_all_nan(ws):
    return stellarvae("detect", kband(ws, "nan.fits", data=np.full((128, 128), np.nan)),
                      "--out", ws.out), "nan.fits: image is all NaN or zero"


@case("fits", console=True)
def stellarvae_detect_blank_markers(ws):
    data = np.random.default_rng(0).normal(100, 5, (128, 128))
    data[:4] = 1e38
    return stellarvae("detect", kband(ws, "marked.fits", data=data), "--out", ws.out), \
        "marked.fits: 512 pixels (3.12%) are infinite or of magnitude >= 1e+30"


@case("fits")
def stellarvae_detect_infinite_pixels(ws):
    data = np.random.default_rng(0).normal(100, 5, (128, 128))
    data[10, :] = -np.inf
    return stellarvae("detect", kband(ws, "inf.fits", data=data), "--out", ws.out), \
        "inf.fits: 128 pixels"


@case("fits")
def stellarvae_detect_tiny_image(ws):
    return stellarvae("detect", kband(ws, "tiny.fits", size=16), "--out", ws.out), \
        "at least 64x64 px"


@case("fits")
def stellarvae_detect_5_by_3000_image(ws):
    data = np.random.default_rng(0).normal(100, 5, (5, 3000))
    return stellarvae("detect", kband(ws, "strip.fits", data=data), "--out", ws.out), \
        "at least 64x64 px"


@case("fits")
def stellarvae_detect_cube(ws):
    path = ws.path("cube.fits")
    fits.PrimaryHDU(np.ones((3, 32, 32), np.float32)).writeto(path)
    return stellarvae("detect", path, "--out", ws.out), "no 2-D image"


@case("star-table")
def stellarvae_detect_empty_catalogue(ws):
    return stellarvae("detect", kband(ws), "--catalog", star_table(ws, [], []), "--out",
                      ws.out), "stars.ecsv"


@case("star-table")
def stellarvae_detect_missing_catalogue(ws):
    return stellarvae("detect", kband(ws), "--catalog", ws.root / "none.ecsv", "--out",
                      ws.out), "none.ecsv: no such file"


@case("star-table")
def stellarvae_detect_catalogue_without_coordinates(ws):
    from astropy.table import Table
    path = ws.path("mags.ecsv")
    Table({"kmag": [12.0, 13.0]}).write(path, format="ascii.ecsv")
    return stellarvae("detect", kband(ws), "--catalog", path, "--out", ws.out), \
        "no RA/Dec columns"


@case("star-table")
def stellarvae_detect_unreadable_catalogue(ws):
    path = ws.path("binary.fits")
    path.write_bytes(bytes(range(256)) * 8)
    return stellarvae("detect", kband(ws), "--catalog", path, "--out", ws.out), \
        "not a readable table"


@case("star-table")
def stellarvae_detect_catalogue_far_off_the_image(ws):
    rng = np.random.default_rng(3)
    catalogue = star_table(ws, 250 + rng.uniform(0, 0.02, 40), -60 + rng.uniform(0, 0.02, 40))
    return stellarvae("detect", kband(ws, size=64), "--catalog", catalogue, *QUICK, "--out",
                      ws.out), "stars.ecsv"


@case("star-table")
def stellarvae_detect_catalogue_with_no_star_on_the_image(ws):
    rng = np.random.default_rng(4)
    catalogue = star_table(ws, 92.1 + rng.uniform(0.05, 0.06, 40),
                           20.6 + rng.uniform(0.05, 0.06, 40))
    return stellarvae("detect", kband(ws, size=64), "--catalog", catalogue, *QUICK, "--out",
                      ws.out), "stars.ecsv"


@case("paths")
def stellarvae_detect_out_is_a_file(ws):
    return stellarvae("detect", kband(ws), "--out", ws.out / "detections.ecsv"), \
        "detections.ecsv"


@case("clash")
def stellarvae_detect_another_image_of_the_same_name(ws):
    other = kband(ws, "night2/IRAS06055.fits", size=64, seed=5)
    return stellarvae("detect", other, *QUICK, "--out", ws.out), "IRAS06055"


@case("numbers")
def stellarvae_detect_negative_seed(ws):
    return stellarvae("detect", kband(ws), "--seed", "-1", "--out", ws.out), "--seed"


@case("numbers")
def stellarvae_detect_zero_epochs(ws):
    return stellarvae("detect", kband(ws), "--max-epochs", "0", "--out", ws.out), \
        "--max-epochs must be >= 1"


@case("numbers")
def stellarvae_detect_negative_background(ws):
    return stellarvae("detect", kband(ws), "--background-px", "-9", "--out", ws.out), \
        "--background-px -9"


@case("options")
def stellarvae_detect_unknown_preset(ws):
    return stellarvae("detect", kband(ws), "--preset", "fast", "--out", ws.out), \
        "invalid choice: 'fast'"


@case("options")
def stellarvae_detect_without_image(ws):
    return stellarvae("detect", "--out", ws.out), "required: image"


@case("options")
def stellarvae_detect_unknown_field(ws):
    return stellarvae("detect", kband(ws), "--field", "IRAS99999", "--out", ws.out), \
        "IRAS99999"


# --- stellarvae train, table, fields, sim-gallery --------------------------------------------

@case("paths")
def stellarvae_train_field_is_a_path(ws):
    return stellarvae("train", "--field", "../../etc", "--out", ws.out), "../../etc"


@case("options")
def stellarvae_train_unknown_field(ws):
    return stellarvae("train", "--field", "IRAS99999", "--out", ws.out), "IRAS06055"


@case("numbers")
def stellarvae_train_negative_size(ws):
    return stellarvae("train", "--field", "IRAS06055", "--size-arcmin", "-5", "--cache",
                      ws.root / "cache", "--out", ws.out), "-5"


@case("options")
def stellarvae_train_unknown_source(ws):
    return stellarvae("train", "--field", "IRAS06055", "--source", "sdss", "--out", ws.out), \
        "invalid choice: 'sdss'"


@case("options")
def stellarvae_train_without_field(ws):
    return stellarvae("train", "--out", ws.out), "required: --field"


@case("offline")
def stellarvae_train_2mass_offline(ws):
    ws.request.getfixturevalue("no_network")
    return stellarvae("train", "--field", "IRAS06055", "--source", "2mass", "--cache",
                      ws.root / "cache", "--out", ws.out), "use --source sim"


@case("options")
def stellarvae_table_unknown_fields(ws):
    return stellarvae("table", "--fields", "IRAS99999", "--out", ws.out), "IRAS99999"


@case("options")
def stellarvae_fields_takes_no_argument(ws):
    return stellarvae("fields", "IRAS06055"), "unrecognized arguments: IRAS06055"


@case("numbers")
def stellarvae_sim_gallery_negative_size(ws):
    return stellarvae("sim-gallery", "--size-arcmin", "-1", "--out", ws.out / "g"), \
        "--size-arcmin must be positive"


@case("options")
def stellarvae_unknown_verb(ws):
    return stellarvae("detekt", "x.fits"), "unknown verb 'detekt'"
