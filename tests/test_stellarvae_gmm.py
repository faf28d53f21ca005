"""Latent GMM of StellarVAE §III-E: restart rule and the cluster-component rule."""
import numpy as np

from stellarvae.latent_gmm import (cluster_component, fit_latent_gmm, latent_features,
                                   mean_separation, needs_restart)


class FakeGMM:
    def __init__(self, weights, means):
        self.weights_ = np.asarray(weights, float)
        self.means_ = np.asarray(means, float)


def test_restart_rule_flags_tiny_weights_and_coinciding_means():
    features = np.random.default_rng(0).normal(size=(500, 4))
    assert needs_restart(FakeGMM([0.99, 0.01], [[0, 0, 0, 0], [5, 5, 5, 5]]), features)
    assert needs_restart(FakeGMM([0.5, 0.5], [[0, 0, 0, 0], [0.01, 0, 0, 0]]), features)
    assert not needs_restart(FakeGMM([0.7, 0.3], [[0, 0, 0, 0], [2, 0, 0, 0]]), features)
    assert mean_separation(FakeGMM([0.5, 0.5], [[0, 0, 0, 0], [2, 0, 0, 0]]),
                           features) > 1.5


def test_two_separated_blobs_are_found_and_labelled():
    rng = np.random.default_rng(1)
    background = rng.normal(0.0, 0.1, size=(400, 4))
    cluster = rng.normal(1.5, 0.3, size=(60, 4))
    features = np.vstack([background, cluster])
    mixture = fit_latent_gmm(features, seed=0)
    assert mixture.accepted and mixture.attempts == 1  # a clear split needs no restart
    labels = mixture.labels(features)
    assert len(set(labels[:400])) == 1 and len(set(labels[400:])) == 1
    assert labels[0] != labels[-1]


def test_restarts_happen_and_are_reported_when_no_split_is_acceptable():
    features = np.random.default_rng(2).normal(size=(300, 2))     # one blob: weak split
    mixture = fit_latent_gmm(features, seed=0, min_separation=50.0, max_attempts=3)
    assert mixture.attempts == 3 and not mixture.accepted


def test_latent_features_concatenate_mu_and_sigma():
    z_mu = np.array([[1.0, 2.0]])
    z_sigma = np.array([[0.1, 0.2]])
    np.testing.assert_array_equal(latent_features(z_mu, z_sigma), [[1.0, 2.0, 0.1, 0.2]])


def test_cluster_is_the_brighter_component():
    labels = np.array([0, 0, 0, 1, 1, 0])
    brightness = np.array([0.1, 0.2, 0.1, 0.6, 0.8, 0.15])
    assert cluster_component(labels, brightness) == 1
    assert cluster_component(1 - labels, brightness) == 0


def test_equal_brightness_picks_the_smaller_component_and_empty_never_wins():
    labels = np.array([0, 0, 0, 1])
    assert cluster_component(labels, np.full(4, 0.3)) == 1
    assert cluster_component(np.zeros(4, int), np.full(4, 0.3)) == 0
