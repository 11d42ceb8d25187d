"""A receiver of detection's signals that raises is logged with what the signal was about, and the
other receivers still run: a broken receiver must not keep the alerts from hearing of a scream."""

import logging

from django.dispatch import Signal

from detection.signals import send_robust_logged


def test_a_failing_receiver_is_logged_and_the_others_still_run(caplog):
    signal = Signal()
    heard = []

    def broken(sender, **kwargs):
        raise RuntimeError("channel layer unreachable")

    def working(sender, *, recording, **kwargs):
        heard.append(recording)

    signal.connect(broken, weak=False)
    signal.connect(working, weak=False)
    with caplog.at_level(logging.ERROR, logger="detection.signals"):
        send_robust_logged(signal, about="recording 12", sender=object, recording=12)

    assert heard == [12]
    (record,) = [record for record in caplog.records if record.name == "detection.signals"]
    assert "failed for recording 12" in record.getMessage()
    assert record.exc_info[1].args == ("channel layer unreachable",)
