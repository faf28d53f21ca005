"""Scoring Deep-CEE as its §3 does: the 100 kpc distance rule and matching, precision / recall
/ F1 over thresholds, the evaluation of a split, figures, new-cluster candidates, and the
injection-recovery completeness."""
