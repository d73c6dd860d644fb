"""Supervised NMF with oracle speaker identity: the classic baseline of the deep-clustering paper.

Each speaker's magnitude spectra are factorised into a dictionary of spectral atoms
(scikit-learn's NMF, KL divergence). A mixture is explained by the concatenated dictionaries
of the speakers known to be in it, with the dictionaries fixed and only the activations
fitted; each source's share of the reconstruction is its soft mask. A speaker's dictionary for
one utterance is learned from that speaker's other utterances (leave one out), so the test
utterance itself is never seen. Learned for every valid and test speaker; no gradient
training. Reference ("paper") settings: not given in detail; 40 atoms per speaker here."""

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.decomposition import NMF, non_negative_factorization
from sklearn.exceptions import ConvergenceWarning
from tqdm import tqdm

from cocktail.constants import EPS
from cocktail.data.prepared_data import source_rows
from cocktail.dsp.spectral import SpectralSettings
from cocktail.dsp.stft import istft, stft
from cocktail.errors import CocktailError
from cocktail.models.base import DICTIONARY, Architecture, Separation
from cocktail.models.model_dir import model_config, read_config, write_model_dir
from cocktail.params import WHOLE

DICTIONARIES_FILE = "dictionaries.npz"
BETA_LOSS = "kullback-leibler"


def learn_dictionary(spectra: list[np.ndarray], components: int, iterations: int, seed: int) -> np.ndarray:
    """(components, bins) atoms explaining the stacked (frames, bins) magnitude spectra."""
    model = NMF(components, beta_loss=BETA_LOSS, solver="mu", init="nndsvda", max_iter=iterations, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # `iterations` is a budget, not a failure
        model.fit(np.concatenate(spectra) + EPS)
    return model.components_.astype(np.float32)


@dataclass
class DictionarySeparator:
    architecture_name: str
    section: dict
    spectral: SpectralSettings
    n_sources: int
    utt_ids: list[str]  # the utterance each dictionary was learned without
    dictionaries: np.ndarray  # (utterances, components, bins)
    inference = DICTIONARY

    @property
    def parameter_count(self) -> int:
        return int(self.dictionaries.size)

    def separate(self, mixture: np.ndarray, n_sources: int | None = None, utt_ids: list[str] | None = None) -> Separation:
        """Needs the mixture's utterance ids: the oracle speaker identity this baseline is defined with."""
        index = {u: i for i, u in enumerate(self.utt_ids)}
        missing = [u for u in (utt_ids or []) if u not in index]
        if not utt_ids or missing:
            raise CocktailError(
                f"nmf separates only mixtures of known valid/test utterances (oracle speaker identity); "
                f"no dictionary for {', '.join(missing) or 'a mixture without utterance ids'}."
            )
        spec = stft(mixture, self.spectral.stft)
        atoms = self.dictionaries[[index[u] for u in utt_ids]]  # (C, K, F)
        n, k = len(atoms), atoms.shape[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            activations, _, _ = non_negative_factorization(
                (np.abs(spec) + EPS).astype(np.float64), H=atoms.reshape(n * k, -1).astype(np.float64), n_components=n * k,
                update_H=False, solver="mu", beta_loss=BETA_LOSS, max_iter=int(self.section["iterations"]), tol=1e-6,
            )
        parts = np.stack([activations[:, c * k : (c + 1) * k] @ atoms[c] for c in range(n)])
        masks = (parts / (parts.sum(axis=0, keepdims=True) + EPS)).astype(np.float32)
        return Separation(istft(masks * spec[None], self.spectral.stft, len(mixture)), masks)

    def save(self, directory: str | Path) -> None:
        write_model_dir(
            directory, model_config(self.architecture_name, self.section, self.n_sources, self.spectral),
            lambda tmp: np.savez(tmp / DICTIONARIES_FILE, utt_ids=np.array(self.utt_ids), dictionaries=self.dictionaries),
        )

    @classmethod
    def load(cls, directory: str | Path) -> "DictionarySeparator":
        config = read_config(directory, DICTIONARIES_FILE)
        with np.load(Path(directory) / DICTIONARIES_FILE, allow_pickle=False) as values:
            utt_ids, dictionaries = [str(u) for u in values["utt_ids"]], values["dictionaries"]
        spectral = SpectralSettings.from_dict(config["spectral"])
        return cls(config["architecture"], config["section"], spectral, config["n_sources"], utt_ids, dictionaries)


def learn(section, spectral: SpectralSettings, audio: list[np.ndarray], manifest: pd.DataFrame, n_sources: int, seed: int) -> DictionarySeparator:
    """One leave-one-out dictionary per utterance of every valid and test speaker, on every core."""
    manifest = manifest.reset_index(drop=True)
    held_out = manifest[(manifest["split"] != "train") & source_rows(manifest)]  # no premixed task's noise or reverberant copy
    spectra = {i: np.abs(stft(audio[i], spectral.stft)) for i in held_out.index}
    jobs = []
    for speaker, rows in held_out.groupby("speaker", sort=True):
        if len(rows) < 2:
            raise CocktailError(
                f"nmf learns a speaker's dictionary from their other utterances, but speaker {speaker} has only one. "
                "Use a corpus with more utterances per speaker (synthetic.sentences_per_voice) or another model."
            )
        for i in rows.index:
            others = [spectra[j] for j in rows.index if j != i]
            jobs.append((manifest.at[i, "utt_id"], delayed(learn_dictionary)(others, int(section["components"]), int(section["iterations"]), seed)))
    results = Parallel(n_jobs=-1, return_as="generator")(job for _, job in jobs)
    dictionaries = list(tqdm(results, total=len(jobs), desc="nmf dictionaries", unit="dict"))
    return DictionarySeparator("nmf", dict(section), spectral, n_sources, [u for u, _ in jobs], np.stack(dictionaries))


ARCHITECTURE = Architecture(
    name="nmf",
    inference=DICTIONARY,
    params={"components": WHOLE, "iterations": WHOLE},
    reference={},  # the paper gives no sizes
    tiny={"components": 3, "iterations": 50},
    learn=learn,
    separator=DictionarySeparator,
)
