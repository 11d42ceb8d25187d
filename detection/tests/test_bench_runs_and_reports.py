"""``python -m detection.bench`` measures every engine and writes its table and JSON (tiny settings)."""

import json

import pytest

from detection import bench


def test_bench_with_a_given_model_writes_table_and_json(tiny_model, tmp_path, capsys):
    out = tmp_path / "bench.json"
    options = ["--no-torch", "--runs", "20", "--seconds", "20", "--repeats", "1", "--out", str(out)]
    assert bench.main(["--model", str(tiny_model), *options]) == 0
    document = json.loads(out.read_text())
    skipped, served = document["results"]
    assert skipped == {"engine": "torch eager fp32", "skipped": "torch/torchvision not installed"}
    assert served["engine"] == "onnx fp32" and served["model_version"] == "test-tiny-1"
    assert served["latency"]["runs"] == 20 and 0 < served["latency"]["p50_ms"] <= served["latency"]["p95_ms"]
    assert [rate["hop_s"] for rate in served["throughput"]] == [0.5, 1.0]
    assert served["throughput"][0]["windows"] == 39 and served["throughput"][0]["x_realtime"] > 0
    assert document["matmul_peak_gflops"]["1"] > 0 and document["matmul_peak_gflops"]["2"] > 0
    assert document["flops_per_window"] == pytest.approx(2 * 2)  # the tiny graph's one 1x1 @ 1x2 MatMul
    table = capsys.readouterr().out
    assert "torch eager fp32 | skipped" in table and "onnx fp32" in table and ">= 300x" in table


@pytest.mark.slow
def test_flop_count_of_resnet34_window(resnet34_model):
    pytest.importorskip("onnx")
    # torchvision ResNet34 with a 1-channel stem on 64 x 51: about half the 1.02 GFLOP of 64 x 101.
    assert bench.count_flops(resnet34_model) == pytest.approx(0.545e9, rel=0.02)
