"""`cocktail separate`: chunked separation of recordings of any length, rate and channel count."""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf
from conftest import SECTIONS, SPECTRAL

from cocktail.cli import main
from cocktail.dsp.audio import StreamResampler, audio_blocks, resample
from cocktail.dsp.spectral import SpectralSettings
from cocktail.errors import CocktailError
from cocktail.inference.recording import Chunking, inspect_recording, mixture_gains, separate_chunks, separate_recording
from cocktail.inference.separation import Separator, load_separator
from cocktail.models import ARCHITECTURES
from cocktail.startup import quiet_tensorflow_startup

RATE = 8000


def sign_split(rng):
    """A stand-in separator whose sources are known exactly (positive and negative half-waves) and whose output
    order is random on every call, as a network's order is from chunk to chunk."""

    def separate(window):
        sources = np.stack([np.maximum(window, 0), np.minimum(window, 0)])
        return sources[rng.permutation(2)]

    return separate


def blocks_of(signal, size):
    return (signal[i : i + size] for i in range(0, len(signal), size))


@pytest.mark.parametrize("length", [1, 500, 999, 1000, 1001, 1199, 1200, 1201, 2345, 10_007])
def test_chunks_keep_length_and_source_order(rng, length):
    signal = rng.standard_normal(length).astype(np.float32)
    pieces = list(separate_chunks(sign_split(rng), blocks_of(signal, 337), chunk=1000, overlap=200))
    out = np.concatenate(pieces, axis=1)
    assert out.shape == (2, length)
    truth = np.stack([np.maximum(signal, 0), np.minimum(signal, 0)])
    first = 0 if np.allclose(out[:, :50], truth[:, :50]) else 1
    np.testing.assert_allclose(out, truth[[first, 1 - first]], atol=1e-6)


def test_chunks_hold_at_most_a_chunk_and_two_overlaps(rng):
    seen = []

    def separate(window):
        seen.append(len(window))
        return np.stack([window, 0 * window])

    list(separate_chunks(separate, blocks_of(rng.standard_normal(50_000).astype(np.float32), 1000), chunk=1000, overlap=200))
    assert max(seen) < 1000 + 200 and seen[:-1] == [1000] * (len(seen) - 1)


def test_mixture_gains_undo_arbitrary_scales(two_sources):
    gains = mixture_gains(two_sources * np.array([[3.0], [0.2]], np.float32), two_sources.sum(axis=0))
    np.testing.assert_allclose(gains, [1 / 3.0, 5.0], rtol=1e-3)


def test_streamed_resampling_equals_one_call(rng):
    audio = rng.standard_normal(44100 + 17).astype(np.float32)
    whole = resample(audio, 44100, 8000)
    resampler = StreamResampler(44100, 8000)
    streamed = np.concatenate([resampler(b, last=i + 1000 >= len(audio)) for i, b in zip(range(0, len(audio), 1000), blocks_of(audio, 1000))])
    np.testing.assert_array_equal(streamed, whole)


def test_audio_blocks_downmix_and_resample(tmp_path, rng):
    stereo = (0.1 * rng.standard_normal((48000 * 3, 2))).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 48000, subtype="FLOAT")
    blocks = list(audio_blocks(path, RATE, 0.5))
    assert max(len(b) for b in blocks) <= 0.5 * RATE + 1024  # a block, plus the resampler's delay flushed at the end
    np.testing.assert_array_equal(np.concatenate(blocks), resample(stereo.mean(axis=1), 48000, RATE))


# Every registered network that can separate a new recording (not NMF, which needs the test speakers' identities).
SEPARABLE = sorted(n for n, a in ARCHITECTURES.items() if a.trained_by_gradient and a.inference.separates_recordings)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """Untrained tiny models saved as the train stage saves them: what separate reads."""
    root = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(0)
    for name in SEPARABLE:
        Separator.create(name, SECTIONS[name], SPECTRAL, 2).save(root / name)
    wideband = SpectralSettings(SPECTRAL.stft, SPECTRAL.vad_db, 16000, SPECTRAL.normaliser)
    Separator.create("convtasnet", SECTIONS["convtasnet"], wideband, 2).save(root / "convtasnet_16k")
    return root


