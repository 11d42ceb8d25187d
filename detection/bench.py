"""Detection speed, measured side by side in one run: ``python -m detection.bench`` (``make bench``).

For torch eager fp32 (when torch is installed) and for each ONNX model served by the engine:

- latency of one window (1 x 64 x 51) at batch 1 on one thread: p50 and p95 over ``--runs`` calls
  after a warm-up (the served engine's ``score_windows``);
- throughput in x real time for a 10-minute recording on two threads, end to end (log-mel features
  plus inference, batches of 16) at hop 0.5 s and 1.0 s; the recording is real clips of
  ``../shared/datasets/scream-dev`` end to end when that corpus is there, else synthetic;
- achieved GFLOP/s (the model's FLOPs, counted once over the ONNX graph, divided by the time) as a
  fraction of this CPU's float32 matmul peak, measured in the same run (numpy 1024 x 1024 on one
  and two threads).

Models: ``--model PATH`` (repeatable); by default the shipped model (``DETECTION_MODEL_PATH``) when
present, else a randomly initialised ResNet34 exported to a temporary folder as fp32 and as static
int8 QDQ (per-channel, calibrated on real windows of the dev corpus, else synthetic). Speed does not
depend on the weights; torch eager always runs random weights of the same architecture.

Prints a table and writes ``bench-results/detection.json`` (``--out``). Takes one to three minutes.
"""

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEV_CORPUS = REPO_ROOT.parent / "shared" / "datasets" / "scream-dev"
TARGET_WINDOW_MS = 10.0  # DESIGN §6: one window on one core
TARGET_REALTIME = 300.0  # DESIGN §6: a file on two cores
LONG_FILE_S = 600.0
THROUGHPUT_HOPS_S = (0.5, 1.0)
BATCH_SIZE = 16
TORCH_EXCERPT_S = 120.0
CALIBRATION_WINDOWS = 128


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outcry.settings")
    import django

    django.setup()


_STARTED = time.perf_counter()


def _progress(message: str) -> None:
    print(f"[bench {time.perf_counter() - _STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------- audio


def load_long_recording(seconds: float, data_dir: Path | None, seed: int = 0) -> tuple[np.ndarray, str]:
    """``seconds`` of audio at 16 kHz: real dev clips end to end when available, else synthetic."""
    from detection import features

    total = round(seconds * features.SAMPLE_RATE)
    if data_dir is not None and (data_dir / "scream").is_dir():
        from detection.audio import AudioError, decode_audio
        from detection.dataset import read_records

        records = read_records(data_dir)
        random.Random(seed).shuffle(records)
        pieces, length = [], 0
        for record in records:
            try:
                samples = decode_audio(record.path, allow_silent=True).samples
            except AudioError:
                continue
            pieces.append(samples)
            length += len(samples)
            if length >= total:
                break
        if length >= total:
            return np.concatenate(pieces)[:total], f"{len(pieces)} real clips of {data_dir} end to end"
    rng = np.random.default_rng(seed)
    time_s = np.arange(total) / features.SAMPLE_RATE
    tones = 0.1 * np.sin(2 * np.pi * (300 + 200 * np.sin(2 * np.pi * 0.1 * time_s)) * time_s)
    samples = (tones + 0.03 * rng.standard_normal(total)) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.05 * time_s) ** 2)
    return samples.astype(np.float32), "synthetic (tones and noise; no dev corpus found)"


