"""Pure tensor functions of Faster R-CNN: box coding, target assignment, balanced sampling,
padded non-maximum suppression and the training losses (Deep-CEE §2.1.2-2.1.3)."""
