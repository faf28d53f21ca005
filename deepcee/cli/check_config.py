"""``deepcee check-config PATH``: parse a pipeline config and say what it configures.

Prints a few lines an astronomer can check against the paper (Deep-CEE section 2.1) and
exits 0, or prints ``FILE:LINE: what is wrong`` and exits 2.
"""
import glob
import os

from deepcee.config import load_label_map, load_pipeline_config


def add_arguments(parser):
    parser.add_argument("config", metavar="PATH", help="pipeline config (OD API text format)")


def run(args):
    config = load_pipeline_config(args.config)
    print("\n".join(summary_lines(config, args.config)))
    return 0


def summary_lines(config, path):
    """Human-readable description of a parsed ``TrainEvalPipelineConfig``, one topic a line."""
    frcnn = config.model.faster_rcnn
    grid = frcnn.first_stage_anchor_generator.grid_anchor_generator
    post = frcnn.second_stage_post_processing
    nms = post.batch_non_max_suppression
    train = config.train_config
    rpn_positive = round(frcnn.first_stage_minibatch_size
                         * frcnn.first_stage_positive_balance_fraction)
    roi_positive = round(frcnn.second_stage_batch_size * frcnn.second_stage_balance_fraction)
    converter = post.ScoreConverter.Name(post.score_converter).lower()
    augmentations = [step.WhichOneof("preprocessing_step")
                     for step in train.data_augmentation_options]
    border = "clipped to the image" if frcnn.clip_anchors_to_image else "dropped in training"
    lines = [
        f"{path}: Faster R-CNN, {frcnn.feature_extractor.type} features every "
        f"{frcnn.feature_extractor.first_stage_features_stride} px, "
        f"{frcnn.num_classes} object class(es)",
        f"input      {_resizer(frcnn.image_resizer)}",
        f"anchors    every {grid.height_stride} x {grid.width_stride} px, base "
        f"{grid.height} x {grid.width} px, scales {_numbers(grid.scales)}, aspect ratios "
        f"{_numbers(grid.aspect_ratios)}: {len(grid.scales) * len(grid.aspect_ratios)} per "
        f"position; border-crossing anchors {border}",
        f"RPN        {frcnn.first_stage_box_predictor_kernel_size}x"
        f"{frcnn.first_stage_box_predictor_kernel_size} conv, "
        f"{frcnn.first_stage_box_predictor_depth} channels; {frcnn.first_stage_minibatch_size}"
        f" anchors/image, up to {rpn_positive} positive (IoU >= "
        f"{frcnn.first_stage_positive_iou_threshold:g}), the rest negative (IoU < "
        f"{frcnn.first_stage_negative_iou_threshold:g}); NMS IoU "
        f"{frcnn.first_stage_nms_iou_threshold:g} -> <= {frcnn.first_stage_max_proposals} "
        "proposals",
        f"ROI crop   {frcnn.initial_crop_size} x {frcnn.initial_crop_size}, max-pool "
        f"{frcnn.maxpool_kernel_size} stride {frcnn.maxpool_stride}",
        f"classifier {frcnn.second_stage_batch_size} ROIs/image, up to {roi_positive} positive "
        f"(IoU >= {frcnn.second_stage_positive_iou_threshold:g}), the rest negative (IoU < "
        f"{frcnn.second_stage_negative_iou_threshold:g}); {converter} scores; NMS IoU "
        f"{nms.iou_threshold:g}, score >= {nms.score_threshold:g} -> <= "
        f"{nms.max_total_detections} boxes",
        f"losses     RPN localisation {frcnn.first_stage_localization_loss_weight:g}, "
        f"objectness {frcnn.first_stage_objectness_loss_weight:g}; classifier localisation "
        f"{frcnn.second_stage_localization_loss_weight:g}, classification "
        f"{frcnn.second_stage_classification_loss_weight:g}",
        f"training   {_optimizer(train)}, batch {train.batch_size}, "
        f"{train.num_steps or 'unlimited'} steps, augmentation "
        f"{', '.join(augmentations) or 'none'}",
        f"start from {_checkpoint(train)}",
    ]
    for name in ("train_input_reader", "eval_input_reader"):
        if config.HasField(name):
            lines += _reader_lines(name.split("_")[0], getattr(config, name))
    return lines


def _numbers(values):
    return " ".join(f"{value:g}" for value in values)


def _resizer(resizer):
    if resizer.HasField("fixed_shape_resizer"):
        shape = resizer.fixed_shape_resizer
        return f"images resized to {shape.height} x {shape.width} px"
    keep = resizer.keep_aspect_ratio_resizer
    return (f"images resized keeping aspect ratio: short side {keep.min_dimension} px, long "
            f"side at most {keep.max_dimension} px")


def _optimizer(train):
    momentum = train.optimizer.momentum_optimizer
    rate = momentum.learning_rate
    if rate.HasField("constant_learning_rate"):
        schedule = f"constant learning rate {rate.constant_learning_rate.learning_rate:g}"
    else:
        manual = rate.manual_step_learning_rate
        steps = "".join(f", {s.learning_rate:g} from step {s.step}" for s in manual.schedule)
        schedule = f"learning rate {manual.initial_learning_rate:g}{steps}"
    clip = train.gradient_clipping_by_norm
    clipping = f", gradients clipped to norm {clip:g}" if clip > 0 else ""
    return f"SGD momentum {momentum.momentum_optimizer_value:g}, {schedule}{clipping}"


def _checkpoint(train):
    path = train.fine_tune_checkpoint
    if not path:
        return "random initialisation (no fine_tune_checkpoint)"
    kind = train.fine_tune_checkpoint_type or (
        "detection" if train.from_detection_checkpoint else "classification")
    found = "found" if glob.glob(path + "*") else "not found yet"
    return f"{kind} checkpoint {path} ({found})"


def _reader_lines(split, reader):
    files = sorted({f for pattern in reader.tf_record_input_reader.input_path
                    for f in glob.glob(pattern)})
    patterns = ", ".join(reader.tf_record_input_reader.input_path) or "(no input_path)"
    lines = [f"{split:<10} {patterns}: {len(files)} file(s) found"
             + ("" if reader.shuffle else ", read in order")]
    if reader.label_map_path and os.path.exists(reader.label_map_path):
        classes = ", ".join(f"{class_id} {name}" for class_id, name
                            in load_label_map(reader.label_map_path).items())
        lines.append(f"{'':<10} label map {reader.label_map_path}: {classes}")
    else:
        lines.append(f"{'':<10} label map {reader.label_map_path or '(none)'}: not found yet")
    return lines
