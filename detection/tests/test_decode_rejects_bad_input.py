"""Every input a user can get wrong raises AudioError with a stable code and a message for people."""

import io
import os

import av
import numpy as np
import pytest
import soundfile

from detection.audio import AudioError, decode_audio
from detection.tests.test_decode_formats import encode


def error_of(source, **options) -> AudioError:
    with pytest.raises(AudioError) as caught:
        decode_audio(source, **options)
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value


def wav_bytes(samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def test_empty_bytes():
    error = error_of(b"")
    assert (error.code, error.message) == ("empty", "The file is empty.")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "file.xyz"
    path.write_bytes(b"")
    assert error_of(path).code == "empty"


def test_empty_file_object():
    assert error_of(io.BytesIO()).code == "empty"


def test_missing_file(tmp_path):
    error = error_of(tmp_path / "absent.wav")
    assert error.code == "not_found" and str(tmp_path) not in error.message  # no server paths in messages


def test_directory_is_not_a_file(tmp_path):
    error = error_of(tmp_path)
    assert error.code == "not_found" and error.message == "This is a folder, not an audio file."


def test_random_bytes():
    assert error_of(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()).code == "not_audio"


def test_text_file(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("hello, this is a text file\n" * 50)
    assert error_of(path).code == "not_audio"


def test_png_image():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert error_of(png).code == "not_audio"


def test_video_without_audio_track():
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")))
        container.mux(stream.encode(None))
    error = error_of(buffer.getvalue())
    assert (error.code, error.message) == ("not_audio", "The file has no audio track.")


def test_wav_header_without_data():
    assert error_of(encode("wav", 16000, 1)[:44]).code == "not_audio"


def test_truncated_ogg():
    data = encode("ogg-opus", 48000, 1)
    assert error_of(data[: len(data) // 2]).code == "corrupt"


def test_valid_header_over_garbage():
    data = encode("flac", 44100, 1)
    garbage = np.random.default_rng(1).integers(0, 256, len(data) - 200, dtype=np.uint8).tobytes()
    assert error_of(data[:200] + garbage).code == "corrupt"


def test_truncated_wav_keeps_what_decoded():
    # A cut-off upload: the audio before the cut is still worth analysing.
    data = encode("wav", 16000, 1)
    assert decode_audio(data[: len(data) // 2]).duration_s == pytest.approx(0.5, abs=0.01)


def test_nan_samples():
    error = error_of(wav_bytes(np.full(16000, np.nan, np.float32), subtype="FLOAT"))
    assert error.code == "corrupt"


def test_digital_silence():
    error = error_of(wav_bytes(np.zeros(16000, np.float32)))
    assert error.code == "silent" and "silent" in error.message


def test_silence_is_allowed_when_asked():
    assert decode_audio(wav_bytes(np.zeros(16000, np.float32)), allow_silent=True).duration_s == pytest.approx(1.0)


def test_over_long_recording_is_refused_from_its_header():
    error = error_of(wav_bytes(np.full(16000 * 5, 0.1, np.float32)), max_duration_s=2)
    assert error.code == "too_long" and "limit is 2 s" in error.message


def test_over_long_stream_without_duration_is_refused_while_decoding():
    # Raw ADTS AAC declares no duration: the limit is enforced on the decoded samples.
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="adts") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        signal = (0.1 * np.sin(np.arange(16000 * 6) / 5)).astype(np.float32)[None]
        for start in range(0, signal.shape[1], 1024):
            chunk = np.ascontiguousarray(signal[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = 16000
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert error_of(buffer.getvalue(), max_duration_s=2).code == "too_long"


def test_recording_within_the_limit_passes():
    assert decode_audio(wav_bytes(np.full(16000, 0.1, np.float32)), max_duration_s=2).duration_s == pytest.approx(1.0)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_device_file_is_not_a_regular_file():
    error = error_of("/dev/null")
    assert (error.code, error.message) == ("not_audio", "This is not a regular file, so not an audio file.")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_not_a_regular_file(tmp_path):
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)  # opening it would block until a writer came
    error = error_of(pipe)
    assert (error.code, error.message) == ("not_audio", "This is not a regular file, so not an audio file.")


def test_dangling_link_does_not_exist(tmp_path):
    (tmp_path / "link.wav").symlink_to(tmp_path / "gone.wav")
    assert error_of(tmp_path / "link.wav").message == "The file does not exist."
