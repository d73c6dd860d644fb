"""Every corpus reader on a fixture tree in that corpus's exact layout, built here from short generated signals."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from conftest import prepare_with, scan_with

from cocktail.data.corpora.decode import decode, usable_audio
from cocktail.data.datasets import training_sources
from cocktail.data.mixing import mixtures_from_params
from cocktail.data.prepared_data import load_mix_list, load_prepared
from cocktail.errors import CocktailError
from cocktail.params import Params

ROOT = Path(__file__).resolve().parents[2]
SR = 8000
LIBRISPEECH = ROOT.parent / "shared" / "data" / "LibriSpeech"


def tone(path: Path, rate: int, seconds: float = 0.5, freq: float = 300.0, fmt: str = "WAV", channels: int = 1) -> Path:
    """A short sine with a little noise, so every file is distinct and none is silent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    signal = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    data = np.stack([signal] * channels, axis=1) if channels > 1 else signal
    sf.write(path, data, rate, format=fmt, subtype="PCM_16")
    return path


def params_for(name: str, root: Path, **overrides) -> Params:
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    data["corpus"].update(name=name, root=str(root), valid_speakers=1, test_speakers=1)
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        data[section][key] = value
    return Params(data)


def prepared(tmp_path: Path, params: Params) -> tuple[list[np.ndarray], pd.DataFrame]:
    out = tmp_path / "prepared"
    out.mkdir(parents=True)
    prepare_with(params, out)
    return load_prepared(out)


def per_speaker(manifest: pd.DataFrame, column: str) -> dict[str, str]:
    return manifest.drop_duplicates("speaker").set_index("speaker")[column].to_dict()


