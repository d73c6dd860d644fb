"""The report stage's static page: the model's scores beside the oracle masks, training curves, and a few test
mixtures to hear and see (spectrograms with estimated and ideal masks, the embedding space of clustering
models). Plain HTML with its images and audio beside it: it opens from disk, no server needed."""

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from tqdm import tqdm

from cocktail.atomic import atomic_dir
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.masks import ideal_binary_mask, ideal_ratio_mask, voice_activity_weights
from cocktail.dsp.stft import stft
from cocktail.errors import CocktailError
from cocktail.report import figures
from cocktail.scoring.evaluation import estimate_order, fit_source_count, write_examples
from cocktail.scoring.results import COLUMNS, MIXTURE_LABEL, mixture_values


def existing(path: Path) -> Path:
    if not path.is_file():
        raise CocktailError(f"{path} not found: run `dvc repro` so the stage that writes it runs before the report.")
    return path


@dataclass
class Scores:
    """What the train, evaluate and oracle stages measured."""

    evaluation: dict
    per_source: pd.DataFrame
    oracle: dict
    oracle_per_source: pd.DataFrame
    training: dict
    curves: dict[str, pd.DataFrame]  # "train/loss", "eval/si_snri" ... -> (step, value)

    @classmethod
    def load(cls, metrics_dir: str | Path, curves_dir: str | Path) -> "Scores":
        metrics_dir, curves_dir = Path(metrics_dir), Path(curves_dir)
        curves = {str(p.relative_to(curves_dir).with_suffix("")): pd.read_csv(p, sep="\t") for p in sorted(curves_dir.rglob("*.tsv"))}
        if not curves:
            raise CocktailError(f"{curves_dir} holds no training curves (*.tsv): run `dvc repro train`.")
        return cls(
            json.loads(existing(metrics_dir / "eval.json").read_text()), pd.read_csv(existing(metrics_dir / "eval_per_source.csv")),
            json.loads(existing(metrics_dir / "oracle.json").read_text()), pd.read_csv(existing(metrics_dir / "oracle_per_source.csv")),
            json.loads(existing(metrics_dir / "train.json").read_text()), curves,
        )


@dataclass
class Example:
    """One test mixture with everything in reference order."""

    mix_id: str
    speakers: list[str]
    mixture: np.ndarray  # (samples,)
    references: np.ndarray  # (sources, samples)
    estimates: np.ndarray  # (sources, samples)
    masks: np.ndarray  # (sources, frames, bins): the model's, or implied by its estimates for time-domain models
    scores: pd.DataFrame  # one row per reference


def separate_examples(separator, mixtures: MixtureSet, n_sources: int, per_source: pd.DataFrame) -> tuple[list[Example], list[np.ndarray]]:
    """The examples, and the estimates in the model's own order (as the evaluate stage scored them)."""
    examples, raw = [], []
    for i, mixture in enumerate(tqdm(mixtures.mixtures, desc="separating examples", unit="mix")):
        mix_id = str(mixtures.table.at[i, "mix_id"])
        separation = fit_source_count(separator.separate(mixture, n_sources, mixtures.utt_ids(i)), mixture, n_sources)
        order = estimate_order(per_source, mix_id)
        if len(order) != n_sources:
            raise CocktailError(
                f"metrics/eval_per_source.csv has {len(order)} scores for {mix_id} but the model gives {n_sources} sources: "
                "run `dvc repro` so evaluate and report see the same model and settings."
            )
        estimates = separation.sources[order]
        if separation.masks is not None:
            masks = separation.masks[order]
        else:  # a time-domain model: each estimate's share of the estimates' magnitudes (an IRM) shows the same
            masks = ideal_ratio_mask(np.abs(stft(estimates, separator.spectral.stft)))
        scores = per_source[per_source["mix_id"] == mix_id].sort_values("source")
        speakers = str(mixtures.table.at[i, "speakers"]).split() if "speakers" in mixtures.table else []
        examples.append(Example(mix_id, speakers, mixture, mixtures.sources[i], estimates, masks, scores))
        raw.append(separation.sources)
    return examples, raw


