"""Training Faster R-CNN from a pipeline config, as the OD API does it (``deepcee train``).

Deep-CEE §2.1: joint training with SGD and momentum (0.9), the config's learning-rate
schedule, gradients clipped to a global norm (10), batch size 1 and a random horizontal flip;
optionally starting from an OD API Faster R-CNN Inception-v2 checkpoint
(``fine_tune_checkpoint``, loaded by its variable names).

Run directory (``--model-dir``):

- ``ckpt-<step>.index`` / ``.data-*`` and the ``checkpoint`` index file
  (:class:`tf.train.CheckpointManager`), holding the model, the optimiser (momentum slots,
  iteration count) and the step;
- ``train/events.*``: TensorBoard scalars under the OD API's names (``Loss/...``,
  ``learning_rate``); ``eval/events.*``: an image of one test cutout with its predicted
  (red) and true (green) boxes;
- ``pipeline.config``: the config the run was started with.

Resuming without losing or repeating a step. A checkpoint is written every
``--checkpoint-every`` steps, at the end and on Ctrl-C / SIGTERM. The scalars of each step are
held in memory and written to the event file just before the checkpoint that contains that
step, so a run killed with SIGKILL loses, from both checkpoint and events, exactly the steps
after its last checkpoint; the rerun restores step, weights and optimiser state, continues the
data stream at the same example (:mod:`deepcee.training.inputs`), re-runs those steps and logs them.
Should a kill land between writing the events and finishing the checkpoint, the rerun reads
the steps already in the event files and does not log them again. Every step from 1 to the
last therefore appears once in ``train/events.*``. The detection image of a checkpoint is
written to ``eval/events.*`` just before it too, and likewise never twice. A run resumes
only on records of the image size and pixel scale it was trained on.
"""
import contextlib
import glob
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorflow as tf
import tf_keras

from data_prep.base.celestial import pixel_scale_arcsec, wcs_from_header_text
from data_prep.base.errors import InputError
from data_prep.base.files import write_text
from data_prep.deepcee_data.tfrecord_schema import check_shards
from deepcee.config import load_pipeline_config
from deepcee.model.checkpoint import (TrainedModel, build_with_weights, geometry_variables,
                                      run_checkpoint)
from deepcee.training import inputs
from deepcee.training.continuous_eval import ContinuousEvaluation

TOTAL_LOSS = "Loss/total_loss"
IMAGE_TAG = "Detections/test_image_predicted_red_true_green"
"""TensorBoard tag of the image of one test cutout with predicted and true boxes."""
CHECKPOINT_EVERY = 100
"""Default steps between checkpoints (a quarter of the run when that is shorter)."""
MIN_SCORE = 0.5
"""Score above which predicted boxes are drawn in the TensorBoard image."""


# --- configuration -> optimiser ---------------------------------------------------------------

class ManualStepLearningRate(tf_keras.optimizers.schedules.LearningRateSchedule):
    """The OD API's ``manual_step_learning_rate``: piecewise constant in the step.

    ``initial_learning_rate`` until the first schedule step, then each entry's rate from its
    step on; with ``warmup`` the rate ramps linearly from the initial rate to the first
    entry's rate over ``[0, schedule[0].step]``, as in the OD API's ``manual_stepping``.
    """

    def __init__(self, initial_learning_rate, boundaries=(), rates=(), warmup=False):
        super().__init__()
        self.initial_learning_rate = float(initial_learning_rate)
        self.boundaries = [int(b) for b in boundaries]
        self.rates = [float(r) for r in rates]
        self.warmup = bool(warmup)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = tf.constant(self.initial_learning_rate, tf.float32)
        for boundary, value in zip(self.boundaries, self.rates):
            rate = tf.where(step >= boundary, tf.constant(value, tf.float32), rate)
        if self.warmup and self.boundaries:
            ramp = self.initial_learning_rate + (self.rates[0] - self.initial_learning_rate) * (
                step / self.boundaries[0])
            rate = tf.where(step < self.boundaries[0], ramp, rate)
        return rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "boundaries": self.boundaries, "rates": self.rates, "warmup": self.warmup}


