"""Metric code against the paper: every row of Tables 2 and 3 from their TP / FP / FN counts,
eq. 8, and the KS critical value of §3.1."""
import numpy as np
import pytest

from deepcee.evaluation import metrics

# Deep-CEE Table 2 (test set): threshold %, TP, FP, FN, precision, recall, F1 (as printed).
TABLE_2 = [
    (0, 203, 60997, 1, 0.003317, 0.9951, 0.006612),
    (10, 198, 538, 6, 0.2690, 0.9706, 0.4213),
    (20, 197, 391, 7, 0.3350, 0.9657, 0.4975),
    (30, 193, 302, 11, 0.3899, 0.9461, 0.5522),
    (40, 191, 243, 13, 0.4401, 0.9363, 0.5987),
    (50, 188, 202, 16, 0.4821, 0.9216, 0.6330),
    (60, 181, 163, 23, 0.5262, 0.8873, 0.6606),
    (70, 177, 119, 27, 0.5980, 0.8676, 0.7080),
    (80, 165, 72, 39, 0.6962, 0.8088, 0.7483),
    (90, 136, 29, 68, 0.8242, 0.6667, 0.7371),
    (100, 0, 0, 204, 0.00, 0.00, 0.00),
]
# Deep-CEE Table 3 (redMaPPer set).
TABLE_3 = [
    (0, 30, 9270, 1, 0.003226, 0.9677, 0.006430),
    (10, 29, 50, 2, 0.3671, 0.9355, 0.5273),
    (20, 29, 29, 2, 0.50, 0.9355, 0.6517),
    (30, 29, 23, 2, 0.5577, 0.9355, 0.6988),
    (40, 28, 18, 3, 0.6087, 0.9032, 0.7273),
    (50, 28, 14, 3, 0.6667, 0.9032, 0.7671),
    (60, 28, 11, 3, 0.7179, 0.9032, 0.80),
    (70, 27, 8, 4, 0.7714, 0.8710, 0.8182),
    (80, 23, 4, 8, 0.8519, 0.7419, 0.7931),
    (90, 17, 0, 14, 1.00, 0.5484, 0.7083),
    (100, 0, 0, 31, 0.00, 0.00, 0.00),
]


@pytest.mark.parametrize("paper, best_percent, best_f1", [(TABLE_2, 80, 0.7483),
                                                          (TABLE_3, 70, 0.8182)])
def test_tables_2_and_3_reproduced_to_4_decimals(paper, best_percent, best_f1):
    rows = np.array(paper)
    table = metrics.threshold_table(rows[:, 1], rows[:, 2], rows[:, 3])
    assert list(table["threshold_percent"]) == list(rows[:, 0].astype(int))
    for column, index in (("precision", 4), ("recall", 5), ("f1", 6)):
        np.testing.assert_array_equal(np.round(table[column], 4), np.round(rows[:, index], 4),
                                      err_msg=column)
    best = metrics.best_f1_row(table)
    assert table["threshold_percent"][best] == best_percent
    assert round(float(table["f1"][best]), 4) == best_f1


def test_small_ratios_match_the_papers_significant_figures():
    precision, recall, f1 = metrics.precision_recall_f1(203, 60997, 1)
    assert f"{precision:.4g}" == "0.003317" and f"{f1:.4g}" == "0.006612"
    precision, recall, f1 = metrics.precision_recall_f1(30, 9270, 1)
    assert f"{precision:.4g}" == "0.003226" and f"{f1:.4g}" == "0.00643"


def test_zero_counts_give_zero_ratios_not_nan():
    assert metrics.precision_recall_f1(0, 0, 0) == (0.0, 0.0, 0.0)


def test_markdown_marks_the_best_row():
    rows = np.array(TABLE_2)
    text = metrics.table_markdown(metrics.threshold_table(rows[:, 1], rows[:, 2], rows[:, 3]))
    assert "| **80** | **165** | **72** | **39** | **0.6962** | **0.8088** | **0.7483** |" in text
    assert "| 100 | 0 | 0 | 204 | 0.0000 | 0.0000 | 0.0000 |" in text


def test_standard_error_of_regression_is_eq_8():
    assert metrics.standard_error_of_regression([3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    assert metrics.standard_error_of_regression([10.0]) == 10.0
    assert np.isnan(metrics.standard_error_of_regression([]))


def test_ks_critical_value_reproduces_the_paper():
    # Paper §3.1: 0.1281 at alpha = 0.05 for 204 test clusters, 165 returned at 80 %:
    # that is the one-sided c(alpha) = sqrt(-ln(alpha) / 2) = 1.224.
    assert round(metrics.ks_critical_value(204, 165, 0.05, two_sided=False), 4) == 0.1281
    assert round(metrics.ks_critical_value(204, 165, 0.05), 4) == 0.1422
    assert metrics.ks_critical_value(1, 1, 0.05) == pytest.approx(1.358 * np.sqrt(2), 1e-3)


def test_ks_tests_use_scipy_and_flag_different_samples():
    rng = np.random.default_rng(0)
    same = rng.normal(size=300)
    results = metrics.ks_tests({"z": same[:150], "shift": same[:150] + 3.0},
                               {"z": same, "shift": same})
    assert not results["z"]["reject_null"]
    assert results["shift"]["reject_null"] and results["shift"]["statistic"] > 0.9
    assert results["z"]["n_returned"] == 150 and results["z"]["n_all"] == 300
