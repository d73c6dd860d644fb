"""A real corpus as the README documents it (a git-ignored symlink under data/), through every stage, scored with
the dictionary model (NMF), which needs the corpus's speaker identities."""


import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import assert_trained_and_scored, exp_run, outcome, restore, run


@pytest.fixture(scope="module")
def own_corpus(project, tmp_path_factory):
    """The documented setup for a real corpus: a git-ignored symlink under data/ is prepare's dependency. Scored with
    the dictionary model (NMF), which needs the corpus's speaker identities."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    corpus = elsewhere / "corpus"
    rng = np.random.default_rng(0)
    for speaker in range(8):
        for utt in range(3):
            path = corpus / f"spk{speaker}" / f"{utt}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            t = np.arange(16000) / 16000
            sf.write(path, 0.3 * np.sin(2 * np.pi * (150 + 60 * speaker) * t) + 0.02 * rng.standard_normal(t.size), 16000)
    link = project / "data" / "mine"
    link.symlink_to(corpus, target_is_directory=True)
    try:
        result = exp_run(
            project, "corpus.name=folder", "corpus.root=data/mine", "corpus.valid_speakers=2", "corpus.test_speakers=2", "model=nmf"
        )
        seen = outcome(project, result)
        seen.elsewhere = str(elsewhere)
        seen.lock = (project / "dvc.lock").read_text()
        seen.manifest = (project / "data/prepared/manifest.csv").read_text()
        (corpus / "spk0" / "0.flac").unlink()
        seen.status_after_a_change = run(["dvc", "status", "prepare"], project).stdout
    finally:
        link.unlink()
        restore(project)
    return seen


def test_the_dictionary_kind_trains_and_is_scored_through_the_pipeline(own_corpus):
    assert_trained_and_scored(own_corpus, "dictionary", "nmf")


def test_a_real_corpus_through_a_symlink(own_corpus):
    """dvc.lock names the link, not this machine's path, and a change inside the corpus reruns prepare."""
    seen = own_corpus
    assert {"prepare", "mix", "train", "evaluate"} <= seen.ran, seen.stdout
    assert seen.elsewhere not in seen.lock
    deps = yaml.safe_load(seen.lock)["stages"]["prepare"]["deps"]
    assert any(d["path"] == "data/mine" and d["nfiles"] == 24 for d in deps)
    assert "spk3/2.flac" in seen.manifest and seen.elsewhere not in seen.manifest
    assert "data/mine" in seen.status_after_a_change
