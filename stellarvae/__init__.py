"""StellarVAE: unsupervised star-cluster detection in K-band images with a variational
autoencoder and a Gaussian mixture on its latent space (Karmakar, Mishra & Tej 2018)."""
import data_prep  # noqa: F401  (selects tf_keras before TensorFlow is imported)