def learning_rate_schedule(learning_rate_config):
    """A Keras learning-rate schedule from an OD API ``LearningRate`` message."""
    kind = learning_rate_config.WhichOneof("learning_rate")
    if kind == "constant_learning_rate":
        return ManualStepLearningRate(learning_rate_config.constant_learning_rate.learning_rate)
    manual = learning_rate_config.manual_step_learning_rate
    steps = [entry.step for entry in manual.schedule]
    if steps != sorted(steps):
        raise InputError("manual_step_learning_rate: schedule steps must increase; "
                         f"got {steps}")
    return ManualStepLearningRate(manual.initial_learning_rate, steps,
                                  [entry.learning_rate for entry in manual.schedule],
                                  manual.warmup)


def build_optimizer(train_config, mixed_precision=False):
    """SGD with momentum and the config's schedule (Deep-CEE §2.1: momentum 0.9).

    Gradient clipping (``gradient_clipping_by_norm``) is applied by the training step, per
    replica and by global norm, as the OD API's TF2 trainer does.
    """
    momentum = train_config.optimizer.momentum_optimizer
    optimizer = tf_keras.optimizers.SGD(learning_rate=learning_rate_schedule(
        momentum.learning_rate), momentum=momentum.momentum_optimizer_value)
    if mixed_precision:
        optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer


def augmentations(train_config):
    """``(name, {parameter: value})`` of each ``data_augmentation_options`` entry, in config
    order (unset parameters at their proto defaults)."""
    steps = []
    for option in train_config.data_augmentation_options:
        name = option.WhichOneof("preprocessing_step")
        message = getattr(option, name)
        steps.append((name, {field.name: getattr(message, field.name)
                             for field in message.DESCRIPTOR.fields}))
    return tuple(steps)


