"""DeepVAE of StellarVAE §III: the auxiliary KL layer, priors, NELBO training step."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from stellarvae.training import TrainingOptions, encode_patches, train_vae
from stellarvae.vae import DeepVAE, KLDivergenceLayer


def test_kl_layer_passes_inputs_through_and_adds_one_loss():
    layer = KLDivergenceLayer(2, prior="normal")
    mu = tf.constant([[0.5, -1.0]])
    log_var = tf.constant([[0.2, -0.3]])
    out_mu, out_log_var = layer([mu, log_var])
    np.testing.assert_array_equal(out_mu.numpy(), mu.numpy())
    np.testing.assert_array_equal(out_log_var.numpy(), log_var.numpy())
    assert len(layer.losses) == 1


def test_normal_prior_kl_is_equation_6_on_a_hand_example():
    # mu = (1, 0), sigma^2 = (1, e): KL = -1/2 [(1 + 0 - 1 - 1) + (1 + 1 - 0 - e)] = (e - 1) / 2
    mu = tf.constant([[1.0, 0.0]])
    log_var = tf.constant([[0.0, 1.0]])
    expected = (np.e - 1.0) / 2.0
    layer = KLDivergenceLayer(2, prior="normal")
    assert float(layer.kl_divergence(mu, log_var)[0]) == pytest.approx(expected, rel=1e-6)
    layer([mu, log_var])
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-6)


def test_mog_prior_kl_is_finite_and_trainable():
    tf_keras.utils.set_random_seed(0)
    layer = KLDivergenceLayer(2, prior="mog")
    mu = tf.random.normal((256, 2)) * 0.3 + 3.0          # posteriors far from both components
    log_var = tf.fill((256, 2), -2.0)
    with tf.GradientTape() as tape:
        layer([mu, log_var])
        kl = layer.losses[0]
    assert np.isfinite(float(kl))
    prior_weights = [layer.mixture_logits, layer.component_locs, layer.component_raw_scales]
    assert {w.name.split("/")[-1].split(":")[0] for w in layer.trainable_weights} == {
        "mixture_logits", "component_locs", "component_raw_scales"}
    gradients = tape.gradient(kl, prior_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in gradients)
    assert np.abs(gradients[1].numpy()).sum() > 0
    optimiser = tf_keras.optimizers.Adam(0.1)
    before = float(kl)
    for _ in range(50):
        with tf.GradientTape() as tape:
            layer([mu, log_var])
            kl = layer.losses[0]
        optimiser.apply_gradients(zip(tape.gradient(kl, prior_weights), prior_weights))
    assert float(kl) < before - 1.0                    # the prior moved towards the posteriors


def test_deep_vae_shapes_and_layer_sizes():
    model = DeepVAE(64, latent_dim=3, prior="mog")
    x = np.random.default_rng(0).random((5, 64)).astype(np.float32)
    reconstruction = model(x)
    assert reconstruction.shape == (5, 64)
    assert 0.0 <= float(tf.reduce_min(reconstruction)) and float(tf.reduce_max(reconstruction)) <= 1.0
    assert [layer.units for layer in model.encoder_body.layers] == [1024, 256, 32]
    assert [layer.units for layer in model.decoder_body.layers] == [32, 256, 1024]
    mu, log_var = model.encode(x)
    assert mu.shape == (5, 3) and log_var.shape == (5, 3)
    assert len(model.losses) == 1


def test_training_lowers_the_nelbo_and_reports_its_parts(tmp_path):
    rng = np.random.default_rng(1)
    x = (rng.random((256, 16)) < np.linspace(0.05, 0.9, 16)).astype(np.float32)
    options = TrainingOptions(max_epochs=6, patience=10, batch_size=64, prior="normal")
    model, history = train_vae(x, options, seed=3, log_dir=tmp_path / "tb")
    assert set(history) >= {"nelbo", "reconstruction", "kl"}
    assert history["nelbo"][-1] < history["nelbo"][0]
    np.testing.assert_allclose(history["nelbo"], np.add(history["reconstruction"],
                                                         history["kl"]), rtol=1e-4)
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    z_mu, z_sigma = encode_patches(model, x, batch_size=100)
    assert z_mu.shape == (256, 2) and (z_sigma > 0).all()


def test_training_is_deterministic_for_a_seed():
    x = np.random.default_rng(2).random((128, 16)).astype(np.float32)
    options = TrainingOptions(max_epochs=2, batch_size=32)
    first = encode_patches(train_vae(x, options, seed=5)[0], x)[0]
    second = encode_patches(train_vae(x, options, seed=5)[0], x)[0]
    np.testing.assert_array_equal(first, second)
