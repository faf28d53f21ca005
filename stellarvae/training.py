"""Training one DeepVAE per patch size, and encoding every patch (StellarVAE §III-C, §IV).

Training minimises the NELBO with Adam (the paper says only "SGD on Monte-Carlo gradient
estimates"; Adam is the usual SGVB optimiser) and stops on a NELBO plateau: an
``EarlyStopping`` callback on the epoch NELBO with ``patience`` epochs and a minimum
improvement of ``min_delta_per_pixel`` nats per pixel, within ``max_epochs``. NELBO,
reconstruction and KL go to TensorBoard (one log directory per patch size). To keep a field
within about a minute on two CPU cores, at most ``max_train_patches`` patches (a seeded random
subset) are used for training; every patch is encoded afterwards.
"""
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tf_keras

from stellarvae.vae import DeepVAE


@dataclass(frozen=True)
class TrainingOptions:
    """How each DeepVAE is trained.

    Attributes
    ----------
    latent_dim : int
        Size of z (default 2, as the paper's Fig. 4).
    prior : str
        ``"mog"`` (paper, default) or ``"normal"``.
    max_epochs, patience : int
        Epoch limit and plateau patience of the NELBO stop.
    min_delta_per_pixel : float
        Smallest NELBO decrease, in nats per pixel, that counts as progress.
    batch_size : int
        Patches per gradient step.
    learning_rate : float
        Adam step size.
    max_train_patches : int
        Largest random subset of patches used for training (all are encoded).
    tensorboard : bool
        Write TensorBoard logs of each DeepVAE (``stellarvae`` with a run folder); the
        per-epoch NELBO, reconstruction and KL are in ``detection.json`` either way.
    """

    latent_dim: int = 2
    prior: str = "mog"
    max_epochs: int = 25
    patience: int = 3
    min_delta_per_pixel: float = 1e-3
    batch_size: int = 128
    learning_rate: float = 1e-3
    max_train_patches: int = 2000
    tensorboard: bool = True


def training_subset(n_patches, limit, seed):
    """Sorted indices of at most ``limit`` patches, chosen at random with ``seed``."""
    if n_patches <= limit:
        return np.arange(n_patches)
    return np.sort(np.random.default_rng(seed).choice(n_patches, size=limit, replace=False))


def train_vae(x, options, seed, log_dir=None):
    """Fit a :class:`DeepVAE` on flattened patches until the NELBO plateaus.

    Parameters
    ----------
    x : ndarray, float32, shape (N, D)
        Patches in [0, 1].
    options : TrainingOptions
    seed : int
        Seeds TensorFlow, NumPy and Python (weights, subset, shuffling, sampling).
    log_dir : path, optional
        TensorBoard log directory for this patch size.

    Returns
    -------
    model : DeepVAE
    history : dict
        Per-epoch ``nelbo``, ``reconstruction`` and ``kl``.
    """
    tf_keras.utils.set_random_seed(seed)
    subset = x[training_subset(len(x), options.max_train_patches, seed)]
    model = DeepVAE(x.shape[1], latent_dim=options.latent_dim, prior=options.prior,
                    name=f"deep_vae_{x.shape[1]}px")
    model.compile(optimizer=tf_keras.optimizers.Adam(options.learning_rate))
    # Weights and optimizer slots made now, not inside the first training step: a step that
    # creates variables is traced twice, and tracing is most of a small fit's time. The
    # weights are the same either way (same seed, same order of creation).
    model.build((None, x.shape[1]))
    model.optimizer.build(model.trainable_variables)
    callbacks = [tf_keras.callbacks.EarlyStopping(
        monitor="nelbo", mode="min", patience=options.patience,
        min_delta=options.min_delta_per_pixel * x.shape[1])]
    if log_dir is not None:
        callbacks.append(tf_keras.callbacks.TensorBoard(
            log_dir=str(log_dir), write_graph=False, profile_batch=0))
    history = model.fit(subset, epochs=options.max_epochs, batch_size=options.batch_size,
                        shuffle=True, verbose=0, callbacks=callbacks)
    return model, {key: [float(v) for v in values] for key, values in history.history.items()}


def encode_patches(model, x, batch_size=2048):
    """Latent (z_mu, z_sigma) of every patch, with z_sigma = exp(log sigma^2 / 2).

    Returns
    -------
    z_mu, z_sigma : ndarray, float32, shape (N, latent_dim)
    """
    mus, sigmas = [], []
    for start in range(0, len(x), batch_size):
        mu, log_var = model.encode(tf.convert_to_tensor(x[start:start + batch_size]))
        mus.append(mu.numpy())
        sigmas.append(np.exp(0.5 * log_var.numpy()))
    return np.concatenate(mus).astype(np.float32), np.concatenate(sigmas).astype(np.float32)
