"""The premixed reader on wsj0-2mix, LibriMix, WHAM! and WHAMR! fixture trees, one task at a time (premixed.task),
through what the prepare and mix stages call: prepare_corpus, then listed_mixture_stream on the prepared folder.

Every tree is written here from short signals, its mixtures as the corpora make them: the sum of the files in the
task's folders (s1 + s2 + noise for mix_both, s*_reverb + noise for WHAMR!'s mix_both_reverb). A rebuilt mixture must
equal the corpus's own file and every target its target file, both scaled by the same gain."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import prepare_with, scan_with

from cocktail.data.mixing import listed_mixture_stream
from cocktail.data.prepare import MANIFEST_COLUMNS, summary
from cocktail.data.prepared_data import MIXED, ROLE, load_mix_list, load_prepared, source_rows
from cocktail.errors import CocktailError
from cocktail.params import Params

ROOT = Path(__file__).resolve().parents[2]
SR = 8000
SAMPLES = 2000  # 0.25 s
NOISE_SNR_DB = -2.0  # against the louder speaker as heard in the mixture, as WHAM! draws it
WSJ_STEM, WSJ_SPEAKERS = "011a010d_0.54_20do010c_-0.54", ["011", "20d"]
LIBRI_STEM, LIBRI_SPEAKERS = "103-1240-0003_1235-135887-0017", ["103", "1235"]
WSJ_SPLITS = {"tr": "train", "cv": "valid", "tt": "test"}
LIBRI_SPLITS = {"train-360": "train", "dev": "valid", "test": "test"}

# Each layout: its split folders, the mixture's file name, and its mixture folders with the folders each is the sum of.
LAYOUTS = {
    "wsj0-2mix": (WSJ_SPLITS, WSJ_STEM, {"mix": ["s1", "s2"]}),
    "librimix": (LIBRI_SPLITS, LIBRI_STEM, {"mix_clean": ["s1", "s2"], "mix_both": ["s1", "s2", "noise"]}),
    "wham": (WSJ_SPLITS, WSJ_STEM, {
        "mix_clean": ["s1", "s2"], "mix_both": ["s1", "s2", "noise"], "mix_single": ["s1", "noise"],
    }),
    "whamr": (WSJ_SPLITS, WSJ_STEM, {
        "mix_clean_anechoic": ["s1_anechoic", "s2_anechoic"], "mix_both_anechoic": ["s1_anechoic", "s2_anechoic", "noise"],
        "mix_single_anechoic": ["s1_anechoic", "noise"], "mix_clean_reverb": ["s1_reverb", "s2_reverb"],
        "mix_both_reverb": ["s1_reverb", "s2_reverb", "noise"], "mix_single_reverb": ["s1_reverb", "noise"],
    }),
}

# (layout, task): the mixture folder the corpus made, the target folders, the folders mixed in that are no target.
CASES = {
    ("wsj0-2mix", "sep_clean"): ("mix", ["s1", "s2"], []),
    ("librimix", "sep_clean"): ("mix_clean", ["s1", "s2"], []),
    ("librimix", "sep_noisy"): ("mix_both", ["s1", "s2"], ["noise"]),
    ("wham", "sep_clean"): ("mix_clean", ["s1", "s2"], []),
    ("wham", "sep_noisy"): ("mix_both", ["s1", "s2"], ["noise"]),
    ("wham", "enh_single"): ("mix_single", ["s1"], ["noise"]),
    ("whamr", "sep_clean"): ("mix_clean_anechoic", ["s1_anechoic", "s2_anechoic"], []),
    ("whamr", "sep_noisy"): ("mix_both_anechoic", ["s1_anechoic", "s2_anechoic"], ["noise"]),
    ("whamr", "enh_single"): ("mix_single_anechoic", ["s1_anechoic"], ["noise"]),
    ("whamr", "sep_reverb"): ("mix_clean_reverb", ["s1_anechoic", "s2_anechoic"], ["s1_reverb", "s2_reverb"]),
    ("whamr", "sep_noisy_reverb"): ("mix_both_reverb", ["s1_anechoic", "s2_anechoic"], ["s1_reverb", "s2_reverb", "noise"]),
    ("whamr", "enh_single_reverb"): ("mix_single_reverb", ["s1_anechoic"], ["s1_reverb", "noise"]),
}


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def components(seed: int) -> dict[str, np.ndarray]:
    """Two speakers (anechoic, and heard in a room), and noise at NOISE_SNR_DB against the louder anechoic one."""
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES) / SR
    parts = {}
    for k, (freq, amp) in enumerate([(220.0, 0.12), (700.0, 0.08)], start=1):
        dry = amp * np.sin(2 * np.pi * (freq + 10 * seed) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        echo = rng.standard_normal(400) * np.exp(-np.arange(400) / 80) * 0.08
        echo[0] = 1.0
        parts[f"s{k}"] = parts[f"s{k}_anechoic"] = dry
        parts[f"s{k}_reverb"] = np.convolve(dry, echo)[:SAMPLES]
    white = rng.standard_normal(SAMPLES)
    parts["noise"] = white * max(rms(parts["s1"]), rms(parts["s2"])) * 10 ** (-NOISE_SNR_DB / 20) / rms(white)
    return parts


def write_tree(root: Path, layout: str) -> Path:
    splits, stem, mixtures = LAYOUTS[layout]
    for i, folder in enumerate(splits):
        parts = components(i)
        folders = {name for summed in mixtures.values() for name in summed}
        for name in folders:
            write(root / folder / name / f"{stem}.wav", parts[name])
        for mix_folder, summed in mixtures.items():
            write(root / folder / mix_folder / f"{stem}.wav", np.sum([parts[name] for name in summed], axis=0))
    return root


def write(path: Path, signal: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert np.max(np.abs(signal)) < 1, "a fixture must not clip"
    sf.write(path, signal, SR, subtype="PCM_16")


def read(path: Path) -> np.ndarray:
    return sf.read(path, dtype="float64")[0]


def params_for(root: Path, task: str = "sep_clean") -> Params:
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    data["corpus"].update(name="premixed", root=str(root))
    data["premixed"]["task"] = task
    return Params(data)


def prepare(tmp_path: Path, root: Path, task: str):
    out = tmp_path / "prepared"
    out.mkdir()
    prepare_with(params_for(root, task), out)
    audio, manifest = load_prepared(out)
    return audio, manifest, load_mix_list(out)


def folder_of(origin: str) -> str:
    return origin.split("/")[1]


@pytest.mark.parametrize("layout, task", list(CASES), ids=[f"{layout}-{task}" for layout, task in CASES])
def test_each_task_reads_its_folders_and_rebuilds_the_corpus_mixture(tmp_path, layout, task):
    mixture_folder, target_folders, mixed_in = CASES[(layout, task)]
    splits, stem, _ = LAYOUTS[layout]
    root = write_tree(tmp_path / layout, layout)
    audio, manifest, mix_list = prepare(tmp_path, root, task)

    targets, others = manifest[source_rows(manifest)], manifest[~source_rows(manifest)]
    assert sorted({folder_of(o) for o in targets["origin"]}) == target_folders
    assert sorted({folder_of(o) for o in others["origin"]}) == sorted(mixed_in), "nothing else is read"
    assert len(manifest) == len(splits) * (len(target_folders) + len(mixed_in))
    assert set(manifest["split_by"]) == {"corpus"} and set(manifest["split"]) == set(splits.values())
    speakers = LIBRI_SPEAKERS if layout == "librimix" else WSJ_SPEAKERS
    assert list(targets["speaker"][: len(target_folders)]) == speakers[: len(target_folders)]
    if mixed_in:
        assert set(others[ROLE]) == {"noise" if f == "noise" else "reverberant" for f in mixed_in}
        assert list(mix_list.columns) == ["split", "mix_id", "utt_ids", "snr_db", MIXED]
    else:
        assert list(manifest.columns) == MANIFEST_COLUMNS, "a task without extra components leaves the manifest as it was"
        assert list(mix_list.columns) == ["split", "mix_id", "utt_ids", "snr_db"]
    train_row = next(line for line in summary(manifest).splitlines() if line.startswith("train"))
    assert train_row.split()[1:3] == [str(len(target_folders))] * 2, "speakers and utterances count the targets only"

    for folder, split in splits.items():
        (mixture, scaled, record), = listed_mixture_stream(audio, manifest, mix_list, split, 5, len(target_folders), SR)
        expected_targets = np.stack([read(root / folder / f / f"{stem}.wav") for f in target_folders])
        gain = float(scaled[0] @ expected_targets[0] / (expected_targets[0] @ expected_targets[0]))
        assert 0.5 < gain < 10
        assert np.allclose(scaled, gain * expected_targets, atol=1e-3), "the targets are the target folders' files"
        corpus_mixture = read(root / folder / mixture_folder / f"{stem}.wav")
        assert np.allclose(mixture, gain * corpus_mixture, atol=1e-3), f"the mixture is {mixture_folder}/'s"
        assert record["speakers"].split() == speakers[: len(target_folders)] and record["mix_id"] == stem
        if mixed_in:
            assert np.max(np.abs(mixture - scaled.sum(axis=0))) > 0.05, "noise or reverberation beyond the targets"
        if "noise" in mixed_in:
            speech = [read(root / folder / f / f"{stem}.wav") for f in (mixed_in[:-1] or target_folders)]
            noise = gain * read(root / folder / "noise" / f"{stem}.wav")
            loudest = max(rms(s) for s in speech)
            assert record["noise_snr_db"] == pytest.approx(20 * np.log10(gain * loudest / rms(noise)), abs=0.01)
            if len(speech) == 2 and mixed_in == ["noise"]:
                assert record["noise_snr_db"] == pytest.approx(NOISE_SNR_DB, abs=0.01)
            residual = mixture - gain * np.sum(speech, axis=0)
            assert np.allclose(residual, noise, atol=1e-3), "the noise is in the mixture"
            for target in scaled:
                assert abs(np.corrcoef(target, noise)[0, 1]) < 0.1, "and in no target"
        else:
            assert "noise_snr_db" not in record


def test_the_default_task_reads_what_it_always_read(tmp_path):
    """sep_clean on a WHAM! tree is its mix_clean/ with s1/, s2/, as on LibriMix; noise/ and mix_both/ are left."""
    root = write_tree(tmp_path / "wham", "wham")
    corpus = scan_with(params_for(root))
    assert sorted({f.origin.split("/")[1] for f in corpus.files}) == ["s1", "s2"]
    assert all("mixed_origins" not in m for m in corpus.mix_list)
    assert {f.role for f in corpus.files} == {"source"}


@pytest.mark.parametrize(
    "layout, task, needed, supported",
    [
        ("wsj0-2mix", "sep_noisy", "mix_both/ or mix_both_anechoic/", "sep_clean"),
        ("librimix", "enh_single", "mix_single/ or mix_single_anechoic/", "sep_clean, sep_noisy"),
        ("wham", "sep_reverb", "mix_clean_reverb/", "sep_clean, sep_noisy, enh_single"),
    ],
)
def test_a_task_the_tree_lacks_names_the_key_the_folder_and_the_tasks_it_has(tmp_path, layout, task, needed, supported):
    root = write_tree(tmp_path / layout, layout)
    with pytest.raises(CocktailError) as err:
        scan_with(params_for(root, task))
    message = str(err.value)
    assert f"params key 'premixed.task' is '{task}', which reads {needed}" in message
    assert f"This tree supports premixed.task: {supported}." in message


def test_a_missing_component_folder_or_file_is_named(tmp_path):
    root = write_tree(tmp_path / "whamr", "whamr")
    for path in (root / "tt" / "s2_reverb").iterdir():
        path.unlink()
    (root / "tt" / "s2_reverb").rmdir()
    supported = "sep_clean, sep_noisy, enh_single, enh_single_reverb"  # the last needs s1_reverb/ only
    with pytest.raises(CocktailError, match=rf"premixed.task' is 'sep_reverb', which reads s2_reverb/ .*tt holds .*"
                                            rf"This tree supports premixed.task: {supported}\."):
        scan_with(params_for(root, "sep_reverb"))
    (root / "cv" / "noise" / f"{WSJ_STEM}.wav").unlink()
    with pytest.raises(CocktailError, match=r"cv/mix_both_anechoic/.*its component .*cv/noise/.* is missing"):
        scan_with(params_for(root, "sep_noisy"))


def test_an_unknown_task_lists_the_tasks_and_those_the_tree_has(tmp_path):
    root = write_tree(tmp_path / "librimix", "librimix")
    with pytest.raises(CocktailError, match=r"params key 'premixed.task' is 'sep_loud': use one of sep_clean, sep_noisy, "
                                            r"enh_single, sep_reverb, .*\(this tree has sep_clean, sep_noisy\)\."):
        scan_with(params_for(root, "sep_loud"))


def test_enhancement_mixtures_are_refused_for_separation_with_the_reason(tmp_path):
    root = write_tree(tmp_path / "wham", "wham")
    audio, manifest, mix_list = prepare(tmp_path, root, "enh_single")
    with pytest.raises(CocktailError, match=r"holds 1-source mixtures\. .*premixed.task enh_.*choose a separation"):
        next(listed_mixture_stream(audio, manifest, mix_list, "train", 5, 2, SR))
