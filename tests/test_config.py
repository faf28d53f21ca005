"""Pipeline config schema, loader, label maps and the ``deepcee check-config`` verb."""
import pathlib
import subprocess
import sys

import pytest

from data_prep.base.errors import InputError
from deepcee.config import PROJECT_ROOT, load_label_map, load_pipeline_config, resolve_path
from deepcee.model.builder import build_model
from protos import generate

CONFIGS = sorted((PROJECT_ROOT / "pipeline_configs").glob("*.config"))
FULL_CONFIG = PROJECT_ROOT / "pipeline_configs" / "deepcee_faster_rcnn_inception_v2.config"
OD_API_SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "faster_rcnn_inception_v2_coco.config"
LABEL_MAP = PROJECT_ROOT / "pipeline_configs" / "label_map.pbtxt"


def check_config(path):
    """Run the real command line; returns (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "deepcee", "check-config", str(path)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_od_api_sample_parses_unchanged():
    config = load_pipeline_config(OD_API_SAMPLE, buildable=False)
    frcnn = config.model.faster_rcnn
    assert frcnn.num_classes == 90
    assert frcnn.image_resizer.keep_aspect_ratio_resizer.max_dimension == 1024
    assert list(frcnn.first_stage_anchor_generator.grid_anchor_generator.scales) == [
        0.25, 0.5, 1.0, 2.0]
    fc = frcnn.second_stage_box_predictor.mask_rcnn_box_predictor.fc_hyperparams
    assert fc.initializer.variance_scaling_initializer.mode == fc.initializer \
        .variance_scaling_initializer.FAN_AVG
    schedule = config.train_config.optimizer.momentum_optimizer.learning_rate \
        .manual_step_learning_rate.schedule
    assert [s.step for s in schedule] == [900000, 1200000]
    assert schedule[1].learning_rate == pytest.approx(2e-6)
    assert config.train_config.from_detection_checkpoint
    assert config.eval_config.max_evals == 10
    assert not config.eval_input_reader.shuffle
    assert config.eval_input_reader.num_readers == 1
    assert config.eval_input_reader.tf_record_input_reader.input_path[0].endswith(
        "PATH_TO_BE_CONFIGURED/mscoco_val.record")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_repo_configs_parse_and_check_config_exits_0(path):
    config = load_pipeline_config(path)
    assert config.model.faster_rcnn.num_classes == 1
    status, out, err = check_config(path)
    assert status == 0, err
    assert "Faster R-CNN" in out and "anchors" in out


def test_full_config_has_the_papers_values():
    config = load_pipeline_config(FULL_CONFIG)
    frcnn = config.model.faster_rcnn
    approx = pytest.approx
    assert frcnn.num_classes == 1
    shape = frcnn.image_resizer.fixed_shape_resizer
    assert (shape.height, shape.width) == (1000, 1000)
    assert frcnn.feature_extractor.type == "faster_rcnn_inception_v2"
    assert frcnn.feature_extractor.first_stage_features_stride == 16
    grid = frcnn.first_stage_anchor_generator.grid_anchor_generator
    assert list(grid.scales) == [0.25, 0.5, 1.0, 2.0]
    assert list(grid.aspect_ratios) == [0.5, 1.0, 2.0]
    assert (grid.height, grid.width, grid.height_stride, grid.width_stride) == (256, 256, 16, 16)
    conv = frcnn.first_stage_box_predictor_conv_hyperparams
    assert conv.initializer.truncated_normal_initializer.stddev == approx(0.01)
    assert (frcnn.first_stage_box_predictor_kernel_size, frcnn.first_stage_box_predictor_depth) \
        == (3, 512)
    assert frcnn.first_stage_positive_iou_threshold == approx(0.7)
    assert frcnn.first_stage_negative_iou_threshold == approx(0.3)
    assert not frcnn.clip_anchors_to_image
    assert frcnn.first_stage_minibatch_size == 256
    assert frcnn.first_stage_positive_balance_fraction == approx(0.5)
    assert frcnn.first_stage_nms_iou_threshold == approx(0.7)
    assert frcnn.first_stage_max_proposals == 300
    assert (frcnn.initial_crop_size, frcnn.maxpool_kernel_size, frcnn.maxpool_stride) == (14, 2, 2)
    assert frcnn.second_stage_batch_size == 64
    assert frcnn.second_stage_balance_fraction == approx(0.25)
    assert frcnn.second_stage_positive_iou_threshold == approx(0.5)
    box = frcnn.box_coder
    assert (box.y_scale, box.x_scale, box.height_scale, box.width_scale) == (10, 10, 5, 5)
    predictor = frcnn.second_stage_box_predictor.mask_rcnn_box_predictor
    scaling = predictor.fc_hyperparams.initializer.variance_scaling_initializer
    assert (scaling.factor, scaling.uniform, scaling.mode) == (1.0, True, scaling.FAN_AVG)
    post = frcnn.second_stage_post_processing
    assert post.batch_non_max_suppression.iou_threshold == approx(0.6)
    assert post.batch_non_max_suppression.max_total_detections == 100
    assert post.score_converter == post.SOFTMAX
    weights = (frcnn.first_stage_localization_loss_weight, frcnn.first_stage_objectness_loss_weight,
               frcnn.second_stage_localization_loss_weight,
               frcnn.second_stage_classification_loss_weight)
    assert weights == (2, 1, 2, 1)
    train = config.train_config
    momentum = train.optimizer.momentum_optimizer
    assert momentum.learning_rate.constant_learning_rate.learning_rate == approx(2e-4)
    assert momentum.momentum_optimizer_value == approx(0.9)
    assert train.gradient_clipping_by_norm == approx(10)
    assert (train.batch_size, train.num_steps) == (1, 25000)
    flip = train.data_augmentation_options[0].random_horizontal_flip
    assert train.data_augmentation_options[0].HasField("random_horizontal_flip")
    assert flip.probability == approx(0.5)
    assert load_label_map(config.train_input_reader.label_map_path) == {1: "galaxy_cluster"}


def test_relative_paths_fall_back_to_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_path("pipeline_configs/label_map.pbtxt") == str(LABEL_MAP)
    assert resolve_path("data/x-*.tfrecord") == str(tmp_path / "data/x-*.tfrecord")
    (tmp_path / "pipeline_configs").mkdir()
    (tmp_path / "pipeline_configs" / "label_map.pbtxt").write_text("")
    assert resolve_path("pipeline_configs/label_map.pbtxt") == str(
        tmp_path / "pipeline_configs" / "label_map.pbtxt")


def write_misspelt_config(tmp_path):
    lines = FULL_CONFIG.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if "second_stage_batch_size" in line)
    lines[number] = lines[number].replace("second_stage_batch_size", "second_stage_bach_size")
    path = tmp_path / "misspelt.config"
    path.write_text("\n".join(lines) + "\n")
    return path, number + 1


def test_misspelt_field_gives_file_and_line(tmp_path):
    path, line = write_misspelt_config(tmp_path)
    with pytest.raises(InputError, match=rf"^{path}:{line}: .*second_stage_bach_size.*"
                                         r"did you mean 'second_stage_batch_size'"):
        load_pipeline_config(path)


def test_check_config_cli_reports_file_line_and_exits_2(tmp_path):
    path, line = write_misspelt_config(tmp_path)
    status, out, err = check_config(path)
    assert status == 2
    assert f"{path}:{line}: " in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("edit, field, message", [
    (("num_classes: 1", "num_classes: 0"), "num_classes", "num_classes is 0"),
    (("type: 'faster_rcnn_inception_v2'", "type: 'resnet'"), "type", "not supported"),
    (("second_stage_batch_size: 64", "second_stage_batch_size: 400"), "second_stage_batch_size",
     "exceeds first_stage_max_proposals"),
    (("initial_crop_size: 14", ""), "initial_crop_size", None),
])
def test_semantic_errors_name_the_line(tmp_path, edit, field, message):
    text = FULL_CONFIG.read_text().replace(*edit)
    path = tmp_path / "bad.config"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_pipeline_config(path)
    where, _, what = str(error.value).partition(": ")
    lines = text.splitlines()
    number = int(where.rsplit(":", 1)[1])
    assert where.startswith(str(path))
    assert field in what
    if message:
        assert message in what
        assert field in lines[number - 1]


def test_od_api_sample_is_refused_for_building_with_the_reason(tmp_path):
    with pytest.raises(InputError, match="num_classes is 90: the galaxy-cluster detector"):
        load_pipeline_config(OD_API_SAMPLE)


@pytest.mark.parametrize("size, message", [
    (0, "must be at least 33 px"), (32, "must be at least 33 px"),
    (34, "no anchor fits inside"),
])
def test_check_config_and_the_builder_refuse_the_same_resizers(tmp_path, size, message):
    """One validator: what check-config accepts, the model builder builds, and the reverse."""
    text = FULL_CONFIG.read_text().replace("height: 1000", f"height: {size}") \
        .replace("width: 1000", f"width: {size}")
    path = tmp_path / "small.config"
    path.write_text(text)
    status, _, err = check_config(path)
    assert status == 2 and message in err and "Traceback" not in err
    config = load_pipeline_config(FULL_CONFIG)
    resizer = config.model.faster_rcnn.image_resizer.fixed_shape_resizer
    resizer.height = resizer.width = size
    with pytest.raises(InputError, match=message):
        build_model(config.model)


def test_negative_learning_rate_is_refused_at_its_line(tmp_path):
    text = FULL_CONFIG.read_text().replace("learning_rate: 0.0002", "learning_rate: -0.0002")
    path = tmp_path / "negative.config"
    path.write_text(text)
    with pytest.raises(InputError, match="every learning rate must be positive"):
        load_pipeline_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match="no such pipeline config"):
        load_pipeline_config(tmp_path / "absent.config")


def test_two_members_of_a_oneof_are_rejected(tmp_path):
    text = FULL_CONFIG.read_text().replace(
        "      fixed_shape_resizer {",
        "      keep_aspect_ratio_resizer {\n      }\n      fixed_shape_resizer {")
    path = tmp_path / "two_resizers.config"
    path.write_text(text)
    line = text.splitlines().index("      fixed_shape_resizer {") + 1
    with pytest.raises(InputError, match=rf"^{path}:{line}: .*oneof"):
        load_pipeline_config(path)


@pytest.mark.parametrize("items, line, message", [
    ("item {\n  id: 0\n  name: 'background'\n}\n", 2, "reserved for the background"),
    ("item { id: 1 name: 'a' }\n# comment id: 7\nitem {\n  name: 'b'\n  id: 1\n}\n", 5,
     "used twice"),
    ("item { id: 1 name: 'a' }\nitem { id: 2 name: 'a' }\n", 2, "name 'a' is used twice"),
])
def test_bad_label_maps_fail_with_line(tmp_path, items, line, message):
    path = tmp_path / "label_map.pbtxt"
    path.write_text(items)
    with pytest.raises(InputError, match=rf"^{path}:{line}: .*{message}"):
        load_label_map(path)


def test_config_with_bad_label_map_fails(tmp_path):
    label_map = tmp_path / "label_map.pbtxt"
    label_map.write_text("item { id: 1 name: 'galaxy_cluster' }\nitem { id: 2 name: 'x' }\n")
    text = FULL_CONFIG.read_text().replace('"pipeline_configs/label_map.pbtxt"', f'"{label_map}"')
    path = tmp_path / "config.config"
    path.write_text(text)
    with pytest.raises(InputError, match="class id 2 but num_classes is 1"):
        load_pipeline_config(path)


def test_generated_modules_match_the_proto_files(tmp_path):
    # protoc runs in its own process: grpc_tools' compiler crashes a process that has already
    # loaded TensorFlow's protobuf runtime (as the rest of the suite does).
    result = subprocess.run([sys.executable, "-m", "protos.generate", str(tmp_path)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    fresh = sorted((tmp_path / "protos").glob("*_pb2.py"))
    committed = sorted((PROJECT_ROOT / "protos").glob("*_pb2.py"))
    assert [p.name for p in fresh] == [p.name for p in committed]
    assert [p.name.replace("_pb2.py", ".proto") for p in fresh] == [
        pathlib.Path(p).name for p in generate.proto_files()]
    for new, old in zip(fresh, committed):
        assert new.read_bytes() == old.read_bytes(), (
            f"{old} is stale: run python -m protos.generate and commit the result")
