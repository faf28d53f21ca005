"""StellarVAE: unsupervised star-cluster detection in K-band images with a variational
autoencoder and a Gaussian mixture on its latent space (Karmakar, Mishra & Tej 2018)."""
from data_prep.base.tensorflow_env import select_tf_keras

select_tf_keras()