def speech_like(rng, seconds, rate, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0) + 0.2 * np.sin(2 * np.pi * 1100 * t)
    audio = voice[:, None] + 0.01 * rng.standard_normal((len(t), channels))
    return audio.astype(np.float32) if channels > 1 else audio[:, 0].astype(np.float32)


@pytest.mark.parametrize("name", SEPARABLE)
def test_separate_writes_each_source_at_the_input_rate(model_dirs, tmp_path, rng, name, capsys):
    path = tmp_path / "talk.flac"
    sf.write(path, speech_like(rng, 23.3, 22050, channels=2), 22050)
    main(["separate", str(path), "-o", str(tmp_path / "out"), "--model", str(model_dirs / name), "--chunk-seconds", "6", "-q"])
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == ["talk_s1.wav", "talk_s2.wav"]
    for p in outputs:
        info = sf.info(p)
        assert (info.samplerate, info.channels, info.frames) == (22050, 1, sf.info(path).frames)
    assert "real-time factor" in capsys.readouterr().out


def test_clustering_model_finds_the_sources_asked_for(model_dirs, tmp_path, rng):
    path = tmp_path / "three.wav"
    sf.write(path, speech_like(rng, 5, RATE), RATE)
    paths = separate_recording(load_separator(model_dirs / "dpcl"), inspect_recording(path), tmp_path / "out", n_sources=3, progress=False)
    assert [p.name for p in paths] == ["three_s1.wav", "three_s2.wav", "three_s3.wav"]


def run_cli(args, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["separate", *map(str, args)])
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def assert_refused(tmp_path, capsys, args, *names):
    out = tmp_path / "out"
    message = run_cli([*args, "-o", out, "-q"], capsys)
    assert message.startswith("error: ")
    for name in names:
        assert str(name) in message, message
    assert not out.exists(), "a refused separation must leave no output folder or file"
    return message


def test_not_audio_is_refused(model_dirs, tmp_path, capsys):
    path = tmp_path / "notes.wav"
    path.write_text("this is not a recording\n" * 50)
    assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet"], path)


def test_empty_file_is_refused(model_dirs, tmp_path, capsys):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    assert "empty" in assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet"], path)


def test_wav_without_samples_is_refused(model_dirs, tmp_path, capsys):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, np.float32), RATE)
    assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet"], path)


def test_missing_input_is_refused(model_dirs, tmp_path, capsys):
    assert_refused(tmp_path, capsys, [tmp_path / "typo.wav", "--model", model_dirs / "convtasnet"], tmp_path / "typo.wav")


def test_an_output_folder_that_cannot_be_written_is_refused(model_dirs, tmp_path, rng, capsys):
    """Root may write anywhere a permission bit forbids, so where the tests run as root a folder under /proc stands in."""
    path = tmp_path / "a.wav"
    sf.write(path, speech_like(rng, 1, RATE), RATE)
    if os.geteuid() == 0:
        out = Path("/proc/cocktail-test/out")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "out"
    message = run_cli([path, "--model", model_dirs / "convtasnet", "-o", out, "-q"], capsys)
    assert message.startswith(f"error: {out}: the sources cannot be written there") and message.count("\n") == 1
    assert not out.exists()


def test_missing_model_directory_is_refused(tmp_path, rng, capsys):
    path = tmp_path / "a.wav"
    sf.write(path, speech_like(rng, 1, RATE), RATE)
    message = assert_refused(tmp_path, capsys, [path, "--model", tmp_path / "no_model"], tmp_path / "no_model")
    assert "dvc repro" in message


