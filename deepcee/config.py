"""Read and check OD API-style pipeline configs and label maps (Deep-CEE section 2.1).

A pipeline config is a text-format ``deepcee.protos.TrainEvalPipelineConfig``
(``protos/pipeline.proto``), written exactly like a TF Object Detection API config: the
OD API's own ``faster_rcnn_inception_v2_coco.config`` sample parses unchanged. A label
map is a text-format ``StringIntLabelMap``; id 0 is the background, so object ids start
at 1.

Relative paths in a config (``label_map_path``, ``input_path``, ``fine_tune_checkpoint``)
mean what they mean to the OD API: relative to the working directory. When nothing
exists there, they are taken relative to the project root instead (the directory that
holds ``pipeline_configs/``), so the committed configs work from any directory.
:func:`load_pipeline_config` rewrites them as absolute paths.

Every mistake a user can make in these files raises :class:`InputError` with the message
``FILE:LINE: what is wrong; what to do`` (just ``FILE: ...`` when the file cannot be read).
A value that the file leaves at its default is reported at the line of its block.
"""
import difflib
import glob
import os
import pathlib
import re

from google.protobuf import descriptor_pool, text_format

from data_prep.base.errors import InputError
from protos import pipeline_pb2, string_int_label_map_pb2

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
SUPPORTED_FEATURE_EXTRACTORS = ("faster_rcnn_inception_v2",)

_QUOTED = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
_POSITION = re.compile(r"^(\d+):(\d+) : (?:'.*': )?")
_UNKNOWN_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "(\w+)"')


def load_pipeline_config(path, resolve_paths=True, buildable=True):
    """Parse and check a pipeline config.

    Parameters
    ----------
    path : path-like
        Text-format ``TrainEvalPipelineConfig`` (OD API ``pipeline.config`` syntax).
    resolve_paths : bool
        Rewrite relative ``label_map_path``, ``input_path`` and ``fine_tune_checkpoint``
        as absolute paths (see the module docstring for the rule).
    buildable : bool
        Also refuse what this port does not build (:func:`model_problems`); False accepts
        any OD API Faster R-CNN config (e.g. the OD API's COCO sample).

    Returns
    -------
    protos.pipeline_pb2.TrainEvalPipelineConfig

    Raises
    ------
    InputError
        ``FILE:LINE: what is wrong`` for a missing file, a syntax error, an unknown field
        or a value the model cannot use; also for a label map that fails
        :func:`load_label_map` or names more classes than ``num_classes``.
    """
    text = _read_text(path, "pipeline config")
    config = _parse(text, pipeline_pb2.TrainEvalPipelineConfig(), path)
    _check_model(config, text, path, buildable)
    _check_training(config, text, path)
    if resolve_paths:
        _resolve_paths(config)
    for reader in _input_readers(config):
        label_map = resolve_path(reader.label_map_path)
        if reader.label_map_path and os.path.exists(label_map):
            _check_label_map_fits(load_label_map(label_map), config, text, path)
    return config


def load_label_map(path):
    """Read a ``StringIntLabelMap`` text file as ``{id: name}``.

    Parameters
    ----------
    path : path-like
        Label map, e.g. ``item { id: 1 name: 'galaxy_cluster' }``.

    Returns
    -------
    dict of int to str
        Class id (1-based; 0 is the background) to class name, in file order.

    Raises
    ------
    InputError
        ``FILE:LINE: ...`` for a syntax error, an item without a name, an id below 1
        (id 0 is reserved for the background) or a repeated id or name.
    """
    text = _read_text(path, "label map")
    label_map = _parse(text, string_int_label_map_pb2.StringIntLabelMap(), path)
    id_lines = _field_lines(text, "id")
    classes = {}
    for index, item in enumerate(label_map.item):
        line = id_lines[index] if index < len(id_lines) else _last_line(text)
        where = f"{path}:{line}"
        if not item.HasField("id") or not item.name:
            raise InputError(f"{where}: label map item {index + 1} needs both an id and a "
                             f"name; write item {{ id: N name: 'class_name' }}")
        if item.id < 1:
            raise InputError(f"{where}: label map id {item.id} for '{item.name}': id 0 is "
                             "reserved for the background; number classes from 1")
        if item.id in classes:
            raise InputError(f"{where}: label map id {item.id} is used twice ('{classes[item.id]}'"
                             f" and '{item.name}'); give each class its own id")
        if item.name in classes.values():
            raise InputError(f"{where}: label map name '{item.name}' is used twice; give "
                             "each class its own name")
        classes[item.id] = item.name
    if not classes:
        raise InputError(f"{path}:1: label map has no items; add item {{ id: 1 name: "
                         "'class_name' }")
    return classes


