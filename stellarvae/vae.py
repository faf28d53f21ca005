"""The DeepVAE of StellarVAE §III-IV: dense encoder, reparameterisation, Bernoulli decoder.

* Encoder (§III-B, §IV): dense 1024 -> 256 -> 32 (ReLU; the paper does not name the
  activation), then two dense heads for mu and log sigma^2 of q(z|x) = N(mu, diag sigma^2)
  (eq. 3).
* :class:`KLDivergenceLayer` (Fig. 2): the auxiliary layer that computes KL[q(z|x) || p(z)],
  adds it to the model's losses and passes its inputs through unchanged. The prior is
  ``"mog"`` (default, as the paper assumes): a learnable two-component mixture of diagonal
  Gaussians built with TensorFlow Probability, whose KL has no closed form and is estimated by
  Monte Carlo with one sample z ~ q, log q(z|x) - log p(z); or ``"normal"``: N(0, I) with the
  closed form of eq. 6.
* :class:`Reparameterisation` (eqs. 7-8): z = mu + sigma * eps, eps ~ N(0, I).
* Decoder (§III-A, eq. 2): the mirror image, dense 32 -> 256 -> 1024, then a dense layer whose
  logistic sigmoid gives the Bernoulli means of the pixels.

:class:`DeepVAE` minimises the negative ELBO (eq. 5) = Bernoulli reconstruction NLL (summed over
pixels) + KL, both averaged over the batch, and reports ``nelbo``, ``reconstruction`` and
``kl`` as training metrics (they reach TensorBoard through the Keras callback).
"""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

tfd = tfp.distributions

PRIORS = ("mog", "normal")
HIDDEN_UNITS = (1024, 256, 32)


class KLDivergenceLayer(tf_keras.layers.Layer):
    """Auxiliary layer: adds the batch-mean KL[q(z|x) || p(z)] to the model's losses.

    Call it on ``[mu, log_var]``; it returns the same two tensors unchanged.

    Parameters
    ----------
    latent_dim : int
        Size of z.
    prior : {"mog", "normal"}
        ``"mog"``: learnable mixture of ``n_components`` diagonal Gaussians (TFP
        ``MixtureSameFamily``), KL estimated by Monte Carlo with one sample. ``"normal"``:
        N(0, I), closed form (eq. 6).
    n_components : int
        Mixture components of the ``"mog"`` prior (2: cluster and background, §III-E).
    """

    def __init__(self, latent_dim, prior="mog", n_components=2, **kwargs):
        super().__init__(**kwargs)
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, not {prior!r}")
        self.latent_dim = int(latent_dim)
        self.prior = prior
        self.n_components = int(n_components)

    def build(self, input_shape):
        if self.prior == "mog":
            # Components start apart, at -1 and +1 on every axis (then -1/3, +1/3, ... for
            # more than two), equally weighted, with unit scales.
            starts = np.linspace(-1.0, 1.0, self.n_components)[:, None]
            locs = np.repeat(starts, self.latent_dim, axis=1).astype("float32")
            self.mixture_logits = self.add_weight(
                name="mixture_logits", shape=(self.n_components,), initializer="zeros")
            self.component_locs = self.add_weight(
                name="component_locs", shape=locs.shape,
                initializer=tf_keras.initializers.Constant(locs))
            self.component_raw_scales = self.add_weight(
                name="component_raw_scales", shape=locs.shape,
                initializer=tf_keras.initializers.Constant(np.log(np.expm1(1.0))))
        super().build(input_shape)

    def prior_distribution(self):
        """p(z) as a TFP distribution over vectors of size ``latent_dim``."""
        if self.prior == "normal":
            return tfd.MultivariateNormalDiag(loc=tf.zeros(self.latent_dim))
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(logits=self.mixture_logits),
            components_distribution=tfd.MultivariateNormalDiag(
                loc=self.component_locs,
                scale_diag=tf.nn.softplus(self.component_raw_scales) + 1e-4))

    def kl_divergence(self, mu, log_var):
        """KL[q(z|x) || p(z)] per example, shape (batch,)."""
        sigma = tf.exp(0.5 * log_var)
        posterior = tfd.MultivariateNormalDiag(loc=mu, scale_diag=sigma)
        if self.prior == "normal":  # closed form (eq. 6)
            return tfd.kl_divergence(posterior, self.prior_distribution())
        z = mu + sigma * tf.random.normal(tf.shape(mu))
        return posterior.log_prob(z) - self.prior_distribution().log_prob(z)

    def call(self, inputs):
        mu, log_var = inputs
        self.add_loss(tf.reduce_mean(self.kl_divergence(mu, log_var)))
        return inputs

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "prior": self.prior,
                "n_components": self.n_components}


