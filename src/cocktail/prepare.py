"""Corpus -> one audio shard plus a manifest, with speakers assigned to train/valid/test."""

from pathlib import Path

import numpy as np
import pandas as pd

from cocktail.corpora.base import Utterance
from cocktail.errors import CocktailError
from cocktail.shards import load_npz, pack, save_csv, save_npz, unpack

SPLITS = ("train", "valid", "test")
SILENCE_PEAK = 1e-4


def check_not_silent(utterances: list[Utterance]) -> None:
    """A silent source cannot be a separation target: its SDR and IBM are undefined."""
    for utt in utterances:
        if np.max(np.abs(utt.audio)) < SILENCE_PEAK:
            raise CocktailError(f"{utt.origin}: the recording is silent (peak below {SILENCE_PEAK}). Remove it from the corpus.")


def assign_speaker_splits(speakers: pd.DataFrame, n_valid: int, n_test: int, seed: int) -> dict[str, str]:
    """Open speaker set: valid and test speakers are never heard in training; genders are balanced per split."""
    if n_valid + n_test >= len(speakers):
        raise CocktailError(
            f"corpus.valid_speakers ({n_valid}) + corpus.test_speakers ({n_test}) leave no training speaker "
            f"out of {len(speakers)}. Lower them or use a corpus with more speakers."
        )
    rng = np.random.default_rng(seed)
    # Alternate genders so that each split gets both.
    by_gender = [list(rng.permutation(sorted(g["speaker"]))) for _, g in speakers.groupby("gender", sort=True)]
    order = []
    while any(by_gender):
        for group in by_gender:
            if group:
                order.append(group.pop(0))
    split = {}
    for i, speaker in enumerate(order):
        split[speaker] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return split


def assign_utterance_splits(manifest: pd.DataFrame, n_valid: int, n_test: int, seed: int) -> pd.Series:
    """Closed speaker set: every speaker in every split, each speaker's utterances divided in proportion."""
    rng = np.random.default_rng(seed)
    n_speakers = manifest["speaker"].nunique()
    valid_share, test_share = n_valid / n_speakers, n_test / n_speakers
    split = pd.Series("train", index=manifest.index)
    for _, rows in manifest.groupby("speaker", sort=True):
        idx = rng.permutation(rows.index.to_numpy())
        n_te = max(1, round(len(idx) * test_share))
        n_va = max(1, round(len(idx) * valid_share))
        split[idx[:n_te]] = "test"
        split[idx[n_te : n_te + n_va]] = "valid"
    return split


def build_manifest(utterances: list[Utterance], sample_rate: int, speaker_set: str, n_valid: int, n_test: int, seed: int) -> pd.DataFrame:
    manifest = pd.DataFrame(
        {
            "utt_id": [f"u{i:06d}" for i in range(len(utterances))],
            "speaker": [u.speaker for u in utterances],
            "gender": [u.gender for u in utterances],
            "duration": [round(len(u.audio) / sample_rate, 4) for u in utterances],
            "origin": [u.origin for u in utterances],
            "text": [u.text for u in utterances],
        }
    )
    if speaker_set == "open":
        speakers = manifest[["speaker", "gender"]].drop_duplicates("speaker")
        manifest["split"] = manifest["speaker"].map(assign_speaker_splits(speakers, n_valid, n_test, seed))
    elif speaker_set == "closed":
        manifest["split"] = assign_utterance_splits(manifest, n_valid, n_test, seed)
    else:
        raise CocktailError(f"params key 'corpus.speaker_set' is '{speaker_set}': use 'open' or 'closed'.")
    return manifest


def write_prepared(out_dir: str | Path, utterances: list[Utterance], manifest: pd.DataFrame) -> None:
    out_dir = Path(out_dir)
    audio, offsets = pack([u.audio for u in utterances])
    save_npz(out_dir / "audio.npz", audio=audio, offsets=offsets)
    save_csv(out_dir / "manifest.csv", manifest)


def load_prepared(directory: str | Path) -> tuple[list[np.ndarray], pd.DataFrame]:
    """The prepare stage's audio (one array per utterance) and manifest, in the same order."""
    shard = load_npz(Path(directory) / "audio.npz")
    return unpack(shard["audio"], shard["offsets"]), pd.read_csv(Path(directory) / "manifest.csv", keep_default_na=False)


def summary(manifest: pd.DataFrame) -> str:
    rows = manifest.groupby("split").agg(speakers=("speaker", "nunique"), utterances=("utt_id", "size"), minutes=("duration", "sum"))
    rows["minutes"] = (rows["minutes"] / 60).round(1)
    return rows.reindex([s for s in SPLITS if s in rows.index]).to_string()
