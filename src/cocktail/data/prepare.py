"""Corpus -> one audio file plus a manifest, with speakers assigned to train/valid/test.

Recordings are decoded on every core and streamed to disk in corpus order, so memory does not
grow with the corpus. Files that cannot be used are skipped and listed in bad_files.csv beside
the manifest; too many of them stop the stage.
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cocktail.atomic import save_csv
from cocktail.data.corpora import scan_corpus
from cocktail.data.corpora.decode import decode
from cocktail.data.prepared_data import AUDIO, MANIFEST, MIX_LIST, MIXED, OFFSETS, ROLE, SOURCE, SPLITS, source_rows
from cocktail.data.shards import SignalWriter
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

BAD_FILES = "bad_files.csv"
MANIFEST_COLUMNS = ["utt_id", "speaker", "gender", "duration", "origin", "text", "split", "split_by"]
SHOWN_BAD_FILES = 5


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
        n_te = max(1, round(len(idx) * test_share)) if n_test else 0
        n_va = max(1, round(len(idx) * valid_share)) if n_valid else 0
        split[idx[:n_te]] = "test"
        split[idx[n_te : n_te + n_va]] = "valid"
    return split


def build_manifest(records: list[dict], speaker_set: str, n_valid: int, n_test: int, seed: int) -> pd.DataFrame:
    """One row per utterance. A split the corpus defines itself (TIMIT's TEST, ESC-50's folds) is kept;
    the utterances it leaves open ("") are divided by corpus.speaker_set into the splits it does not define.
    `split_by` says which ("corpus" or "speakers"), so later advice names the setting that really decides. Records with
    a `role` other than a source (a premixed task's noise) add the ROLE column; other corpora's manifests stay as they were."""
    manifest = pd.DataFrame(records, columns=MANIFEST_COLUMNS[1:-1])
    manifest.insert(0, "utt_id", [f"u{i:06d}" for i in range(len(manifest))])
    manifest["split"] = manifest["split"].fillna("")
    undecided = manifest["split"] == ""
    manifest["split_by"] = np.where(undecided, "speakers", "corpus")
    given = set(manifest.loc[~undecided, "split"])
    n_valid = 0 if "valid" in given else n_valid
    n_test = 0 if "test" in given else n_test
    for split in sorted(given & {"valid", "test"}):
        print(f"the {split} split is the corpus's own (corpus.{split}_speakers is not used)")
    checked_choice("corpus.speaker_set", speaker_set, ("open", "closed"))
    if undecided.any():
        rows = manifest[undecided]
        if speaker_set == "open":
            speakers = rows[["speaker", "gender"]].drop_duplicates("speaker")
            manifest.loc[undecided, "split"] = rows["speaker"].map(assign_speaker_splits(speakers, n_valid, n_test, seed))
        else:
            manifest.loc[undecided, "split"] = assign_utterance_splits(rows, n_valid, n_test, seed)
    roles = [record.get(ROLE, SOURCE) for record in records]
    if any(role != SOURCE for role in roles):
        manifest[ROLE] = roles
    return manifest


def recordings(corpus: dict, settings: dict | None, seed: int) -> tuple[int, Iterator[tuple[dict, np.ndarray | None, str]], list[dict] | None]:
    """The corpus as (manifest fields, audio or None, why not) in corpus order, its size and its own mixture list."""
    sample_rate = int(corpus["sample_rate"])
    if corpus["name"] == "synthetic":
        from cocktail.data.corpora import synthetic

        utterances = synthetic.synthesize(int(settings["n_voices"]), int(settings["sentences_per_voice"]), sample_rate, seed)
        stream = (
            ({"speaker": u.speaker, "gender": u.gender, "origin": u.origin, "text": u.text, "split": ""}, u.audio, "")
            for u in utterances
        )
        return len(utterances), stream, None
    found = scan_corpus(corpus["name"], corpus["root"], settings)
    stream = (
        ({"speaker": f.speaker, "gender": f.gender, "origin": f.origin, "text": "", "split": f.split, ROLE: f.role},
         audio, reason)
        for f, audio, reason in decode(found.files, sample_rate)
    )
    return len(found.files), stream, found.mix_list


def check_bad_share(n_usable: int, bad: list[dict], max_bad_fraction: float) -> None:
    """Stop when nothing usable is left or too much of the corpus is bad; name the first bad files."""
    total = n_usable + len(bad)
    if n_usable and len(bad) <= max_bad_fraction * total:
        return
    shown = "\n  ".join(b["reason"] for b in bad[:SHOWN_BAD_FILES])
    cause = "no file could be used" if not n_usable else (
        f"{len(bad)} of {total} files ({len(bad) / total:.1%}) could not be used, more than "
        f"corpus.max_bad_fraction = {max_bad_fraction}"
    )
    raise CocktailError(
        f"{cause}. The first:\n  {shown}\nFix or remove these files, or raise corpus.max_bad_fraction to skip them."
    )


def mix_list_table(mix_list: list[dict], manifest: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The corpus's own mixtures by utt_id; those with an unusable recording are dropped (and counted). Where a
    mixture is not the sum of its targets (a premixed task's noise or reverberation), MIXED names the recordings whose
    sum it is; the column is only written for such corpora."""
    utt_of = dict(zip(manifest["origin"], manifest["utt_id"]))
    rows, dropped = [], 0
    for mixture in mix_list:
        mixed = mixture.get("mixed_origins") or []
        if not all(o in utt_of for o in [*mixture["origins"], *mixed]):
            dropped += 1
            continue
        snrs = mixture["snr_db"]
        rows.append(
            {
                "split": mixture["split"], "mix_id": mixture["mix_id"],
                "utt_ids": " ".join(utt_of[o] for o in mixture["origins"]),
                "snr_db": "" if snrs is None else " ".join(f"{s:g}" for s in snrs),
                MIXED: " ".join(utt_of[o] for o in mixed),
            }
        )
    columns = ["split", "mix_id", "utt_ids", "snr_db"]
    if any(m.get("mixed_origins") for m in mix_list):
        columns.append(MIXED)
    return pd.DataFrame(rows, columns=columns), dropped


def prepare_corpus(
    corpus: dict, settings: dict | None, seed: int, out_dir: str | Path, shown_dir: str | Path | None = None
) -> pd.DataFrame:
    """Write audio.npy, offsets.npy, manifest.csv, bad_files.csv (and mix_list.csv) into `out_dir` from the corpus
    the `corpus` params section names, read with the reader's own section `settings` (reader_section); messages
    name `shown_dir`, where a stage renames its temporary `out_dir` to once it succeeds."""
    out_dir = Path(out_dir)
    shown_dir = Path(shown_dir or out_dir)
    sample_rate = int(corpus["sample_rate"])
    total, stream, mix_list = recordings(corpus, settings, seed)
    writer = SignalWriter(out_dir / AUDIO)
    records, bad, seconds = [], [], 0.0
    with tqdm(total=total, desc="preparing", unit="file") as bar:
        for record, audio, reason in stream:
            if audio is None:
                bad.append({"origin": record["origin"], "reason": reason})
                bar.write(f"skipped: {reason}")
            else:
                writer.append(audio)
                record["duration"] = round(len(audio) / sample_rate, 4)
                records.append(record)
                seconds += len(audio) / sample_rate
            bar.update()
            bar.set_postfix_str(f"{seconds / 3600:.2f} h of audio", refresh=False)
    np.save(out_dir / OFFSETS, writer.close())
    check_bad_share(len(records), bad, float(corpus["max_bad_fraction"]))
    manifest = build_manifest(records, corpus["speaker_set"], int(corpus["valid_speakers"]), int(corpus["test_speakers"]), seed)
    save_csv(out_dir / MANIFEST, manifest)
    save_csv(out_dir / BAD_FILES, pd.DataFrame(bad, columns=["origin", "reason"]))
    if bad:
        print(f"{len(bad)} unusable file(s) skipped, listed in {shown_dir / BAD_FILES}")
    if mix_list is not None:
        table, dropped = mix_list_table(mix_list, manifest)
        save_csv(out_dir / MIX_LIST, table)
        print(f"{len(table)} listed mixtures" + (f" ({dropped} dropped: a source was unusable)" if dropped else ""))
    return manifest


def summary(manifest: pd.DataFrame) -> str:
    """Speakers, utterances and minutes per split; a premixed task's noise and reverberant copies are counted apart."""
    others = manifest[~source_rows(manifest)]
    manifest = manifest[source_rows(manifest)]
    rows = manifest.groupby("split").agg(speakers=("speaker", "nunique"), utterances=("utt_id", "size"), minutes=("duration", "sum"))
    rows["minutes"] = (rows["minutes"] / 60).round(1)
    table = rows.reindex([s for s in SPLITS if s in rows.index]).to_string()
    if others.empty:
        return table
    counts = ", ".join(f"{n} {role}" for role, n in others[ROLE].value_counts(sort=False).sort_index().items())
    return f"{table}\nmixed in, never targets (premixed.task): {counts} recording(s)"