def resolve_path(path):
    """Absolute form of a path written in a config (glob patterns allowed).

    Absolute paths and empty strings are returned unchanged. A relative path is taken
    from the working directory, as the OD API does, unless nothing matches there and
    something matches under the project root.
    """
    if not path or os.path.isabs(path):
        return path
    from_cwd = os.path.abspath(path)
    from_root = str(PROJECT_ROOT / path)
    if not glob.glob(from_cwd) and glob.glob(from_root):
        return from_root
    return from_cwd


def _read_text(path, what):
    try:
        return pathlib.Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a {what} file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; a {what} is protobuf text format") from None


def _parse(text, message, path):
    """``text_format.Parse`` with errors as ``InputError("FILE:LINE: ...")``."""
    try:
        return text_format.Parse(text, message)
    except text_format.ParseError as error:
        what = _POSITION.sub("", str(error)).replace("deepcee.protos.", "").rstrip(".")
        hint = _unknown_field_hint(what)
        line = error.GetLine() or 1
        raise InputError(f"{path}:{line}: {what}; {hint}") from None


def _unknown_field_hint(what):
    match = _UNKNOWN_FIELD.search(what)
    if not match:
        return "see protos/*.proto for the accepted syntax and fields"
    message_type, field = match.groups()
    descriptor = descriptor_pool.Default().FindMessageTypeByName("deepcee.protos." + message_type)
    names = [f.name for f in descriptor.fields]
    close = difflib.get_close_matches(field, names, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"{message_type} accepts: {', '.join(names)}"


def _field_lines(text, field):
    """1-based numbers of the lines where ``field:`` (or ``field {``) is set, in order."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(field)}\s*[:{{]")
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = _QUOTED.sub('""', line).split("#", 1)[0]
        lines += [number] * len(pattern.findall(code))
    return lines


def _line_of(text, fields):
    """Line of the first of ``fields`` that the text sets; 1 if it sets none."""
    for field in fields:
        lines = _field_lines(text, field)
        if lines:
            return lines[0]
    return 1


def _last_line(text):
    return max(1, len(text.splitlines()))


def _require(condition, text, path, field, message, enclosing="faster_rcnn"):
    """Raise ``FILE:LINE: message``, LINE being where ``field`` (else its block) is set."""
    if not condition:
        raise InputError(f"{path}:{_line_of(text, (field, enclosing))}: {message}")


def model_problems(frcnn, buildable=True):
    """Every value of a ``faster_rcnn`` block the model cannot use, as ``(field, message)``.

    The one validator of the model's settings: :func:`load_pipeline_config` reports its
    findings at their FILE:LINE, and :func:`deepcee.model.builder.build_model` refuses a
    config with any (for protos made in code). With ``buildable=False`` only the checks any
    OD API Faster R-CNN must pass are made (the OD API's own COCO sample passes them); with
    True also what this port builds: one class, Inception-v2, a fixed-shape resizer, ...
    """
    from deepcee.model.anchors import grid_anchors, inside_window
    problems = []

    def require(condition, field, message):
        if not condition:
            problems.append((field, message))

    require(frcnn.num_classes >= 1, "num_classes", f"num_classes is {frcnn.num_classes}; set it "
            "to the number of object classes (1 for galaxy clusters), background not counted")
    require(frcnn.feature_extractor.type in SUPPORTED_FEATURE_EXTRACTORS, "type",
            f"feature_extractor type '{frcnn.feature_extractor.type}' is not supported; use "
            f"one of {', '.join(SUPPORTED_FEATURE_EXTRACTORS)}")
    require(frcnn.feature_extractor.depth_multiplier > 0 and frcnn.feature_extractor.min_depth >= 1,
            "depth_multiplier", f"depth_multiplier {frcnn.feature_extractor.depth_multiplier:g} "
            f"and min_depth {frcnn.feature_extractor.min_depth}: give a positive multiplier and "
            "a min_depth of at least 1")
    require(frcnn.feature_extractor.first_stage_features_stride == 16,
            "first_stage_features_stride", "first_stage_features_stride must be 16 "
            "(Inception-v2 cut after Mixed_4e)")
    grid = frcnn.first_stage_anchor_generator.grid_anchor_generator
    require(frcnn.first_stage_anchor_generator.HasField("grid_anchor_generator"),
            "first_stage_anchor_generator", "first_stage_anchor_generator needs a "
            "grid_anchor_generator { scales aspect_ratios height_stride width_stride }")
    require(len(grid.scales) > 0 and min(grid.scales, default=0) > 0, "scales",
            "grid_anchor_generator needs one or more positive scales")
    require(len(grid.aspect_ratios) > 0 and min(grid.aspect_ratios, default=0) > 0,
            "aspect_ratios", "grid_anchor_generator needs one or more positive aspect_ratios")
    for field in ("first_stage_positive_balance_fraction", "second_stage_balance_fraction"):
        value = getattr(frcnn, field)
        require(0 < value <= 1, field, f"{field} is {value:g}; use a fraction in (0, 1]")
    for stage in ("first_stage", "second_stage"):
        positive = getattr(frcnn, f"{stage}_positive_iou_threshold")
        negative = getattr(frcnn, f"{stage}_negative_iou_threshold")
        require(0 <= negative <= positive <= 1, f"{stage}_negative_iou_threshold",
                f"{stage} IoU thresholds: need 0 <= negative ({negative:g}) <= positive "
                f"({positive:g}) <= 1")
    require(frcnn.second_stage_batch_size <= frcnn.first_stage_max_proposals,
            "second_stage_batch_size", f"second_stage_batch_size "
            f"{frcnn.second_stage_batch_size} exceeds first_stage_max_proposals "
            f"{frcnn.first_stage_max_proposals}; the classifier samples its batch from the "
            "proposals")
    for field in ("initial_crop_size", "maxpool_kernel_size", "maxpool_stride"):
        require(getattr(frcnn, field) >= 1, field,
                f"{field} must be set to a positive value (OD API sample: 14, 2, 2)")
    require(frcnn.second_stage_box_predictor.HasField("mask_rcnn_box_predictor"),
            "second_stage_box_predictor", "second_stage_box_predictor needs a "
            "mask_rcnn_box_predictor { fc_hyperparams { ... } }")
    if not buildable or problems:
        return problems

    require(frcnn.num_classes == 1, "num_classes", f"num_classes is {frcnn.num_classes}: the "
            "galaxy-cluster detector has one class; set num_classes: 1")
    require(frcnn.number_of_stages == 2, "number_of_stages", "number_of_stages must be 2")
    resizer = frcnn.image_resizer.fixed_shape_resizer
    require(frcnn.image_resizer.HasField("fixed_shape_resizer"), "image_resizer",
            "image_resizer needs fixed_shape_resizer { height: H width: W } (the only resizer "
            "this port builds)")
    require(min(resizer.height, resizer.width) >= 33, "fixed_shape_resizer",
            f"fixed_shape_resizer is {resizer.height} x {resizer.width} px; height and width "
            "must be at least 33 px (Inception-v2)")
    require((grid.height_stride, grid.width_stride) == (16, 16), "height_stride",
            "grid_anchor_generator strides must equal the feature stride, 16")
    require(not frcnn.first_stage_box_predictor_conv_hyperparams.HasField("batch_norm"),
            "first_stage_box_predictor_conv_hyperparams",
            "batch_norm in first_stage_box_predictor_conv_hyperparams is not supported")
    box_predictor = frcnn.second_stage_box_predictor.mask_rcnn_box_predictor
    require(not box_predictor.fc_hyperparams.HasField("batch_norm"), "fc_hyperparams",
            "batch_norm in fc_hyperparams is not supported")
    require(box_predictor.box_code_size == 4, "box_code_size", "box_code_size must be 4")
    if problems:
        return problems
    cells = (-(-resizer.height // 16), -(-resizer.width // 16))
    anchors = grid_anchors(cells, grid.scales, grid.aspect_ratios, (grid.height, grid.width),
                           (16, 16), (grid.height_offset, grid.width_offset))
    require(frcnn.clip_anchors_to_image or inside_window(anchors, resizer.height,
                                                         resizer.width).any(),
            "grid_anchor_generator", f"no anchor fits inside the {resizer.height} x "
            f"{resizer.width} px image, so none is left for training: use smaller "
            "grid_anchor_generator scales or height/width")
    return problems


def _check_model(config, text, path, buildable):
    """The model block, through :func:`model_problems`, at FILE:LINE."""
    _require(config.model.HasField("faster_rcnn"), text, path, "model",
             "no model { faster_rcnn { ... } } block; Deep-CEE is a Faster R-CNN "
             "(see pipeline_configs/deepcee_faster_rcnn_inception_v2.config)")
    for field, message in model_problems(config.model.faster_rcnn, buildable)[:1]:
        enclosing = ("first_stage_max_proposals" if field == "second_stage_batch_size"
                     else "faster_rcnn")
        _require(False, text, path, field, message, enclosing)


def _check_training(config, text, path):
    """Training settings the trainer cannot use."""
    train = config.train_config
    _require(train.batch_size >= 1, text, path, "batch_size", "batch_size must be at least 1",
             "train_config")
    optimizer = train.optimizer.momentum_optimizer
    _require(not train.HasField("optimizer") or train.optimizer.HasField("momentum_optimizer"),
             text, path, "optimizer", "optimizer needs momentum_optimizer { learning_rate "
             "{ ... } momentum_optimizer_value: 0.9 }", "train_config")
    _require(not train.HasField("optimizer") or
             optimizer.learning_rate.WhichOneof("learning_rate") is not None, text, path,
             "learning_rate", "learning_rate needs constant_learning_rate { learning_rate: X }"
             " or manual_step_learning_rate { ... }", "optimizer")
    rates = optimizer.learning_rate
    values = ([rates.constant_learning_rate.learning_rate]
              if rates.HasField("constant_learning_rate") else
              [rates.manual_step_learning_rate.initial_learning_rate]
              + [entry.learning_rate for entry in rates.manual_step_learning_rate.schedule])
    _require(not train.HasField("optimizer") or min(values) > 0, text, path,
             "learning_rate", f"learning rate {min(values):g}: every learning rate must be "
             "positive (Deep-CEE: 0.0002)", "optimizer")
    for option in train.data_augmentation_options:
        name = option.WhichOneof("preprocessing_step")
        for field, message in augmentation_problems(getattr(option, name))[:1]:
            _require(False, text, path, field, f"{name}: {message}", name)


def augmentation_problems(step):
    """Parameters of one ``data_augmentation_options`` step that make no sense, as
    ``(field, message)``: probabilities outside [0, 1], ranges with min > max, negative
    deltas, sigmas or offsets."""
    values = {field.name: getattr(step, field.name) for field in step.DESCRIPTOR.fields}
    problems = []
    if "probability" in values and not 0 <= values["probability"] <= 1:
        problems.append(("probability", f"probability {values['probability']:g} must lie in "
                                        "[0, 1]"))
    for low, high in (("minval", "maxval"), ("min_delta", "max_delta")):
        if low in values and not 0 <= values[low] <= values[high]:
            problems.append((low, f"{low} {values[low]:g} and {high} {values[high]:g} must "
                                  f"satisfy 0 <= {low} <= {high}"))
    for name in ("max_delta", "max_gain_delta", "max_offset", "max_sigma_px", "max_stddev"):
        if name in values and "min_delta" not in values and values[name] < 0:
            problems.append((name, f"{name} {values[name]:g} must be >= 0"))
    if values.get("max_gain_delta", 0) >= 1:
        problems.append(("max_gain_delta", f"max_gain_delta {values['max_gain_delta']:g} must "
                                           "be below 1 (a gain must stay positive)"))
    return problems


def _check_label_map_fits(classes, config, text, path):
    num_classes = config.model.faster_rcnn.num_classes
    _require(max(classes) <= num_classes, text, path, "num_classes",
             f"the label map has class id {max(classes)} but num_classes is {num_classes}; "
             "make them agree")


def _input_readers(config):
    return [getattr(config, field) for field in ("train_input_reader", "eval_input_reader")
            if config.HasField(field)]


def _resolve_paths(config):
    for reader in _input_readers(config):
        reader.label_map_path = resolve_path(reader.label_map_path)
        paths = reader.tf_record_input_reader.input_path
        paths[:] = [resolve_path(p) for p in paths]
    checkpoint = config.train_config.fine_tune_checkpoint
    if checkpoint:
        # A TF checkpoint is a prefix: model.ckpt names model.ckpt.index and friends.
        resolved = resolve_path(checkpoint + ".index")
        config.train_config.fine_tune_checkpoint = resolved[: -len(".index")]