def test_timit_reads_sphere_with_genders_and_its_own_test_split(tmp_path):
    root = tmp_path / "TIMIT"
    for half, region, speaker in [("TRAIN", "DR1", "FCJF0"), ("TRAIN", "DR1", "MDAB0"), ("TRAIN", "DR2", "FAEM0"),
                                  ("TRAIN", "DR2", "MARC0"), ("TEST", "DR1", "FAKS0"), ("TEST", "DR3", "MREB0")]:
        for sentence in ("SA1", "SX141"):
            tone(root / half / region / speaker / f"{sentence}.WAV", 16000, fmt="NIST")
    tone(root / "TRAIN/DR1/FCJF0/SA1.WAV.wav", 16000)  # a converted copy some distributions carry
    assert (root / "TRAIN/DR1/FCJF0/SA1.WAV").read_bytes().startswith(b"NIST_1A")
    audio, manifest = prepared(tmp_path, params_for("timit", root))
    assert len(manifest) == 12
    assert per_speaker(manifest, "gender") == {"FCJF0": "F", "MDAB0": "M", "FAEM0": "F", "MARC0": "M", "FAKS0": "F", "MREB0": "M"}
    splits = per_speaker(manifest, "split")
    assert {s for s, part in splits.items() if part == "test"} == {"FAKS0", "MREB0"}
    assert sorted(splits[s] for s in ("FCJF0", "MDAB0", "FAEM0", "MARC0")) == ["train", "train", "train", "valid"]
    assert all(len(a) == SR // 2 for a in audio), "16 kHz SPHERE resampled to 8 kHz"
    assert manifest.at[0, "origin"].startswith("TEST/DR1/FAKS0/")


def test_tsp_excludes_children_and_tests_on_the_recommended_speakers(tmp_path):
    root = tmp_path / "tsp"
    for speaker in ("FA", "FB", "FK", "FL", "MA", "MB", "MK", "ML", "CA", "CB"):
        for k in (1, 2):
            tone(root / speaker / f"{speaker}01_0{k}.wav", 48000, seconds=0.25)
    audio, manifest = prepared(tmp_path, params_for("tsp", root))
    assert set(manifest["speaker"]) == {"FA", "FB", "FK", "FL", "MA", "MB", "MK", "ML"}
    assert set(manifest.loc[manifest["split"] == "test", "speaker"]) == {"FK", "FL", "MK", "ML"}
    assert per_speaker(manifest, "gender")["MB"] == "M"
    assert {len(a) for a in audio} == {SR // 4}, "48 kHz resampled to 8 kHz"
    with pytest.raises(CocktailError, match="tsp.test_speakers' names ME"):
        scan_with(params_for("tsp", root, tsp__test_speakers=["FK", "ME"]))


def librispeech_tree(root: Path) -> Path:
    (root / "SPEAKERS.TXT").parent.mkdir(parents=True, exist_ok=True)
    (root / "SPEAKERS.TXT").write_text(
        "; comment line\n;ID  |SEX| SUBSET           |MINUTES| NAME\n"
        "19   | F | train-clean-100  | 25.19 | Kara\n26   | M | train-clean-100  | 25.08 | Denny\n"
        "32   | F | train-clean-100  | 24.00 | Someone\n40   | M | train-clean-100  | 24.00 | Another\n"
        "84   | F | dev-clean        |  8.02 | Christie\n174  | M | dev-clean        |  8.04 | Peter\n"
    )
    for subset, speaker in [("train-clean-100", s) for s in ("19", "26", "32", "40")] + [("dev-clean", "84"), ("dev-clean", "174")]:
        for utt in range(2):
            tone(root / subset / speaker / "198" / f"{speaker}-198-{utt:04d}.flac", 16000, fmt="FLAC")
    return root


def test_librispeech_reads_flac_with_genders_from_speakers_txt(tmp_path):
    root = librispeech_tree(tmp_path / "LibriSpeech")
    audio, manifest = prepared(tmp_path, params_for("librispeech", root))
    assert len(manifest) == 12
    assert per_speaker(manifest, "gender") == {"19": "F", "26": "M", "32": "F", "40": "M", "84": "F", "174": "M"}
    assert set(manifest.loc[manifest["split"] == "valid", "speaker"]) == {"84", "174"}, "dev-clean is the validation split"
    assert manifest["split"].value_counts().to_dict() == {"train": 6, "valid": 4, "test": 2}
    assert "train-clean-100/19/198/19-198-0000.flac" in set(manifest["origin"])
    _, only_train = prepared(tmp_path / "sub", params_for("librispeech", root, librispeech__subsets=["train-clean-100"]))
    assert set(only_train["speaker"]) == {"19", "26", "32", "40"}


def sphere(path: Path, coding: str = "pcm") -> Path:
    """A SPHERE header as LDC writes it; with `shorten` the body is not PCM and cannot be decoded."""
    if coding == "pcm":
        return tone(path, 16000, fmt="NIST")
    header = (
        "NIST_1A\n   1024\nsample_count -i 8000\nsample_rate -i 16000\nchannel_count -i 1\n"
        "sample_n_bytes -i 2\nsample_coding -s26 pcm,embedded-shorten-v2.00\nend_head\n"
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(1024, b" ") + bytes(range(256)) * 8)
    return path


def wsj0_tree(root: Path) -> Path:
    for part, speakers in {"si_tr_s": ("01a", "01b", "01c", "01d"), "si_dt_05": ("22g", "22h"), "si_et_05": ("44c", "44d")}.items():
        for speaker in speakers:
            for utt in ("010a", "010b"):
                sphere(root / "wsj0" / part / speaker / f"{speaker}{utt}.wv1")
    return root


def test_wsj0_reads_sphere_folders_as_splits(tmp_path):
    root = wsj0_tree(tmp_path / "wsj")
    _, manifest = prepared(tmp_path, params_for("wsj0", root))
    splits = per_speaker(manifest, "split")
    assert splits["22g"] == splits["22h"] == "valid" and splits["44c"] == splits["44d"] == "test"
    assert {splits[s] for s in ("01a", "01b", "01c", "01d")} == {"train"}
    assert manifest.at[0, "origin"] == "wsj0/si_tr_s/01a/01a010a.wv1"
    assert load_mix_list(tmp_path / "prepared") is None


def test_wsj0_2mix_lists_give_exactly_the_listed_mixtures(tmp_path):
    root = wsj0_tree(tmp_path / "wsj")
    lists = root / "lists"
    lists.mkdir()
    (lists / "mix_2_spk_tr.txt").write_text(
        "wsj0/si_tr_s/01a/01a010a.wv1 1.2 wsj0/si_tr_s/01b/01b010b.wv1 -1.2\n"
        "wsj0/si_tr_s/01c/01c010a.wv1 0.5 wsj0/si_tr_s/01d/01d010a.wv1 -0.5\n"
    )
    (lists / "mix_2_spk_cv.txt").write_text("wsj0/si_tr_s/01a/01a010b.wv1 2 wsj0/si_tr_s/01c/01c010b.wv1 -2\n")
    (lists / "mix_2_spk_tt.txt").write_text("wsj0/si_dt_05/22g/22g010a.wv1 0 wsj0/si_et_05/44c/44c010b.wv1 0\n")
    _, manifest = prepared(tmp_path, params_for("wsj0", root, wsj0__lists="lists"))
    assert len(manifest) == 8, "only the listed files are read"
    table = load_mix_list(tmp_path / "prepared")
    assert list(table["split"]) == ["valid", "train", "train", "test"]
    assert table.loc[table["split"] == "train", "mix_id"].tolist() == ["01a010a_1.2_01b010b_-1.2", "01c010a_0.5_01d010a_-0.5"]
    assert table.loc[table["split"] == "train", "snr_db"].tolist() == ["1.2 -1.2", "0.5 -0.5"]
    (lists / "mix_2_spk_tt.txt").write_text("wsj0/si_et_05/44x/44x010b.wv1 0 wsj0/si_et_05/44c/44c010b.wv1 0\n")
    with pytest.raises(CocktailError, match="44x010b.wv1"):
        scan_with(params_for("wsj0", root, wsj0__lists="lists"))


def test_shorten_compressed_sphere_says_how_to_convert(tmp_path):
    audio, reason = usable_audio(sphere(tmp_path / "01a010a.wv1", coding="shorten"), SR)
    assert audio is None and "shorten" in reason and "sph2pipe" in reason and "01a010a.wv1" in reason


def test_esc50_categories_are_classes_and_folds_the_split(tmp_path):
    root = tmp_path / "ESC-50"
    rows = []
    for fold in range(1, 6):
        for target, category in ((16, "wind"), (4, "frog"), (0, "dog")):
            name = f"{fold}-{100 + target}-A-{target}.wav"
            tone(root / "audio" / name, 44100, seconds=0.2, freq=200 + 100 * target)
            rows.append({"filename": name, "fold": fold, "target": target, "category": category, "esc10": False,
                         "src_file": 100 + target, "take": "A"})
    (root / "meta").mkdir()
    pd.DataFrame(rows).to_csv(root / "meta" / "esc50.csv", index=False)
    audio, manifest = prepared(tmp_path, params_for("esc50", root))
    assert set(manifest["speaker"]) == {"wind", "frog", "dog"}
    fold_of = {r["filename"]: r["fold"] for r in rows}
    folds = manifest.assign(fold=[fold_of[Path(o).name] for o in manifest["origin"]]).groupby("split")["fold"].unique()
    assert list(folds["test"]) == [5] and list(folds["valid"]) == [4] and sorted(folds["train"]) == [1, 2, 3]
    assert {len(a) for a in audio} == {SR // 5}
    params = params_for("esc50", root, mix__classes=["wind", "frog"])
    mixtures = mixtures_from_params(audio, manifest, params.section("mix"), params.section("noise"), "train", 2, SR, 0)
    assert set(mixtures.table["speakers"]) == {"wind frog"}, "the named classes, in source order"
    with pytest.raises(CocktailError, match="mix.classes.*give a list"):
        mixtures_from_params(audio, manifest, params_for("esc50", root, mix__classes="wind").section("mix"), None, "train", 2, SR, 0)
    assert set(manifest["split_by"]) == {"corpus"}, "every ESC-50 split is the corpus's own (its folds)"
    with pytest.raises(CocktailError, match="valid split has 3 speaker") as refusal:
        mixtures_from_params(audio, manifest, params_for("esc50", root, mix__n_sources=4).section("mix"), None, "valid", 4, SR, 0)
    assert "corpus.valid_speakers" not in str(refusal.value) and "esc50.valid_fold" in str(refusal.value)


def test_bad_files_message_names_the_stage_output_not_the_temporary_folder(tmp_path, capsys):
    root = bad_corpus(tmp_path / "corpus", n_good=40)
    temporary = tmp_path / ".prepared.x1y2.tmp"
    temporary.mkdir()
    prepare_with(params_for("folder", root, corpus__max_bad_fraction=0.1), temporary, "data/prepared")
    assert "3 unusable file(s) skipped, listed in data/prepared/bad_files.csv" in capsys.readouterr().out


@pytest.mark.parametrize(
    "layout, stems, speakers",
    [
        ({"tr": "train", "cv": "valid", "tt": "test"}, ["011a010d_0.54_20do010c_-0.54"], ["011", "20d"]),
        ({"train-360": "train", "dev": "valid", "test": "test"}, ["103-1240-0003_1235-135887-0017"], ["103", "1235"]),
    ],
)
def test_premixed_folders_are_indexed_as_they_are(tmp_path, layout, stems, speakers):
    root = tmp_path / "premixed"
    mix_folder = "mix" if "tr" in layout else "mix_clean"
    for folder in layout:
        for stem in stems:
            tone(root / folder / mix_folder / f"{stem}.wav", SR)
            tone(root / folder / "s1" / f"{stem}.wav", SR, freq=200)
            tone(root / folder / "s2" / f"{stem}.wav", SR, freq=900)
    _, manifest = prepared(tmp_path, params_for("premixed", root))
    assert len(manifest) == 2 * len(layout)
    assert list(manifest["speaker"][:2]) == speakers
    table = load_mix_list(tmp_path / "prepared")
    assert sorted(table["split"]) == sorted(layout.values())
    assert (table["snr_db"] == "").all(), "premixed sources are used as they are"
    with pytest.raises(CocktailError, match="train.dynamic_mixing' is true, but this corpus lists its own mixtures"):
        params = params_for("premixed", root, train__dynamic_mixing=True)
        training_sources("spectral", str(tmp_path / "features"), str(tmp_path / "prepared"), None, 8, 0, params.section("train"),
                         "ff.batch_size", params.section("features"), params.section("mix"), params.section("noise"))
    (root / next(iter(layout)) / "s2" / f"{stems[0]}.wav").unlink()
    with pytest.raises(CocktailError, match="s2.*missing"):
        scan_with(params_for("premixed", root))


def test_folder_reads_wav_and_flac_and_downmixes_stereo(tmp_path):
    root = tmp_path / "mine"
    tone(root / "alice" / "a.wav", 22050, channels=2)
    tone(root / "bob" / "b.flac", 16000, fmt="FLAC")
    (root / "bob" / "notes.txt").write_text("not audio")
    audio, manifest = prepared(tmp_path, params_for("folder", root, corpus__valid_speakers=0, corpus__test_speakers=0))
    assert list(manifest["speaker"]) == ["alice", "bob"] and [a.ndim for a in audio] == [1, 1]
    assert [len(a) for a in audio] == [SR // 2, SR // 2]


@pytest.mark.parametrize(
    "name, expected",
    [("timit", "TRAIN/ and TEST/"), ("tsp", "two-letter speaker folders"), ("librispeech", "SPEAKERS.TXT"),
     ("wsj0", "a wsj0/ folder"), ("esc50", "meta/esc50.csv"), ("premixed", "split folders"), ("folder", "one sub-folder")],
)
def test_a_root_of_another_layout_says_what_was_expected_and_found(tmp_path, name, expected):
    root = tmp_path / "elsewhere"
    tone(root / "readme.wav", SR)
    (root / "notes").mkdir()
    with pytest.raises(CocktailError, match=f"corpus.name '{name}': expected {expected}.*holds notes/, readme.wav"):
        scan_with(params_for(name, root))


def test_unknown_corpus_and_missing_root_name_the_key(tmp_path):
    with pytest.raises(CocktailError, match="params key 'corpus.name' is 'voxceleb': use one of synthetic, timit"):
        scan_with(params_for("voxceleb", tmp_path))
    with pytest.raises(CocktailError, match="corpus.root .*nowhere.* does not exist"):
        scan_with(params_for("folder", tmp_path / "nowhere"))


def bad_corpus(root: Path, n_good: int) -> Path:
    for i in range(n_good):
        tone(root / f"spk{i % 4}" / f"good{i:02d}.wav", SR, seconds=0.1)
    (root / "spk0" / "empty.wav").write_bytes(b"")
    (root / "spk1" / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(200)))
    sf.write(root / "spk2" / "silent.wav", np.zeros(800), SR)
    return root


def test_bad_files_are_skipped_and_reported(tmp_path):
    root = bad_corpus(tmp_path / "corpus", n_good=40)
    params = params_for("folder", root, corpus__max_bad_fraction=0.1)
    audio, manifest = prepared(tmp_path, params)
    assert len(audio) == len(manifest) == 40
    report = pd.read_csv(tmp_path / "prepared" / "bad_files.csv")
    assert sorted(report["origin"]) == ["spk0/empty.wav", "spk1/corrupt.wav", "spk2/silent.wav"]
    reasons = dict(zip(report["origin"], report["reason"]))
    assert "empty (0 bytes)" in reasons["spk0/empty.wav"] and "silent" in reasons["spk2/silent.wav"]


def test_too_many_bad_files_stop_the_stage_naming_them(tmp_path):
    root = bad_corpus(tmp_path / "corpus", n_good=8)
    with pytest.raises(CocktailError, match=r"3 of 11 files .* corpus.max_bad_fraction = 0.01(.|\n)*empty.wav"):
        prepared(tmp_path, params_for("folder", root))


def test_nothing_usable_stops_the_stage(tmp_path):
    root = tmp_path / "corpus"
    (root / "spk0").mkdir(parents=True)
    (root / "spk0" / "empty.flac").write_bytes(b"")
    with pytest.raises(CocktailError, match="no file could be used(.|\n)*empty.flac"):
        prepared(tmp_path, params_for("folder", root, corpus__max_bad_fraction=1.0))


def test_decode_keeps_corpus_order_across_worker_processes(tmp_path):
    root = tmp_path / "many"
    for i in range(40):
        tone(root / "spk" / f"{i:02d}.wav", SR, seconds=0.05 + 0.001 * i)
    files = scan_with(params_for("folder", root)).files
    lengths = [len(audio) for _, audio, _ in decode(files, SR)]
    assert lengths == [int(SR * (0.05 + 0.001 * i)) for i in range(40)]


@pytest.mark.skipif(not LIBRISPEECH.is_dir(), reason="the real LibriSpeech subset lives beside the checkout")
def test_real_librispeech_subset(tmp_path):
    genders = {}
    for line in (LIBRISPEECH / "SPEAKERS.TXT").read_text().splitlines():
        if not line.startswith(";"):
            genders[line.split("|")[0].strip()] = line.split("|")[1].strip()
    audio, manifest = prepared(tmp_path, params_for("librispeech", LIBRISPEECH, corpus__valid_speakers=16, corpus__test_speakers=30))
    assert manifest["speaker"].nunique() == len(manifest) == 251
    assert all(genders[s] == g for s, g in zip(manifest["speaker"], manifest["gender"]))
    assert set(manifest["gender"]) == {"F", "M"}
    assert manifest.drop_duplicates("speaker")["split"].value_counts().to_dict() == {"train": 205, "test": 30, "valid": 16}
    assert 45 < manifest["duration"].sum() / 60 < 60, "about 52 minutes of speech"
    assert all(abs(len(a) / SR - d) < 1e-3 for a, d in zip(audio, manifest["duration"]))
    assert all(0.01 < np.max(np.abs(a)) < 1.5 for a in audio), "resampling may overshoot full scale a little"