def test_model_trained_at_a_higher_rate_is_refused(model_dirs, tmp_path, rng, capsys):
    path = tmp_path / "phone.wav"
    sf.write(path, speech_like(rng, 1, 8000), 8000)
    message = assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet_16k"], path, "16000 Hz", "8000 Hz")
    assert "--allow-upsampling" in message


def test_upsampling_when_asked(model_dirs, tmp_path, rng):
    path = tmp_path / "phone.wav"
    sf.write(path, speech_like(rng, 1, 8000), 8000)
    main(["separate", str(path), "-o", str(tmp_path / "out"), "--model", str(model_dirs / "convtasnet_16k"), "--allow-upsampling", "-q"])
    assert sf.info(tmp_path / "out" / "phone_s1.wav").samplerate == 8000


def test_fixed_count_model_refuses_other_source_counts(model_dirs, tmp_path, rng, capsys):
    path = tmp_path / "a.wav"
    sf.write(path, speech_like(rng, 1, RATE), RATE)
    assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet", "--n-sources", 3], "--n-sources", "convtasnet")


def test_bad_chunking_is_refused(model_dirs, tmp_path, rng, capsys):
    path = tmp_path / "a.wav"
    sf.write(path, speech_like(rng, 1, RATE), RATE)
    assert_refused(tmp_path, capsys, [path, "--model", model_dirs / "convtasnet", "--chunk-seconds", 3, "--overlap-seconds", 2], "overlap")


def test_failure_mid_file_leaves_no_partial_outputs(model_dirs, tmp_path, rng):
    path = tmp_path / "long.wav"
    sf.write(path, speech_like(rng, 30, RATE), RATE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("the user's own file")
    separator = load_separator(model_dirs / "convtasnet")
    calls = []
    original = separator.separate

    def failing(window, n_sources=None, utt_ids=None):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(window, n_sources)

    separator.separate = failing
    with pytest.raises(KeyboardInterrupt):
        separate_recording(separator, inspect_recording(path), out, chunking=Chunking(6, 1), progress=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "cocktail"
    result = subprocess.run([script, "separate", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--n-sources" in result.stdout


def run_console_script(*args) -> subprocess.CompletedProcess:
    """As a user runs it: a new process, with no TensorFlow log level of its own in the environment."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    script = Path(sys.executable).parent / "cocktail"
    return subprocess.run([script, "separate", *map(str, args)], capture_output=True, text=True, env=env)


def test_console_script_prints_only_its_own_lines(model_dirs, tmp_path, rng):
    path = tmp_path / "talk.wav"
    sf.write(path, speech_like(rng, 2, RATE), RATE)
    result = run_console_script(path, "-o", tmp_path / "out", "--model", model_dirs / "convtasnet")
    assert result.returncode == 0 and "real-time factor" in result.stdout, result.stderr
    drawn = [part for part in re.split(r"[\r\n]", result.stderr) if part.strip()]
    assert drawn and all(part.startswith("separating talk.wav") for part in drawn), result.stderr

    missing_model = run_console_script(path, "-o", tmp_path / "out2", "--model", tmp_path / "no_model", "-q")
    assert missing_model.returncode == 1
    assert missing_model.stderr.startswith("error: ") and missing_model.stderr.count("\n") == 1, missing_model.stderr
    assert str(tmp_path / "no_model") in missing_model.stderr


def test_tensorflow_startup_hides_only_its_chatter(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # restored afterwards: the context sets it for the rest of a run
    with quiet_tensorflow_startup():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1796183797.433410    8252 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"E0000 00:00:1796183789.119613    8114 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n")
        os.write(2, b"F0000 00:00:1796183789.119613    8114 something.cc:1] a real failure\n")
        print("a Python warning", file=sys.stderr)
    passed_on = sorted(capfd.readouterr().err.splitlines())
    assert passed_on == ["F0000 00:00:1796183789.119613    8114 something.cc:1] a real failure", "a Python warning"]


def test_chunking_validates():
    with pytest.raises(CocktailError, match="overlap"):
        Chunking(4, 0).samples(RATE)
