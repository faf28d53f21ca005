"""What every stage of both cluster finders shares: user-facing errors, atomic files, the
command-line dispatcher, the papers' cosmology, and TensorFlow's environment."""
