"""Decoding opens only audio containers: an uploaded playlist never makes the server fetch a URL or
read another file. Checking an upload keeps no decoded audio, whatever its length."""

import io
import threading
import tracemalloc

import numpy as np
import pytest

from detection.audio import AudioError, decode_audio, inspect_audio
from detection.tests.conftest import hls_playlist, write_wav
from detection.tests.test_decode_rejects_bad_input import wav_bytes


@pytest.mark.parametrize("check", [decode_audio, inspect_audio])
def test_a_playlist_naming_a_url_is_refused_without_fetching_it(listener, check):
    port, connections = listener
    upload = io.BytesIO(hls_playlist(f"http://127.0.0.1:{port}/internal/admin.ts"))
    upload.name = "evidence.m3u8"  # FFmpeg picks its HLS demuxer from this name

    with pytest.raises(AudioError) as refused:
        check(upload)

    assert refused.value.code == "not_audio"
    threading.Event().wait(0.3)
    assert connections == []


def test_inspecting_half_an_hour_of_audio_keeps_no_samples(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "half-hour.wav"
    path.write_bytes(wav_bytes((rng.standard_normal(1800 * 8000) * 0.1).astype(np.float32), rate=8000))

    tracemalloc.start()
    try:
        info = inspect_audio(path, max_duration_s=3600)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info.duration_s == pytest.approx(1800, abs=0.01)
    assert (info.container, info.source_sample_rate, info.source_channels) == ("wav", 8000, 1)
    # decode_audio holds 1800 s x 16 kHz x 4 bytes = 115 MB (twice, while concatenating)
    assert peak_bytes < 20_000_000, peak_bytes


def test_inspect_and_decode_refuse_alike(tmp_path):
    silent = io.BytesIO(wav_bytes(np.zeros(16000, np.float32)))
    long = tmp_path / "long.wav"
    write_wav(long, np.full(16000 * 12, 0.2, np.float32))

    for source, options, code in [(silent, {}, "silent"), (long, {"max_duration_s": 10}, "too_long")]:
        errors = []
        for check in (decode_audio, inspect_audio):
            if hasattr(source, "seek"):
                source.seek(0)
            with pytest.raises(AudioError) as refused:
                check(source, **options)
            errors.append((refused.value.code, refused.value.message))
        assert errors[0] == errors[1] and errors[0][0] == code
