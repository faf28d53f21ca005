"""Two-component Gaussian mixture on the latent space: cluster or background (StellarVAE §III-E).

The paper fits a GMM by EM to the latent features of all patches, starting from equal class
probabilities p(c) = 1/2, re-initialising when a class probability is low or the class means
are very similar, and labels each patch with argmax_c p(c | z). Here:

* features = concat(z_mu, z_sigma) per patch;
* scikit-learn ``GaussianMixture`` (full covariances, ``weights_init = 1/2``, means drawn from
  the data with the attempt's seed);
* restart rule: an attempt is rejected when its smallest weight is below ``min_weight``
  (default 0.02) or when its two means lie closer than ``min_separation`` (default 0.1) times
  the RMS spread of the features; the next attempt uses seed + 1, up to ``max_attempts``.
  If every attempt is rejected, the last one is kept and ``accepted`` is False.

Which component is the cluster (:func:`cluster_component`): the paper detects from images only,
so the rule uses image content. A star cluster is a concentration of stars (and, in the IRAS
fields, of nebulosity), so the component whose patches are brighter on average -- higher mean
scaled pixel value -- is the cluster. When both are equally bright the smaller component (a
cluster covers less sky than the background) is the cluster.
"""
from dataclasses import dataclass

import numpy as np
from sklearn.mixture import GaussianMixture


@dataclass
class LatentMixture:
    """A fitted mixture and how it was reached.

    Attributes
    ----------
    gmm : sklearn.mixture.GaussianMixture
    attempts : int
        EM runs made (1 when the first was accepted).
    accepted : bool
        False when every attempt broke the restart rule.
    """

    gmm: GaussianMixture
    attempts: int
    accepted: bool

    def labels(self, features):
        """argmax_c p(c | z) for each row of ``features``."""
        return self.gmm.predict(features)


def latent_features(z_mu, z_sigma):
    """The GMM input: concat(z_mu, z_sigma), shape (N, 2 * latent_dim)."""
    return np.concatenate([z_mu, z_sigma], axis=1).astype(np.float64)


def mean_separation(gmm, features):
    """Distance between the two component means in units of the features' RMS spread."""
    spread = np.sqrt(np.mean(np.var(features, axis=0))) or 1.0
    return float(np.linalg.norm(gmm.means_[0] - gmm.means_[1]) / spread)


def needs_restart(gmm, features, min_weight=0.02, min_separation=0.1):
    """The paper's re-initialisation test: a tiny class weight or nearly equal means."""
    return bool(gmm.weights_.min() < min_weight
                or mean_separation(gmm, features) < min_separation)


def fit_latent_gmm(features, seed, min_separation=0.1, max_attempts=10):
    """Fit the two-component GMM with the restart rule (module docstring).

    Parameters
    ----------
    features : ndarray, shape (N, F)
        One row per patch (:func:`latent_features`).
    seed : int
        Seed of the first attempt; attempt k uses ``seed + k``.

    Returns
    -------
    LatentMixture
    """
    for attempt in range(max_attempts):
        gmm = GaussianMixture(n_components=2, covariance_type="full",
                              weights_init=[0.5, 0.5], init_params="random_from_data",
                              reg_covar=1e-6, max_iter=200, random_state=seed + attempt)
        gmm.fit(features)
        if not needs_restart(gmm, features, min_separation=min_separation):
            return LatentMixture(gmm=gmm, attempts=attempt + 1, accepted=True)
    return LatentMixture(gmm=gmm, attempts=max_attempts, accepted=False)


def cluster_component(labels, patch_brightness):
    """Which GMM component holds the cluster patches (rule in the module docstring).

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
        GMM component (0 or 1) of each patch.
    patch_brightness : ndarray, shape (N,)
        Mean scaled pixel value of each patch.

    Returns
    -------
    int
        0 or 1.
    """
    means = []
    counts = []
    for component in (0, 1):
        members = labels == component
        counts.append(int(members.sum()))
        means.append(float(patch_brightness[members].mean()) if members.any() else -np.inf)
    if np.isclose(means[0], means[1]):
        return int(np.argmin(counts))
    return int(np.argmax(means))