def sample_windows(samples: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    from detection import features

    rng = np.random.default_rng(seed)
    starts = sorted(rng.integers(0, len(samples) - features.WINDOW_SAMPLES, count).tolist())
    return features.window_features(samples, starts)


# ---------------------------------------------------------------------------- models


def export_random_models(directory: Path, calibration: np.ndarray) -> list[Path]:
    """A random-weight ResNet34 exported as the training command exports it: fp32 and int8 QDQ."""
    import torch

    from detection.training.export import export_onnx, model_metadata, quantize_int8, write_metadata
    from detection.training.model import build_resnet34

    _quiet_exporter_logs()
    torch.manual_seed(0)
    _progress("exporting a random-weight ResNet34 to ONNX")
    fp32 = export_onnx(build_resnet34().eval(), directory / "resnet34-random-fp32.onnx")
    _progress(f"quantizing to int8 (static QDQ, per-channel, {len(calibration)} calibration windows)")
    int8 = quantize_int8(fp32, directory / "resnet34-random-int8.onnx", calibration)
    for path, quantization in ((fp32, "none"), (int8, "int8-qdq-per-channel")):
        write_metadata(
            path, model_metadata(model_version="random-weights-bench", threshold=0.5, quantization=quantization)
        )
    return [fp32, int8]


def export_random_resnet34(path: Path) -> Path:
    """One random-weight fp32 ResNet34 at ``path``, with serving metadata (test fixtures use it)."""
    import torch

    from detection.training.export import export_onnx, model_metadata, write_metadata
    from detection.training.model import build_resnet34

    _quiet_exporter_logs()
    torch.manual_seed(0)
    export_onnx(build_resnet34().eval(), path)
    write_metadata(path, model_metadata(model_version="random-weights-test", threshold=0.5, quantization="none"))
    return path


def _quiet_exporter_logs() -> None:
    """torch.onnx's dynamo exporter logs every optimisation pass at INFO."""
    for name in ("onnxscript", "onnx_ir", "torch.onnx"):
        logging.getLogger(name).setLevel(logging.WARNING)


def count_flops(model_path: Path) -> float | None:
    """FLOPs of one window through the graph: 2 x multiply-adds of Conv, Gemm and MatMul nodes.

    Works on fp32 and QDQ graphs (weights behind DequantizeLinear); None without the onnx package.
    """
    try:
        import onnx
        from onnx import shape_inference
    except ImportError:
        return None
    from detection import features

    model = onnx.load(str(model_path))
    for dim, size in zip(model.graph.input[0].type.tensor_type.shape.dim, (1, *features.FEATURE_SHAPE), strict=False):
        dim.ClearField("dim_param")
        dim.dim_value = size
    model = shape_inference.infer_shapes(model)
    shapes = {
        info.name: [dim.dim_value for dim in info.type.tensor_type.shape.dim]
        for info in [*model.graph.value_info, *model.graph.output, *model.graph.input]
    }
    shapes.update({tensor.name: list(tensor.dims) for tensor in model.graph.initializer})
    producers = {output: node for node in model.graph.node for output in node.output}

    def weight_shape(name: str) -> list[int] | None:
        node = producers.get(name)
        while node is not None and node.op_type in {"DequantizeLinear", "Identity", "Transpose"} and name not in shapes:
            name = node.input[0]
            node = producers.get(name)
        return shapes.get(name)

    flops = 0.0
    for node in model.graph.node:
        if node.op_type == "Conv":
            weight, output = weight_shape(node.input[1]), shapes.get(node.output[0])
            if weight and output and len(output) == 4:
                flops += 2.0 * np.prod(output[1:]) * np.prod(weight[1:])
        elif node.op_type in {"Gemm", "MatMul"}:
            # Batch is 1: (M x K) times a K x N weight costs 2 x M x K x N, whichever way the weight is stored.
            left, right = shapes.get(node.input[0]) or weight_shape(node.input[0]), weight_shape(node.input[1])
            if left and right and len(right) == 2:
                flops += 2.0 * np.prod(left[:-1]) * np.prod(right)
    return flops or None


# ---------------------------------------------------------------------------- measurements


def matmul_peak_gflops(threads: int, *, size: int = 1024, repeats: int = 12) -> float:
    """Best float32 matmul speed of numpy's BLAS on ``threads`` threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((size, size), np.float32), rng.standard_normal((size, size), np.float32)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        left @ right  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            left @ right
            best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def latency_ms(score_one: Callable[[np.ndarray], object], window: np.ndarray, runs: int) -> dict[str, float]:
    for _ in range(max(10, runs // 10)):
        score_one(window)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        score_one(window)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "runs": runs,
    }


def throughput(analyze: Callable[[np.ndarray, float], int], samples: np.ndarray, hop_s: float, repeats: int) -> dict:
    """Best of ``repeats`` end-to-end runs over ``samples``; ``analyze`` returns how many windows it scored."""
    from detection import features

    seconds = []
    windows = 0
    for _ in range(repeats):
        start = time.perf_counter()
        windows = analyze(samples, hop_s)
        seconds.append(time.perf_counter() - start)
    audio_s = len(samples) / features.SAMPLE_RATE
    return {
        "hop_s": hop_s,
        "windows": windows,
        "seconds": min(seconds),
        "all_seconds": seconds,
        "x_realtime": audio_s / min(seconds),
    }


def ensemble_size(model_path: Path) -> int:
    """How many ResNet34s the served graph runs: its members (``detection.training.ensemble``), else one."""
    import onnxruntime as ort

    from detection.engine import read_model_metadata

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    return max(1, len(read_model_metadata(session, model_path).get("members") or []))


def torch_eager(samples: np.ndarray, window: np.ndarray, runs: int, repeats: int, *, members: int = 1) -> dict:
    """Torch eager fp32 with random weights; ``members`` ResNet34s averaged, as the served ensemble does."""
    import torch

    from detection import features
    from detection.engine import validate_hop
    from detection.training.model import build_resnet34

    torch.manual_seed(0)
    models = [build_resnet34().eval() for _ in range(members)]

    def score(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            features_batch = torch.from_numpy(batch)
            probabilities = sum(torch.softmax(model(features_batch), dim=1) for model in models) / len(models)
            return probabilities[:, 1].numpy()

    def analyze(signal: np.ndarray, hop_s: float) -> int:
        starts = features.window_starts(len(signal), hop_samples=validate_hop(hop_s))
        for first in range(0, len(starts), 256):
            windows = features.window_features(signal, starts[first : first + 256])
            for batch_start in range(0, len(windows), BATCH_SIZE):
                score(windows[batch_start : batch_start + BATCH_SIZE])
        return len(starts)

    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        latency = latency_ms(score, window[None], runs)
        torch.set_num_threads(2)
        # Eager torch is the slow baseline: an excerpt, once, gives its rate without minutes of waiting.
        excerpt = samples[: round(TORCH_EXCERPT_S * features.SAMPLE_RATE)]
        rates = [throughput(analyze, excerpt, hop_s, 1) for hop_s in THROUGHPUT_HOPS_S]
    finally:
        torch.set_num_threads(previous)
    return {
        "engine": "torch eager fp32" if members == 1 else f"torch eager fp32 ({members} ResNet34s averaged)",
        "latency": latency,
        "throughput": rates,
        "throughput_audio_s": len(excerpt) / features.SAMPLE_RATE,
    }


def onnx_engine(model_path: Path, samples: np.ndarray, window: np.ndarray, runs: int, repeats: int) -> dict:
    from detection.engine import DetectorEngine

    single = DetectorEngine(model_path, intra_op_threads=1)
    latency = latency_ms(lambda batch: single.score_windows(batch, batch_size=1), window[None], runs)
    double = DetectorEngine(model_path, intra_op_threads=2)
    rates = [
        throughput(
            lambda signal, hop_s: len(double.analyze(signal, hop_s=hop_s, batch_size=BATCH_SIZE).scores),
            samples,
            hop_s,
            repeats,
        )
        for hop_s in THROUGHPUT_HOPS_S
    ]
    quantization = str(single.metadata.get("quantization", "unknown"))
    label = "onnx int8" if "int8" in quantization else "onnx fp32" if quantization == "none" else f"onnx {quantization}"
    return {
        "engine": label,
        "model_path": str(model_path),
        "model_version": single.model_version,
        "quantization": quantization,
        "size_mb": model_path.stat().st_size / 1e6,
        "latency": latency,
        "throughput": rates,
    }


# ---------------------------------------------------------------------------- report


def add_derived(row: dict, flops: float | None, peaks: dict[int, float], baseline: dict | None) -> None:
    if flops:
        row["latency"]["gflops"] = flops / (row["latency"]["p50_ms"] / 1000) / 1e9
        row["latency"]["fraction_of_peak"] = row["latency"]["gflops"] / peaks[1]
        for rate in row["throughput"]:
            rate["gflops"] = flops * rate["windows"] / rate["seconds"] / 1e9
            rate["fraction_of_peak"] = rate["gflops"] / peaks[2]
    if baseline is not None:
        row["speedup_vs_torch"] = {
            "latency": baseline["latency"]["p50_ms"] / row["latency"]["p50_ms"],
            "throughput": row["throughput"][0]["x_realtime"] / baseline["throughput"][0]["x_realtime"],
        }


def _gflops(part: dict) -> str:
    return f"{part['gflops']:.0f} ({part['fraction_of_peak']:.0%})" if "gflops" in part else "n/a"


def format_table(document: dict) -> str:
    peaks = document["matmul_peak_gflops"]
    flops = document["flops_per_window"]
    shape = " x ".join(map(str, document["window_shape"]))
    lines = [
        f"Detection benchmark: ResNet34, one {shape} window"
        + (f" = {flops / 1e9:.2f} GFLOP" if flops else " (FLOPs not counted: no onnx package)"),
        f"CPU: {document['cpu']}, {document['cpus']} cores; float32 matmul peak "
        f"{peaks['1']:.0f} GFLOP/s on 1 thread, {peaks['2']:.0f} on 2 (measured now)",
        f"Load average at start: {document['load_average_at_start']} (other work on the machine slows every row)",
        f"Recording: {document['recording_s'] / 60:.0f} min, {document['recording']}",
        f"Models: {document['models']}",
        f"Latency: batch 1, 1 thread, {document['runs']} runs after warm-up. Throughput: 2 threads, batch "
        f"{document['batch_size']}, features + inference end to end, best of {document['repeats']} runs.",
        "",
        f"{'engine':17s}|{'p50':>11s}{'p95':>11s}{'GFLOP/s 1t':>13s} |"
        f"{'hop 0.5':>10s}{'hop 1.0':>10s}{'GFLOP/s 2t':>13s} |{'vs torch (lat/thr)':>19s}",
    ]
    lines.insert(-1, f"{'':17s}|{'latency, batch 1, 1 thread':^35s} |{'x real time, 2 threads':^33s} |")
    lines.append("-" * len(lines[-1]))
    lines.append(
        f"{'target':17s}|{'<= ' + format(TARGET_WINDOW_MS, 'g') + ' ms':>11s}{'':11s}{'':13s} |"
        f"{'>= ' + format(TARGET_REALTIME, 'g') + 'x':>10s}{'':10s}{'':13s} |{'':19s}"
    )
    for row in document["results"]:
        if row.get("skipped"):
            lines.append(f"{row['engine']:17s}| skipped: {row['skipped']}")
            continue
        latency, (half, full) = row["latency"], row["throughput"]
        speedup = row.get("speedup_vs_torch")
        if speedup:
            ratio = f"{speedup['latency']:.1f}x / {speedup['throughput']:.1f}x"
        else:
            ratio = "1.0x / 1.0x" if row["engine"].startswith("torch") else "n/a"
        latency_mark = " " if latency["p50_ms"] <= TARGET_WINDOW_MS else "!"
        rate_mark = " " if half["x_realtime"] >= TARGET_REALTIME else "!"
        lines.append(
            f"{row['engine']:17s}|{latency['p50_ms']:7.2f} ms{latency_mark}{latency['p95_ms']:8.2f} ms"
            f"{_gflops(latency):>13s} |{half['x_realtime']:8.0f}x{rate_mark}{full['x_realtime']:9.0f}x"
            f"{_gflops(half):>13s} |{ratio:>19s}"
        )
    lines += [
        "",
        "! misses the target. GFLOP/s: the model's FLOPs per second (% of the matmul peak on as many threads);",
        "for int8 it is fp32-equivalent work. 2t is at hop 0.5, feature time included. vs torch: p50 latency",
        f"and hop-0.5 throughput ratios (torch throughput measured on the first {TORCH_EXCERPT_S:g} s, once).",
    ]
    return "\n".join(lines)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(
    *,
    models: list[Path],
    data_dir: Path | None,
    out: Path | None,
    runs: int,
    long_s: float,
    repeats: int,
    with_torch: bool,
) -> dict:
    from django.conf import settings

    from detection import features

    started = time.perf_counter()
    load_at_start = round(os.getloadavg()[0], 1)
    _progress(f"loading a {long_s / 60:g}-minute recording")
    samples, recording = load_long_recording(long_s, data_dir)
    windows = sample_windows(samples, CALIBRATION_WINDOWS)
    _progress("measuring the float32 matmul peak")
    peaks = {threads: matmul_peak_gflops(threads) for threads in (1, 2)}
    torch_ok = with_torch and _torch_available()

    with ExitStack() as stack:
        model_note = "given on the command line"
        if not models:
            shipped = Path(settings.DETECTION_MODEL_PATH)
            if shipped.is_file():
                models, model_note = [shipped], "the shipped model"
            elif torch_ok:
                scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="outcry-bench-")))
                models = export_random_models(scratch, windows)
                model_note = "random-weight ResNet34 (no shipped model yet), int8 calibrated on these windows"
            else:
                raise SystemExit("No model to benchmark: no shipped model and no torch to export one (--model PATH).")
        flops = count_flops(models[0])
        results = []
        baseline = None
        if torch_ok:
            _progress("torch eager fp32")
            # Like for like: as many ResNet34s as the first served model runs.
            baseline = torch_eager(samples, windows[0], runs, repeats, members=ensemble_size(models[0]))
            add_derived(baseline, flops, peaks, None)
            results.append(baseline)
        else:
            results.append({"engine": "torch eager fp32", "skipped": "torch/torchvision not installed"})
        for path in models:
            _progress(f"ONNX Runtime: {path.name}")
            row = onnx_engine(path, samples, windows[0], runs, repeats)
            add_derived(row, flops, peaks, baseline)
            results.append(row)

    document = {
        "benchmark": "detection",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "python": platform.python_version(),
        "window_shape": list(features.FEATURE_SHAPE),
        "flops_per_window": flops,
        "matmul_peak_gflops": {str(threads): value for threads, value in peaks.items()},
        "recording": recording,
        "recording_s": len(samples) / features.SAMPLE_RATE,
        "models": model_note,
        "batch_size": BATCH_SIZE,
        "runs": runs,
        "repeats": repeats,
        "targets": {"window_ms_1_thread": TARGET_WINDOW_MS, "x_realtime_2_threads": TARGET_REALTIME},
        "results": results,
        "elapsed_s": time.perf_counter() - started,
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detection.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", type=Path, default=[], help="ONNX model (repeatable)")
    parser.add_argument("--data", type=Path, default=DEV_CORPUS, help="labelled folder for real audio")
    parser.add_argument("--out", type=Path, default=Path("bench-results/detection.json"), help="JSON results")
    parser.add_argument("--runs", type=int, default=300, help="timed batch-1 calls per engine (default 300)")
    parser.add_argument("--seconds", type=float, default=LONG_FILE_S, help="length of the long recording")
    parser.add_argument("--repeats", type=int, default=2, help="end-to-end runs per hop; the best counts")
    parser.add_argument("--no-torch", action="store_true", help="leave out torch eager")
    args = parser.parse_args(argv)
    _setup_django()
    document = run(
        models=args.model,
        data_dir=args.data if args.data.is_dir() else None,
        out=args.out,
        runs=args.runs,
        long_s=args.seconds,
        repeats=args.repeats,
        with_torch=not args.no_torch,
    )
    print(format_table(document))
    print(f"\n{document['models']}; results in {args.out} ({document['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
