"""Every supported format decodes to mono float32 at 16 kHz, whatever its rate and channel count.

Fixtures are encoded at test time with PyAV's bundled FFmpeg: 0.5 s of a 440 Hz tone, then 0.5 s
of a chirp rising from 500 Hz, so a check of the spectrum proves the audio survived decoding.
"""

import io

import av
import numpy as np
import pytest

from detection.audio import decode_audio
from detection.features import SAMPLE_RATE

# id: (container format, codec, file suffix, encoder options, duration tolerance in s)
FORMATS = {
    "wav": ("wav", "pcm_s16le", ".wav", {}, 0.01),
    "mp3": ("mp3", "mp3", ".mp3", {}, 0.03),
    "flac": ("flac", "flac", ".flac", {}, 0.01),
    "ogg-vorbis": ("ogg", "vorbis", ".ogg", {"strict": "experimental"}, 0.05),
    "ogg-opus": ("ogg", "libopus", ".opus", {}, 0.03),
    # AAC adds encoder priming and pads to whole 1024-sample frames (0.15 s at 8 kHz).
    "m4a-aac": ("ipod", "aac", ".m4a", {}, 0.2),
    "webm-opus": ("webm", "libopus", ".webm", {}, 0.03),
}
LAYOUTS = [(8000, 1), (44100, 2), (48000, 1), (8000, 2), (48000, 2)]


def supported(codec: str, rate: int, channels: int) -> bool:
    if codec == "libopus":  # no 44.1 kHz mode; browsers record Opus at 48 kHz
        return rate != 44100
    if codec == "vorbis":  # FFmpeg's own Vorbis encoder writes stereo only
        return channels == 2
    return (rate, channels) in {(8000, 1), (44100, 2), (48000, 1)}


CASES = [
    pytest.param(name, rate, channels, id=f"{name}-{rate}-{'mono' if channels == 1 else 'stereo'}")
    for name, (_, codec, *_) in FORMATS.items()
    for rate, channels in LAYOUTS
    if supported(codec, rate, channels)
]


def test_signal(rate: int) -> np.ndarray:
    time = np.arange(rate) / rate
    half = rate // 2
    chirp_time = time[half:] - 0.5
    tone = np.sin(2 * np.pi * 440 * time[:half])
    chirp = np.sin(2 * np.pi * (500 * chirp_time + 3500 * chirp_time**2))  # 500 Hz rising to 4 kHz
    return (0.5 * np.concatenate([tone, chirp])).astype(np.float32)


test_signal.__test__ = False  # a helper, not a test


def encode(name: str, rate: int, channels: int) -> bytes:
    """One second of the test signal in format ``name`` at ``rate`` Hz with ``channels`` channels."""
    container_format, codec, _, options, _ = FORMATS[name]
    layout = "mono" if channels == 1 else "stereo"
    signal = np.tile(test_signal(rate), (channels, 1))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout, options=options)
        for start in range(0, signal.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(signal[:, start : start + 1024]), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def dominant_frequency(samples: np.ndarray, start_s: float, end_s: float) -> float:
    segment = samples[round(start_s * SAMPLE_RATE) : round(end_s * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    return float(np.fft.rfftfreq(len(segment), 1 / SAMPLE_RATE)[spectrum.argmax()])


@pytest.mark.parametrize(("name", "rate", "channels"), CASES)
def test_format_decodes_to_mono_16k(tmp_path, name, rate, channels):
    path = tmp_path / f"clip{FORMATS[name][2]}"
    path.write_bytes(encode(name, rate, channels))

    decoded = decode_audio(path)

    assert decoded.sample_rate == SAMPLE_RATE
    assert decoded.samples.dtype == np.float32 and decoded.samples.ndim == 1
    assert np.isfinite(decoded.samples).all() and np.abs(decoded.samples).max() <= 1.0
    assert decoded.duration_s == pytest.approx(1.0, abs=FORMATS[name][4])
    assert decoded.source_channels == channels
    if FORMATS[name][1] != "libopus":  # Opus always decodes at 48 kHz
        assert decoded.source_sample_rate == rate
    assert dominant_frequency(decoded.samples, 0.15, 0.45) == pytest.approx(440, abs=15)
    assert dominant_frequency(decoded.samples, 0.7, 0.95) > 1200  # the chirp, not the tone


def test_path_string_bytes_and_file_object_decode_alike(tmp_path):
    data = encode("flac", 44100, 2)
    path = tmp_path / "clip.flac"
    path.write_bytes(data)
    results = [decode_audio(source) for source in (path, str(path), data, io.BytesIO(data))]
    for result in results[1:]:
        np.testing.assert_array_equal(result.samples, results[0].samples)
    assert results[0].container == "flac" and results[0].codec == "flac"


def test_file_object_is_read_from_its_current_position():
    data = encode("wav", 16000, 1)
    handle = io.BytesIO(b"xx" + data)
    handle.seek(2)
    assert decode_audio(handle).duration_s == pytest.approx(1.0, abs=0.01)


def test_resampled_tone_keeps_its_level():
    decoded = decode_audio(encode("wav", 48000, 1))
    tone = decoded.samples[round(0.1 * SAMPLE_RATE) : round(0.4 * SAMPLE_RATE)]
    assert np.sqrt(np.mean(tone**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_stereo_is_averaged_to_mono_not_summed(tmp_path):
    mono = decode_audio(encode("wav", 44100, 1)).samples
    stereo = decode_audio(encode("wav", 44100, 2)).samples
    np.testing.assert_allclose(stereo, mono, atol=1e-3)