def choose_strategy():
    """MirroredStrategy over several GPUs, else the one GPU, else the CPU."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")


# --- run directory ------------------------------------------------------------------------------

def prepare_model_dir(config_path, model_dir):
    """Create ``model_dir`` with a copy of the config; refuse one started with another config."""
    model_dir = Path(model_dir)
    copy = model_dir / "pipeline.config"
    if copy.exists():
        old = load_pipeline_config(copy, resolve_paths=False)
        new = load_pipeline_config(config_path, resolve_paths=False)
        old.train_config.ClearField("num_steps")
        new.train_config.ClearField("num_steps")
        if old != new:
            raise InputError(f"{model_dir} holds a run of another pipeline config ({copy}); "
                             f"train {config_path} in a new run directory (e.g. --model-dir "
                             f"runs/other/train, or make train-cee RUN=runs/other)")
        return
    model_dir.mkdir(parents=True, exist_ok=True)
    write_text(copy, Path(config_path).read_text(encoding="utf-8"))


def records_pixel_scale_arcsec(example, log=print):
    """Pixel scale (arcsec) of the training images, from a record's ``image/wcs``; 0 (said in
    the log) for records without one, e.g. made by other tools: ``deepcee detect`` then uses
    FITS inputs at their own scale."""
    if not example["wcs_header"].strip():
        log("note: the records carry no image/wcs header, so the pixel scale of the training "
            "images is unknown and deepcee detect will not resample FITS inputs to it")
        return 0.0
    return pixel_scale_arcsec(wcs_from_header_text(example["wcs_header"]))


def logged_steps(events_dir, tag=TOTAL_LOSS):
    """The steps at which ``tag`` already appears in the event files under ``events_dir``."""
    steps = set()
    for path in sorted(glob.glob(os.path.join(events_dir, "events.out.tfevents.*"))):
        try:
            for record in tf.data.TFRecordDataset(path):
                event = tf.compat.v1.Event.FromString(record.numpy())
                if any(value.tag == tag for value in event.summary.value):
                    steps.add(int(event.step))
        except tf.errors.DataLossError:  # the tail of a file cut short by a kill
            continue
    return steps


def load_fine_tune_checkpoint(model, path, checkpoint_type="detection"):
    """Load an OD API Faster R-CNN Inception-v2 checkpoint into ``model`` by variable name.

    Names come from :func:`deepcee.model.odapi_names.odapi_variable_map` (e.g.
    ``FirstStageFeatureExtractor/InceptionV2/Mixed_4e/Branch_0/Conv2d_0a_1x1/weights``).
    With ``checkpoint_type="classification"`` only the feature extractor is loaded, from
    names without the ``FirstStageFeatureExtractor/`` scope (a slim ImageNet checkpoint).

    Returns
    -------
    dict with ``loaded`` (names), ``missing`` (names not in the checkpoint) and
    ``mismatched`` (names whose shape differs); the model variables of the last two keep
    their random initial values.
    """
    from deepcee.model.odapi_names import odapi_variable_map
    try:
        reader = tf.train.load_checkpoint(path)
    except (ValueError, tf.errors.NotFoundError, tf.errors.DataLossError) as error:
        raise InputError(f"fine_tune_checkpoint {path}: not a readable TF checkpoint "
                         f"({str(error).splitlines()[0]}); fix the path in the config or "
                         "remove the line to train from random initialisation") from None
    shapes = reader.get_variable_to_shape_map()
    wanted = odapi_variable_map(model)
    if checkpoint_type == "classification":
        scope = "FirstStageFeatureExtractor/"
        wanted = {name[len(scope):]: var for name, var in wanted.items()
                  if name.startswith(scope)}
    report = {"loaded": [], "missing": [], "mismatched": []}
    for name, variable in sorted(wanted.items()):
        if name not in shapes:
            report["missing"].append(name)
        elif list(shapes[name]) != variable.shape.as_list():
            report["mismatched"].append(name)
        else:
            variable.assign(reader.get_tensor(name).astype(variable.dtype.as_numpy_dtype))
            report["loaded"].append(name)
    if not report["loaded"]:
        raise InputError(f"fine_tune_checkpoint {path}: none of its variables has an OD API "
                         "Faster R-CNN Inception-v2 name of this model; is it the right "
                         "checkpoint (and fine_tune_checkpoint_type)?")
    return report


# --- TensorBoard image --------------------------------------------------------------------------

def detection_image(model, image, true_boxes, min_score=MIN_SCORE):
    """An image [1, H, W, 3] uint8 with predicted (red, score > ``min_score``) and true
    (green) boxes drawn on it; ``image`` uint8 [H, W, 3], ``true_boxes`` normalised [M, 4]."""
    detections = model.detect(tf.cast(image, tf.float32)[tf.newaxis])
    keep = detections["detection_scores"][0] > min_score
    predicted = tf.boolean_mask(detections["detection_boxes"][0], keep)
    picture = tf.cast(image, tf.float32)[tf.newaxis] / 255.0
    for boxes, colour in ((tf.cast(true_boxes, tf.float32), [0.0, 1.0, 0.0, 1.0]),
                          (predicted, [1.0, 0.0, 0.0, 1.0])):
        picture = tf.image.draw_bounding_boxes(picture, boxes[tf.newaxis], tf.constant([colour]))
    return tf.cast(tf.round(tf.clip_by_value(picture, 0.0, 1.0) * 255.0), tf.uint8)


# --- the training loop --------------------------------------------------------------------------

class _StopRequest:
    """Turns Ctrl-C and SIGTERM into a flag the loop checks between steps, so that the step
    in flight finishes and is checkpointed and logged."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        self.requested = True

    @contextlib.contextmanager
    def installed(self):
        previous = {sig: signal.signal(sig, self._handler)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def precision_policy(mixed_precision):
    """Build and run models in ``mixed_float16`` (float16 compute, float32 weights) or
    ``float32`` inside the block; the previous global Keras policy is restored after it."""
    previous = tf_keras.mixed_precision.global_policy()
    tf_keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    try:
        yield
    finally:
        tf_keras.mixed_precision.set_global_policy(previous)


def make_train_step(model, optimizer, strategy, step, clip_norm, mixed_precision, xla):
    """A ``tf.function`` that runs one joint training step (Deep-CEE eq. 3) on a distributed
    batch and returns the replica-averaged losses."""
    replicas = strategy.num_replicas_in_sync

    def replica_step(images, boxes, valid):
        with tf.GradientTape() as tape:
            losses = model.loss(images, boxes, valid, training=True)
            objective = tf.cast(losses[TOTAL_LOSS], tf.float32) / replicas
            if mixed_precision:
                objective = optimizer.get_scaled_loss(objective)
        variables = model.trainable_variables
        gradients = tape.gradient(objective, variables)
        if mixed_precision:
            gradients = optimizer.get_unscaled_gradients(gradients)
        pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
        gradients = [g for g, _ in pairs]
        if clip_norm > 0:
            gradients, _ = tf.clip_by_global_norm(gradients, clip_norm)
        optimizer.apply_gradients(zip(gradients, [v for _, v in pairs]))
        return {name: tf.cast(value, tf.float32) for name, value in losses.items()}

    @tf.function(jit_compile=xla or None)
    def train_step(batch):
        losses = strategy.run(replica_step, args=batch)
        step.assign_add(1)
        return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in losses.items()}

    return train_step