def embedding_projection(separator, example: Example, max_points: int, seed: int):
    """PCA of the active bins' embeddings (a sample of them), labelled by the source that dominates each bin."""
    spec, embeddings = separator.spectral_outputs(example.mixture)
    active = voice_activity_weights(np.abs(spec), separator.spectral.vad_db).reshape(-1) > 0
    dominant = np.argmax(np.abs(stft(example.references, separator.spectral.stft)), axis=0).reshape(-1)
    points, labels = embeddings.reshape(-1, embeddings.shape[-1])[active], dominant[active]
    pick = np.sort(np.random.default_rng(seed).choice(len(points), size=min(len(points), max_points), replace=False))
    pca = PCA(n_components=2, random_state=seed).fit(points[pick])
    return pca.transform(points[pick]), labels[pick], pca.explained_variance_ratio_


def draw_example(directory: Path, separator, example: Example, scatter_points: int, seed: int) -> list[tuple[str, str]]:
    """The example's figures as (file name, caption)."""
    cfg, spectral = separator.spectral.stft, separator.spectral
    mask_label = "estimated mask" if separator.inference.gives_masks else "implied mask"
    reference_mags, estimate_mags = np.abs(stft(example.references, cfg)), np.abs(stft(example.estimates, cfg))
    ibm = ideal_binary_mask(reference_mags)
    rows = [
        {
            f"s{c + 1} reference": reference_mags[c], f"s{c + 1} estimate": estimate_mags[c],
            f"s{c + 1} {mask_label}": example.masks[c], f"s{c + 1} ideal binary mask": ibm[c],
        }
        for c in range(len(example.references))
    ]
    name = f"{example.mix_id}_spectrograms.png"
    figures.spectrogram_grid(
        directory / name, np.abs(stft(example.mixture, cfg)), rows, spectral.sample_rate, cfg.hop_length,
        f"{example.mix_id}: {separator.architecture_name}",
    )
    drawn = [(name, f"Spectrograms of the mixture, the references and the estimates, with the model's {mask_label}s "
                    "beside the ideal binary masks (white: 0, black: 1).")]
    if separator.inference.clusters:
        points, labels, explained = embedding_projection(separator, example, scatter_points, seed)
        name = f"{example.mix_id}_embeddings.png"
        figures.embedding_scatter(directory / name, points, labels, explained, f"{example.mix_id}: embeddings of active bins")
        drawn.append((name, f"The {separator.architecture_name} embeddings of {len(points)} active time-frequency bins, "
                            "projected on their first two principal components and coloured by the source that dominates each bin."))
    return drawn


