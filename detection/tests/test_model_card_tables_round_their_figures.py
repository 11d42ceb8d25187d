"""The model card's summary tables round every figure to three places: an AUC of 0.9457 reads 0.946, as an F1
would, not a truncated 0.945."""

from detection.training.model_card import _figures


def _report(f1: float, roc_auc: float | None) -> dict:
    return {"overall": {"f1": f1, "roc_auc": roc_auc}}


def test_auc_and_f1_are_rounded_alike():
    report = {"clean": _report(0.78725, 0.96539), "all": _report(0.90493, 0.94572)}

    assert _figures(report) == "0.787 / 0.965 | 0.905 / 0.946"


def test_a_missing_auc_reads_n_a():
    report = {"clean": _report(0.5, None), "all": _report(0.9996, 0.99951)}

    assert _figures(report) == "0.500 / n/a | 1.000 / 1.000"
