"""The Deep-CEE training / test split, made by cluster (Deep-CEE §2.2).

The paper shuffles its 1988 images (497 clusters x 4 offset copies) and splits them about
90 / 10 into 1784 training and 204 test images; split by image, copies of one cluster could
fall on both sides. Here the clusters are shuffled with the seed and split, so no cluster's
copies leak between training and test: the test fraction defaults to the paper's
204 / 1988 = 10.26 %, which gives round(0.1026 x 497) = 51 test clusters (204 images) and 446
training clusters (1784 images), the paper's counts. With two or more clusters the test split
always gets at least one.
"""
import numpy as np

TEST_FRACTION = 204 / 1988


def choose_clusters(table, n, seed):
    """``n`` rows of ``table`` chosen at random with ``seed`` (all rows if ``n`` is None),
    in the table's order."""
    if n is None or n >= len(table):
        return table
    rng = np.random.default_rng([int(seed), 1])
    return table[np.sort(rng.choice(len(table), size=int(n), replace=False))]


def split_by_cluster(table, seed, test_fraction=TEST_FRACTION):
    """Shuffle the clusters with ``seed`` and split them into training and test tables.

    Returns
    -------
    train, test : astropy.table.Table
        Disjoint row subsets of ``table`` in shuffled order; ``len(test)`` =
        ``round(test_fraction x len(table))``, at least 1 when the table has 2 or more rows.
    """
    order = np.random.default_rng([int(seed), 2]).permutation(len(table))
    n_test = int(round(test_fraction * len(table)))
    if len(table) >= 2:
        n_test = min(max(n_test, 1), len(table) - 1)
    return table[order[n_test:]], table[order[:n_test]]