def train(config_path, model_dir, data_dir=None, steps=None, checkpoint_every=None,
          image_every=None, eval_every=None, seed=0, mixed_precision=False, xla=False,
          deterministic=True, log=print):
    """Train (or resume training) into ``model_dir``; returns the final step.

    Parameters
    ----------
    config_path : path
        Pipeline config; ``train_config`` gives batch size, optimiser, clipping,
        ``num_steps``, augmentation and ``fine_tune_checkpoint``.
    steps : int or None
        Last step to train to; overrides ``num_steps`` (0 or None there: train until
        interrupted).
    checkpoint_every, image_every : int or None
        Steps between checkpoints and between TensorBoard detection images.
    eval_every : int or None
        Steps between evaluations of the test split (:mod:`deepcee.training.continuous_eval`;
        default: at each checkpoint; 0: never). There is one at the end of the run too.
    deterministic : bool
        Switch on TensorFlow's op determinism (for the rest of the process: TensorFlow has
        no switch back), so that the same seed gives the same checkpoints byte for byte and a
        killed run resumes to the bytes of an uninterrupted one. Its cost per step is in
        ``make bench`` (``train_step_determinism_cost``).
    """
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    config = load_pipeline_config(config_path)
    train_config = config.train_config
    last_step = steps if steps is not None else (train_config.num_steps or None)
    if last_step is not None and last_step < 1:
        raise InputError(f"--steps {last_step}: the number of steps must be at least 1")
    if checkpoint_every is None:
        checkpoint_every = CHECKPOINT_EVERY if last_step is None else max(
            1, min(CHECKPOINT_EVERY, last_step // 4))
    image_every = image_every or checkpoint_every
    eval_every = checkpoint_every if eval_every is None else eval_every
    if checkpoint_every < 1 or image_every < 1 or eval_every < 0:
        raise InputError("--checkpoint-every and --image-every must be at least 1, "
                         "--eval-every at least 0")

    reader = config.train_input_reader
    train_files = inputs.resolve_input_paths(reader.tf_record_input_reader.input_path, data_dir)
    eval_patterns = config.eval_input_reader.tf_record_input_reader.input_path
    try:
        eval_files = inputs.resolve_input_paths(eval_patterns, data_dir)
    except InputError:
        eval_files = None
        if eval_every:
            log("note: no test split (eval_input_reader) found, so no evaluation during "
                "training")
            eval_every = 0
    for files in filter(None, (train_files, eval_files)):
        if not sum(check_shards(files)):
            raise InputError(f"the TFRecord files {files[0]}... hold no records: rebuild them "
                             "with 'make tfrecords'")
    prepare_model_dir(config_path, model_dir)
    model_dir = Path(model_dir)

    with precision_policy(mixed_precision):
        tf.random.set_seed(seed)
        strategy = choose_strategy()
        replicas = strategy.num_replicas_in_sync
        if train_config.batch_size % replicas:
            raise InputError(f"batch_size {train_config.batch_size} does not split over "
                             f"{replicas} GPUs; use a multiple of {replicas}")
        example = inputs.first_example(eval_files or train_files)
        if eval_every and not example["wcs_header"].strip():
            log("note: the test records carry no image/wcs header, so the 100 kpc rule cannot "
                "score them: no evaluation during training")
            eval_every = 0
        state = restore_or_initialise(config, model_dir, strategy, example, seed, mixed_precision,
                                      xla, log)
        model, optimizer, step, manager = state.model, state.optimizer, state.step, state.manager
        start = int(step.numpy())
        if last_step is not None and start >= last_step:
            log(f"training already finished: step {start} of {last_step} in {model_dir}; "
                "nothing to do (pass a larger --steps to train further)")
            return start

        dataset = inputs.training_dataset(
            train_files, train_config.batch_size, seed=seed,
            augmentations=augmentations(train_config),
            start_example=start * train_config.batch_size,
            shuffle_buffer=reader.shuffle_buffer_size if reader.shuffle else 1)
        batches = iter(strategy.experimental_distribute_dataset(dataset))
        train_step = make_train_step(model, optimizer, strategy, step,
                                     train_config.gradient_clipping_by_norm, mixed_precision, xla)
        schedule = learning_rate_schedule(train_config.optimizer.momentum_optimizer.learning_rate)
        train_writer = tf.summary.create_file_writer(str(model_dir / "train"))
        eval_writer = tf.summary.create_file_writer(str(model_dir / "eval"))
        already_logged = logged_steps(model_dir / "train")
        pending = []  # (step, losses) not yet written to the event file
        evaluation = None
        if eval_every:
            trained = TrainedModel(model, config, start, *(v.numpy().tolist()
                                                          for v in state.geometry))
            evaluation = ContinuousEvaluation(
                model_dir, eval_files, config.eval_config.num_examples or None,
                run_checkpoint(model, step, state.geometry), trained)
            minutes_before = evaluation.resume_at(start)
        since_eval = []  # total losses since the last evaluation
        training_seconds = 0.0

        def evaluate_now(at):
            row = evaluation(at, np.mean(since_eval), minutes_before + training_seconds / 60,
                             eval_writer)
            since_eval.clear()
            log(f"step {at}: test split ({row['n_images']} images) best F1 "
                f"{row['best_f1']:.3f} at {row['threshold']:.0%} (precision "
                f"{row['precision']:.3f}, recall {row['recall']:.3f}); best so far "
                f"{evaluation.best['best_f1']:.3f} at step {evaluation.best['step']}")

        already_drawn = logged_steps(model_dir / "eval", IMAGE_TAG)

        def save():
            with train_writer.as_default():
                for at, losses in pending:
                    if at in already_logged:
                        continue
                    for name, value in losses.items():
                        tf.summary.scalar(name, value, step=at)
                    tf.summary.scalar("learning_rate", schedule(at - 1), step=at)
            train_writer.flush()
            pending.clear()
            at = int(step.numpy())
            if (at % image_every == 0 or at == last_step) and at not in already_drawn:
                with eval_writer.as_default():  # before the checkpoint, as the scalars
                    tf.summary.image(IMAGE_TAG, detection_image(model, example["image"],
                                                                example["boxes"]), step=at)
                eval_writer.flush()
            manager.save(checkpoint_number=at)

        log(f"training {model_dir} from step {start} to {last_step or 'interruption'} on "
            f"{replicas} {'GPU' if tf.config.list_logical_devices('GPU') else 'CPU'} replica(s); "
            f"checkpoint every {checkpoint_every} steps")
        stop = _StopRequest()
        with stop.installed():
            while (last_step is None or int(step.numpy()) < last_step) and not stop.requested:
                step_started = time.perf_counter()
                losses = {k: float(v) for k, v in train_step(next(batches)).items()}
                training_seconds += time.perf_counter() - step_started
                at = int(step.numpy())
                since_eval.append(losses[TOTAL_LOSS])
                if not np.isfinite(losses[TOTAL_LOSS]):
                    raise InputError(f"the loss is {losses[TOTAL_LOSS]} at step {at}; lower the "
                                     "learning rate in the config (the last checkpoint is kept)")
                pending.append((at, losses))
                if at % checkpoint_every == 0 or at == last_step:
                    save()
                if at % 10 == 0 or at == last_step or at == start + 1:
                    rate = training_seconds / (at - start)
                    log(f"step {at}: total_loss {losses[TOTAL_LOSS]:.4f} ({rate:.2f} s/step)")
                if evaluation and (at % eval_every == 0 or at == last_step):
                    evaluate_now(at)
            if pending:
                save()
        final = int(step.numpy())
        if stop.requested:
            log(f"stopped at step {final}; checkpoint saved, rerun to resume")
            raise KeyboardInterrupt
        return final


@dataclass
class TrainingState:
    """What a checkpoint holds and restores: model, optimiser (momentum slots, iterations),
    step, and the training images' geometry (for tiling at detection time)."""

    model: object
    optimizer: object
    step: tf.Variable
    geometry: tuple  # (training_image_size, training_pixel_scale_arcsec) variables
    manager: tf.train.CheckpointManager


def restore_or_initialise(config, model_dir, strategy, example, seed=0, mixed_precision=False,
                          xla=False, log=print):
    """Build model and optimiser under ``strategy``; restore the latest checkpoint of
    ``model_dir`` if there is one, else initialise (``fine_tune_checkpoint`` or random).

    ``example`` (a decoded record) gives the training image size and pixel scale; ``xla``
    builds the model with XLA-compilable ROI crops.
    """
    train_config = config.train_config
    with strategy.scope():
        model = build_with_weights(config.model, seed=seed, xla_compatible=xla)
        optimizer = build_optimizer(train_config, mixed_precision)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        optimizer.build(model.trainable_variables)  # creates the momentum slots to restore
        geometry = geometry_variables(example["image"].shape[:2],
                                      records_pixel_scale_arcsec(example, log))
    checkpoint = run_checkpoint(model, step, geometry, optimizer)
    manager = tf.train.CheckpointManager(
        checkpoint, str(model_dir), max_to_keep=5, checkpoint_name="ckpt",
        keep_checkpoint_every_n_hours=train_config.keep_checkpoint_every_n_hours)
    latest = manager.latest_checkpoint
    if latest:
        records = [value.numpy().tolist() for value in geometry]
        restored = checkpoint.restore(latest)
        if mixed_precision and not holds_loss_scale(latest):  # all but the loss scale
            restored.expect_partial()
            log(f"{latest} was written without --mixed-precision: the loss scale starts at "
                f"{float(optimizer.loss_scale):g}")
        else:  # (a saved loss scale is not needed without --mixed-precision)
            restored.assert_existing_objects_matched().expect_partial()
        check_same_images(latest, [value.numpy().tolist() for value in geometry], records)
        log(f"resuming from {latest} at step {int(step.numpy())}")
    else:
        initialise_weights(model, train_config,
                           config.model.faster_rcnn.feature_extractor.batch_norm_trainable, log)
    return TrainingState(model, optimizer, step, geometry, manager)


def check_same_images(checkpoint_path, trained, records):
    """Refuse to resume a run on records of another image size or pixel scale: ``trained``
    and ``records`` are ``[[height, width], arcsec per pixel]`` of the checkpoint's images and
    of the records given now."""
    (size, scale), (new_size, new_scale) = trained, records
    if size != new_size or abs(scale - new_scale) > 1e-3 * max(scale, new_scale):
        raise InputError(f"{checkpoint_path} was trained on {size[0]} x {size[1]} px images at "
                         f"{scale:.4g} arcsec/px, these records are {new_size[0]} x "
                         f"{new_size[1]} px at {new_scale:.4g} arcsec/px; resume on the run's "
                         "own records, or train these in a new --model-dir")


def holds_loss_scale(checkpoint_path):
    """Whether a checkpoint was written by a mixed-precision run (it holds the dynamic loss
    scale of its ``LossScaleOptimizer``)."""
    return any(name.startswith("optimizer/loss_scale/")
               for name, _ in tf.train.list_variables(checkpoint_path))


def initialise_weights(model, train_config, batch_norm_trainable, log):
    """Load ``fine_tune_checkpoint`` when it exists; otherwise keep the random initialisation
    (RPN truncated normal 0.01, box classifier variance scaling: Deep-CEE §2.1) and say so."""
    path = train_config.fine_tune_checkpoint
    if not path or not glob.glob(path + "*"):
        log("no fine_tune_checkpoint: training from random initialisation" if not path else
            f"fine_tune_checkpoint {path} not found: training from random initialisation "
            "(put the OD API model there to start from it)")
        if not batch_norm_trainable:
            log("note: batch_norm_trainable is false, which suits a pre-trained start; from "
                "random weights set it true in feature_extractor (as deepcee_tiny.config does)")
        return
    kind = train_config.fine_tune_checkpoint_type or (
        "detection" if train_config.from_detection_checkpoint else "classification")
    report = load_fine_tune_checkpoint(model, path, kind)
    log(f"fine_tune_checkpoint {path} ({kind}): loaded {len(report['loaded'])} variables, "
        f"{len(report['missing'])} not in the checkpoint, {len(report['mismatched'])} with "
        "another shape (those keep their random initial values)")