def cell(value, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def metrics_table(scores: Scores, model: str, oracle_note: str) -> str:
    def row(label: str, values: dict, css: str = "") -> str:
        return f"<tr{css}><th>{html.escape(label)}</th>" + "".join(f"<td>{cell(values.get(k))}</td>" for _, k in COLUMNS) + "</tr>"

    header = "".join(f"<th>{label}</th>" for label, _ in COLUMNS)
    rows = [row(model, scores.evaluation, " class='model'")]
    rows += [row(f"oracle {mask.upper()}", values) for mask, values in scores.oracle.items()]
    mixture = mixture_values(scores.evaluation)
    if any(value is not None for value in mixture.values()):
        rows.append(row(MIXTURE_LABEL, mixture))
    return (
        "<table class='metrics'><caption>Test set: SDR and SI-SNR in dB; PESQ as MOS-LQO (wide band for audio at 16 kHz or "
        f"more, else narrow band); STOI and ESTOI from 0 to 1. Oracle masks use the true sources{html.escape(oracle_note)}; "
        "the unprocessed mixture is where the model starts.</caption>"
        f"<thead><tr><th>system</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def summary_list(scores: Scores, n_sources: int, sample_rate: int) -> str:
    training, evaluation = scores.training, scores.evaluation
    items = [
        ("model", evaluation.get("model")),
        ("parameters", cell(training.get("parameters"), "{:,.0f}")),
        ("training time", cell(training.get("train_seconds", 0) / 60, "{:.1f} min")),
        ("epochs run (best)", f"{training['epochs_run']} ({training['best_epoch']})" if "epochs_run" in training else ""),
        ("real-time factor", cell(training.get("real_time_factor"), "{:.4f}")),
        ("test mixtures", evaluation.get("test_mixtures")),
        ("sources per mixture", n_sources),
        ("clustering", evaluation.get("clustering") if evaluation.get("clustering") == "meanshift" else ""),
        ("mask accuracy", cell(evaluation.get("mask_accuracy"), "{:.1%}")),
        ("sample rate", f"{sample_rate} Hz"),
    ]
    return "<dl class='summary'>" + "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items if v not in ("", None)) + "</dl>"


def example_section(example: Example, drawn: list[tuple[str, str]]) -> str:
    def player(role: str, name: str, scores: str = "") -> str:
        return (f"<tr><th>{html.escape(role)}</th><td><audio controls preload='metadata' src='audio/{html.escape(name)}'></audio></td>"
                f"<td>{scores}</td></tr>")

    rows = [player("mixture", f"{example.mix_id}_mixture.wav")]
    for r, row in enumerate(example.scores.itertuples()):
        speaker = f" ({example.speakers[r]})" if r < len(example.speakers) else ""
        rows.append(player(f"s{r + 1} reference{speaker}", f"{example.mix_id}_s{r + 1}_reference.wav"))
        perceptual = "".join(
            f", {label} {value:.2f} (mixture {mixed:.2f})"
            for label, value, mixed in (("PESQ", row.pesq, row.pesq_mixture), ("STOI", row.stoi, row.stoi_mixture))
            if not np.isnan(value - mixed)
        )
        rows.append(player(f"s{r + 1} estimate", f"{example.mix_id}_s{r + 1}_estimate.wav",
                           f"SDR {row.sdr:.1f} dB, SDRi {row.nsdr:.1f} dB, SI-SNRi {row.si_snri:.1f} dB{perceptual}"))
    images = "".join(
        f"<figure><img src='figures/{html.escape(name)}' alt='{html.escape(caption)}'><figcaption>{html.escape(caption)}</figcaption></figure>"
        for name, caption in drawn
    )
    return f"<section class='example'><h3>{html.escape(example.mix_id)}</h3><table class='audio'>{''.join(rows)}</table>{images}</section>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.3rem 0.7rem; text-align: right; border-bottom: 1px solid #ddd; }
table.audio th, table.audio td { text-align: left; }
tr.model { background: #eef4ff; font-weight: bold; }
caption { caption-side: bottom; font-size: 0.85rem; color: #555; padding-top: 0.4rem; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dt { font-weight: bold; }
figure { margin: 1rem 0; }
img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #555; }
section.example { border-top: 2px solid #ccc; margin-top: 2rem; }
"""


def write_report(
    directory: str | Path, separator, mixtures: MixtureSet, n_sources: int, scores: Scores, oracle_sources: int,
    scatter_points: int, seed: int,
) -> None:
    """index.html with figures/ and audio/ beside it, written whole or not at all."""
    model = separator.architecture_name
    rate = separator.spectral.sample_rate
    examples, raw_estimates = separate_examples(separator, mixtures, n_sources, scores.per_source)
    with atomic_dir(directory) as tmp:
        (tmp / "figures").mkdir()
        write_examples(tmp / "audio", mixtures, raw_estimates, scores.per_source, len(mixtures), rate)
        figures.training_curves(tmp / "figures" / "training.png", scores.curves)
        figures.score_distribution(tmp / "figures" / "sdr_distribution.png", scores.per_source, scores.oracle_per_source, model)
        sections = [example_section(e, draw_example(tmp / "figures", separator, e, scatter_points, seed)) for e in examples]
        oracle_note = "" if oracle_sources == n_sources else f" (scored on the {oracle_sources}-source test set)"
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cocktail report: {html.escape(model)}</title><style>{STYLE}</style></head>
<body>
<h1>Separation report: {html.escape(model)}</h1>
{summary_list(scores, n_sources, rate)}
<h2>Scores</h2>
{metrics_table(scores, model, oracle_note)}
<figure><img src="figures/sdr_distribution.png" alt="Distribution of per-source SDR and SDR improvement">
<figcaption>SDR of every test source, and its improvement over the mixture, beside the oracle masks (the SDR per test
source that <code>dvc plots show</code> draws).</figcaption></figure>
<h2>Training</h2>
<figure><img src="figures/training.png" alt="Training curves"><figcaption>Per-epoch training and validation loss, validation
SI-SNR improvement on whole mixtures, and the learning rate (<code>dvc plots show</code>'s Loss and Validation SI-SNR
improvement).</figcaption></figure>
<h2>Examples</h2>
<p>The first {len(examples)} test mixtures: listen to the mixture, each reference and the estimate matched to it.</p>
{''.join(sections)}
</body></html>
"""
        (tmp / "index.html").write_text(page)