class Reparameterisation(tf_keras.layers.Layer):
    """z = mu + exp(log_var / 2) * eps with eps ~ N(0, I) (eqs. 7-8)."""

    def call(self, inputs):
        mu, log_var = inputs
        return mu + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mu))


def dense_stack(units, name):
    """ReLU dense layers of the given widths, as one Sequential block."""
    return tf_keras.Sequential(
        [tf_keras.layers.Dense(n, activation="relu", name=f"{name}_dense{i}")
         for i, n in enumerate(units)], name=name)


class DeepVAE(tf_keras.Model):
    """One DeepVAE for flattened patches of ``input_dim`` pixels in [0, 1] (Figs. 2-3).

    Parameters
    ----------
    input_dim : int
        Pixels per patch (size * size).
    latent_dim : int
        Size of z (the paper's Fig. 4 plots 2).
    prior : {"mog", "normal"}
        Prior of the :class:`KLDivergenceLayer`.
    """

    def __init__(self, input_dim, latent_dim=2, prior="mog", **kwargs):
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.latent_dim = int(latent_dim)
        self.encoder_body = dense_stack(HIDDEN_UNITS, "encoder")
        self.z_mean = tf_keras.layers.Dense(latent_dim, name="z_mean")
        self.z_log_var = tf_keras.layers.Dense(latent_dim, name="z_log_var")
        self.kl_layer = KLDivergenceLayer(latent_dim, prior=prior, name="kl_divergence")
        self.reparameterise = Reparameterisation(name="reparameterisation")
        self.decoder_body = dense_stack(HIDDEN_UNITS[::-1], "decoder")
        self.pixel_logits = tf_keras.layers.Dense(input_dim, name="pixel_logits")
        self.trackers = {name: tf_keras.metrics.Mean(name=name)
                         for name in ("nelbo", "reconstruction", "kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def encode(self, x):
        """mu and log sigma^2 of q(z|x), each (batch, latent_dim)."""
        hidden = self.encoder_body(x)
        return self.z_mean(hidden), self.z_log_var(hidden)

    def decode_logits(self, z):
        """Logits of the Bernoulli pixel means p(x|z) (eq. 2 before the sigmoid)."""
        return self.pixel_logits(self.decoder_body(z))

    def call(self, x, training=None):
        """Reconstructed patches (Bernoulli means); the KL term goes to ``self.losses``."""
        return tf.sigmoid(self.nelbo_parts(x)[0])

    def nelbo_parts(self, x):
        """Pixel logits and per-example reconstruction NLL; KL is added to ``self.losses``."""
        mu, log_var = self.kl_layer(self.encode(x))
        logits = self.decode_logits(self.reparameterise([mu, log_var]))
        nll = tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)
        return logits, nll

    def train_step(self, x):
        with tf.GradientTape() as tape:
            _, nll = self.nelbo_parts(x)
            reconstruction = tf.reduce_mean(nll)
            kl = tf.add_n(self.losses)
            nelbo = reconstruction + kl
        gradients = tape.gradient(nelbo, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        for name, value in (("nelbo", nelbo), ("reconstruction", reconstruction), ("kl", kl)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
