"""The report's pictures, drawn with matplotlib off-screen: spectrograms with masks, embedding scatters,
training curves and the score distribution. Each function writes one PNG."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cocktail.atomic import atomic_path  # noqa: E402

DPI = 100
DB_RANGE = 80.0  # spectrograms show this many dB below their loudest bin
CURVE_ORDER = ("loss", "si_snri", "learning_rate")


def save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight")
    plt.close(fig)


def decibels(magnitude: np.ndarray, top: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(magnitude, top * 10 ** (-DB_RANGE / 20)) / top)


def spectrogram_grid(path, mixture_mag: np.ndarray, rows: list[dict[str, np.ndarray]], sample_rate: int, hop_length: int, title: str) -> None:
    """Mixture on top; one row per source of (title -> (frames, bins) array): magnitudes in dB, masks in [0, 1]."""
    frames, bins = mixture_mag.shape
    extent = (0, frames * hop_length / sample_rate, 0, sample_rate / 2000)
    columns = max(len(r) for r in rows)
    fig = plt.figure(figsize=(3.2 * columns, 2.0 * (len(rows) + 1)), layout="constrained")
    grid = fig.add_gridspec(len(rows) + 1, columns)
    top = float(mixture_mag.max()) or 1.0

    def panel(ax, image, label, is_mask):
        shown = image if is_mask else decibels(image, top)
        vmin, vmax, cmap = (0, 1, "gray_r") if is_mask else (-DB_RANGE, 0, "magma")
        im = ax.imshow(shown.T, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax, cmap=cmap, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("time (s)", fontsize=8)
        ax.set_ylabel("kHz", fontsize=8)
        ax.tick_params(labelsize=7)
        return im

    im = panel(fig.add_subplot(grid[0, :]), mixture_mag, "mixture", False)
    fig.colorbar(im, ax=fig.axes[0], label="dB", pad=0.01)
    for r, row in enumerate(rows):
        for c, (label, image) in enumerate(row.items()):
            panel(fig.add_subplot(grid[r + 1, c]), image, label, "mask" in label)
    fig.suptitle(title, fontsize=11)
    save(fig, path)


def embedding_scatter(path, points: np.ndarray, labels: np.ndarray, explained: np.ndarray, title: str) -> None:
    """2-D projection of per-bin embeddings, one colour per dominant source: separable clouds mean clusterable."""
    fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
    for source in np.unique(labels):
        chosen = labels == source
        ax.scatter(points[chosen, 0], points[chosen, 1], s=3, alpha=0.5, label=f"s{source + 1} dominant")
    ax.set_xlabel(f"PC 1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.0%} of variance)")
    ax.legend(markerscale=4, fontsize=8)
    ax.set_title(title, fontsize=10)
    save(fig, path)


def training_curves(path, curves: dict[str, pd.DataFrame]) -> None:
    """One panel per quantity (loss, SI-SNRi, learning rate), training and validation overlaid."""
    present = {name.split("/")[-1] for name in curves}
    quantities = [q for q in CURVE_ORDER if q in present] + sorted(present - set(CURVE_ORDER))
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.2), layout="constrained", squeeze=False)
    for ax, quantity in zip(axes[0], quantities):
        for name, frame in sorted(curves.items()):
            if name.split("/")[-1] == quantity:
                split = "validation" if name.startswith("eval") else "training"
                ax.plot(frame["step"] + 1, frame[quantity], marker="o", markersize=3, label=split)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title({"si_snri": "SI-SNR improvement (dB)", "learning_rate": "learning rate"}.get(quantity, quantity), fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    save(fig, path)


SCORE_PANELS = {"sdr": "SDR per test source (dB)", "nsdr": "SDR improvement per test source (dB)"}


def score_distribution(path, per_source: pd.DataFrame, oracle_per_source: pd.DataFrame, model: str) -> None:
    """Histograms of per-source SDR (what `dvc plots` draws) and of its improvement over the mixture, beside the
    oracle masks': the mean hides the mixtures a model fails on."""
    fig, axes = plt.subplots(1, len(SCORE_PANELS), figsize=(6 * len(SCORE_PANELS), 3.2), layout="constrained")
    for ax, (column, title) in zip(axes, SCORE_PANELS.items()):
        values = pd.concat([per_source[column], oracle_per_source[column]])
        bins = np.linspace(min(values.min(), 0) - 1, values.max() + 1, 40)
        for mask, frame in oracle_per_source.groupby("mask", sort=True):
            ax.hist(frame[column], bins=bins, histtype="step", linewidth=1.2, label=f"oracle {mask.upper()}")
        ax.hist(per_source[column], bins=bins, alpha=0.7, label=model)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("dB")
        ax.set_ylabel("sources")
        ax.legend(fontsize=8)
    save(fig, path)


def sdr_per_source(path, per_source: dict[str, pd.DataFrame]) -> None:
    """One box per system of per-source SDR and of its improvement: a review sees the spread, not only the mean."""
    width = max(5.0, 1.3 * len(per_source))
    fig, axes = plt.subplots(1, len(SCORE_PANELS), figsize=(width * len(SCORE_PANELS), 3.6), layout="constrained")
    for ax, (column, title) in zip(axes, SCORE_PANELS.items()):
        ax.boxplot([frame[column] for frame in per_source.values()], showmeans=True)
        ax.set_xticks(range(1, len(per_source) + 1), list(per_source), rotation=20, ha="right", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("dB")
        ax.grid(axis="y", alpha=0.3)
    save(fig, path)


def curves_overlaid(path, curves: dict[str, dict[str, pd.DataFrame]]) -> None:
    """Training and validation loss and validation SI-SNRi per epoch, one line style per system."""
    panels = {"loss": "loss (solid: training, dashed: validation)", "si_snri": "validation SI-SNR improvement (dB)"}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.4), layout="constrained")
    for colour, (system, tables) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4, curves.items()):
        for name, frame in tables.items():
            quantity = name.split("/")[-1]
            style = "--" if name.startswith("eval") and quantity == "loss" else "-"
            label = system if style == "-" else None
            axes[list(panels).index(quantity)].plot(frame["step"] + 1, frame[quantity], style, color=colour, marker="o",
                                                    markersize=3, label=label)
    for ax, title in zip(axes, panels.values()):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    save(fig, path)
