"""The Faster R-CNN of Deep-CEE §2.1, one module per box of its Figure 1: the Inception-v2
feature network, grid anchors, the region proposal network, the box classifier, the forward
pass that wires them, the builder from a pipeline config, and OD API checkpoint names."""
