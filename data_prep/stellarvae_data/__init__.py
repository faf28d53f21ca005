"""StellarVAE's inputs (StellarVAE §II, §IV): K-band fields (image, WCS, catalogue stars) from
2MASS, UKIDSS or the simulator, and the image patches of four sizes the VAE learns from."""
