"""A Celery worker loads the model when it starts, not when its first recording arrives."""

from detection import engine, tasks


def test_worker_start_loads_and_runs_the_engine(monkeypatch):
    calls = []

    class FakeEngine:
        def analyze(self, samples):
            calls.append(len(samples))

    monkeypatch.setattr(engine, "get_engine", lambda: FakeEngine())

    tasks.warm_up_detector()

    assert calls == [16000]


def test_worker_start_survives_a_missing_model(monkeypatch, caplog):
    def missing():
        raise engine.ModelError("no model at /nowhere.onnx")

    monkeypatch.setattr(engine, "get_engine", missing)

    tasks.warm_up_detector()

    assert "no model at /nowhere.onnx" in caplog.text
