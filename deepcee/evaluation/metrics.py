"""Detection metrics of Deep-CEE §3: precision / recall / F1 over confidence thresholds
(eqs. 5-7, Tables 2 and 3), the standard error of regression of the centres (eq. 8) and the
two-sample Kolmogorov-Smirnov tests of the returned clusters' properties.

Definitions chosen here (the paper leaves them implicit):

- A box counts at threshold ``t`` when its score is strictly greater than ``t`` (the paper:
  "score greater than the confidence score threshold"). At 100 % nothing counts, even a
  float32 softmax that saturates to exactly 1.0, as in the paper's 100 % rows.
- Precision with TP + FP = 0, recall with TP + FN = 0 and F1 with P + R = 0 are 0.0: the
  paper's 100 % rows print ``0.00`` for all three.
- The best threshold is the one with the largest F1; ties go to the lowest threshold.
"""
import math

import numpy as np
from astropy.table import Table
from scipy import stats

from data_prep.base.errors import InputError

THRESHOLDS = np.round(np.arange(11) / 10.0, 1)
"""The paper's eleven confidence thresholds, 0 to 100 % in steps of 10 % (as fractions)."""


def check_threshold(threshold):
    """Raise InputError unless a ``--threshold`` is a score in [0, 1]."""
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"--threshold {threshold} is not a score in [0, 1]")


def _ratio(numerator, denominator):
    numerator = np.asarray(numerator, float)
    denominator = np.asarray(denominator, float)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def precision_recall_f1(tp, fp, fn):
    """Precision (eq. 5), recall (eq. 6) and F1 (eq. 7) from counts; arrays broadcast.

    Undefined ratios (0 / 0) are 0.0, as the paper's 100 % rows report them.
    """
    precision = _ratio(tp, np.add(tp, fp))
    recall = _ratio(tp, np.add(tp, fn))
    f1 = _ratio(2.0 * precision * recall, precision + recall)
    return precision, recall, f1


def threshold_table(tp, fp, fn, thresholds=THRESHOLDS):
    """The Table 2 / Table 3 layout: one row per threshold.

    Columns ``threshold`` (fraction), ``threshold_percent``, ``tp``, ``fp``, ``fn``,
    ``precision``, ``recall``, ``f1``.
    """
    tp, fp, fn = (np.asarray(a, np.int64) for a in (tp, fp, fn))
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    thresholds = np.asarray(thresholds, float)
    table = Table({"threshold": thresholds,
                   "threshold_percent": np.round(thresholds * 100).astype(int),
                   "tp": tp, "fp": fp, "fn": fn,
                   "precision": precision, "recall": recall, "f1": f1})
    table.meta["comments"] = [
        "Deep-CEE Tables 2/3 layout: a box counts when score > threshold; "
        "0/0 ratios are reported as 0 (paper's 100 % row)."]
    return table


def best_f1_row(table):
    """Index of the row with the largest F1 (ties: the lowest threshold)."""
    return int(np.argmax(np.asarray(table["f1"])))


def table_markdown(table):
    """The threshold table as GitHub Markdown (ratios to 4 decimals, like Tables 2 and 3)."""
    lines = ["| Threshold (%) | TP | FP | FN | Precision | Recall | F1 |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    best = best_f1_row(table)
    for index, row in enumerate(table):
        cells = [f"{row['threshold_percent']}", f"{row['tp']}", f"{row['fp']}",
                 f"{row['fn']}", f"{row['precision']:.4f}", f"{row['recall']:.4f}",
                 f"{row['f1']:.4f}"]
        if index == best:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Bold: best F1. A box counts when its score is strictly above the threshold; "
                 "0/0 ratios are shown as 0, as in the paper's 100 % rows.")
    return "\n".join(lines) + "\n"


def standard_error_of_regression(offsets):
    """Standard error of the regression of the centres, eq. 8: sqrt(sum (Y - Y')^2 / N).

    ``offsets`` are the distances |Y - Y'| between predicted and ground-truth centres (in kpc
    for the paper's 17.42 and 12.33 kpc); N is their number, as the paper writes it (no
    degrees-of-freedom correction). NaN for no offsets.
    """
    offsets = np.asarray(offsets, float)
    if offsets.size == 0:
        return float("nan")
    return float(np.sqrt(np.sum(offsets ** 2) / offsets.size))


def ks_critical_value(n, m, alpha=0.05, two_sided=True):
    """Asymptotic critical value of the two-sample KS statistic: c(alpha) sqrt((n + m) / (n m)).

    ``c(alpha) = sqrt(-ln(alpha / 2) / 2)`` for the two-sided test (1.358 at alpha = 0.05),
    ``sqrt(-ln(alpha) / 2)`` for a one-sided one (1.224 at alpha = 0.05). The paper's 0.1281
    (§3.1) is the one-sided value for n = 204 test clusters and m = 165 returned ones; the
    two-sided value for the same n, m is 0.1422.
    """
    if n <= 0 or m <= 0:
        return float("nan")
    tail = alpha / 2.0 if two_sided else alpha
    return math.sqrt(-math.log(tail) / 2.0) * math.sqrt((n + m) / (n * m))


def ks_tests(returned, reference, alpha=0.05):
    """Two-sample KS tests (``scipy.stats.ks_2samp``) of each property, §3.1 / Fig. 15.

    Parameters
    ----------
    returned, reference : dict name -> 1-D array
        The property values of the returned clusters and of all clusters (NaNs dropped).

    Returns
    -------
    dict name -> {statistic, pvalue, n_returned, n_all, critical_value (two-sided),
    critical_value_one_sided (the paper's convention), reject_null (statistic > two-sided
    critical value)}; statistic and p-value are NaN when either sample is empty.
    """
    results = {}
    for name, values in reference.items():
        all_values = np.asarray(values, float)
        all_values = all_values[np.isfinite(all_values)]
        got = np.asarray(returned[name], float)
        got = got[np.isfinite(got)]
        if got.size and all_values.size:
            test = stats.ks_2samp(got, all_values)
            statistic, pvalue = float(test.statistic), float(test.pvalue)
        else:
            statistic = pvalue = float("nan")
        critical = ks_critical_value(all_values.size, got.size, alpha)
        results[name] = {
            "statistic": statistic, "pvalue": pvalue,
            "n_returned": int(got.size), "n_all": int(all_values.size), "alpha": alpha,
            "critical_value": critical,
            "critical_value_one_sided": ks_critical_value(all_values.size, got.size, alpha,
                                                          two_sided=False),
            "reject_null": bool(statistic > critical),
        }
    return results
