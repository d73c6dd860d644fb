"""The report page: its parts, and the page itself opened in headless Chromium from the tiny pipeline's output."""

import json
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import SECTIONS, SPECTRAL, TINY
from matplotlib.image import imread

from cocktail.errors import CocktailError
from cocktail.inference.separation import Separator
from cocktail.report import figures
from cocktail.report.page import Example, Scores, embedding_projection, metrics_table

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
)


def test_embedding_projection_labels_active_bins_by_dominant_source(two_sources):
    separator = Separator.create("dpcl", SECTIONS["dpcl"], SPECTRAL, 2)
    example = Example("m", [], two_sources.sum(axis=0), two_sources, two_sources, np.zeros(1), pd.DataFrame())
    points, labels, explained = embedding_projection(separator, example, max_points=150, seed=0)
    assert points.shape == (150, 2) and set(labels) <= {0, 1}
    assert 0 < explained.sum() <= 1.0 + 1e-6


def test_metrics_table_puts_the_model_beside_every_oracle_mask():
    scores = Scores({"gnsdr": 8.3, "gsir": 13.9, "gsar": 11.4, "sdri": 8.3, "si_snri": 7.9}, pd.DataFrame(),
                    {"ibm": {"gnsdr": 13.1}, "wiener": {"gnsdr": 13.6}}, pd.DataFrame(), {}, {})
    table = metrics_table(scores, "convtasnet", "")
    assert table.count("<tr") == 4 and "oracle IBM" in table and "oracle WIENER" in table and "8.30" in table


def test_metrics_table_shows_pesq_and_stoi_with_the_unprocessed_mixture_last():
    evaluation = {"gnsdr": 8.3, "pesq": 2.91, "stoi": 0.902, "estoi": 0.783}
    evaluation |= {"pesq_mixture": 1.6, "stoi_mixture": 0.71, "estoi_mixture": 0.5}
    scores = Scores(evaluation, pd.DataFrame(), {"ibm": {"gnsdr": 13.1, "pesq": 3.4}}, pd.DataFrame(), {}, {})
    table = metrics_table(scores, "convtasnet", "")
    assert "<th>PESQ</th><th>STOI</th><th>ESTOI</th>" in table and "<td>2.91</td><td>0.90</td><td>0.78</td>" in table
    assert table.count("<tr") == 4 and table.index("<th>oracle IBM</th>") < table.index("<th>unprocessed mixture</th>")
    assert "<th>unprocessed mixture</th><td></td>" in table and "<td>1.60</td><td>0.71</td><td>0.50</td></tr>" in table


def test_score_figure_draws_the_sdr_dvc_plots_draws_and_its_improvement(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "save", lambda fig, path: drawn.append(fig))
    per_source = pd.DataFrame({"sdr": [3.6, 8.0], "nsdr": [6.9, 4.2]})
    oracle = pd.DataFrame({"sdr": [10.6, 14.7, 9.8, 13.9], "nsdr": [13.9, 10.9, 13.1, 10.1], "mask": ["ibm"] * 2 + ["irm"] * 2})
    figures.score_distribution(tmp_path / "scores.png", per_source, oracle, "convtasnet")
    (fig,) = drawn
    assert [ax.get_title() for ax in fig.axes] == ["SDR per test source (dB)", "SDR improvement per test source (dB)"]
    for ax, column in zip(fig.axes, ["sdr", "nsdr"]):
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["oracle IBM", "oracle IRM", "convtasnet"]
        model_bins = [bar for bar in ax.containers[-1] if bar.get_height()]
        assert all(any(b.get_x() <= v < b.get_x() + b.get_width() for b in model_bins) for v in per_source[column])
    plt.close(fig)


def test_missing_scores_name_the_file(tmp_path):
    (tmp_path / "curves" / "train").mkdir(parents=True)
    (tmp_path / "curves" / "train" / "loss.tsv").write_text("step\tloss\n0\t1.0\n")
    with pytest.raises(CocktailError, match="eval.json"):
        Scores.load(tmp_path, tmp_path / "curves")


def test_missing_curves_say_which_stage(tmp_path):
    with pytest.raises(CocktailError, match="dvc repro train"):
        Scores.load(tmp_path, tmp_path / "curves")


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        pytest.fail("Debian's chromium and chromium-driver packages are needed: run scripts/setup.sh as root, "
                    "or `apt-get install chromium chromium-driver`.")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


# Waits for every <audio> to load its metadata (or fail) and reports each image's decoded size.
LOADS = """
const done = arguments[arguments.length - 1];
const audio = [...document.querySelectorAll('audio')].map(a => new Promise(resolve => {
  const report = () => resolve({src: a.getAttribute('src'), duration: a.duration, error: a.error ? a.error.code : null});
  if (a.readyState >= 1 || a.error) return report();
  a.addEventListener('loadedmetadata', report, {once: true});
  a.addEventListener('error', report, {once: true});
  a.load();
}));
const images = [...document.querySelectorAll('img')].map(img => img.decode().then(
  () => ({src: img.getAttribute('src'), width: img.naturalWidth}), () => ({src: img.getAttribute('src'), width: 0})));
Promise.all([Promise.all(images), Promise.all(audio)]).then(([i, a]) => done({images: i, audio: a}));
"""


def page_loads(driver, page: Path) -> dict:
    driver.get(page.as_uri())
    driver.set_script_timeout(30)
    return driver.execute_async_script(LOADS)


def broken(loads: dict) -> set[str]:
    return {i["src"] for i in loads["images"] if i["width"] == 0} | {a["src"] for a in loads["audio"] if a["error"] or not a["duration"] > 0}


def test_report_page_loads_in_headless_chromium(project, tmp_path):
    report = project / "report"
    driver = chromium()
    try:
        loads = page_loads(driver, report / "index.html")
        assert "Separation report" in driver.title + driver.find_element("tag name", "h1").text
        rows = driver.find_elements("css selector", "table.metrics tbody tr")
        labels = [r.find_element("tag name", "th").text for r in rows][1:]
        assert labels == ["oracle IBM", "oracle IRM", "oracle WIENER", "unprocessed mixture"]
        assert len(loads["images"]) == 2 + TINY["report.examples"] and len(loads["audio"]) == 5 * TINY["report.examples"]
        assert broken(loads) == set(), json.dumps(loads, indent=1)
        for a in loads["audio"]:
            assert a["duration"] == pytest.approx(sf.info(report / a["src"]).duration, abs=0.01), a["src"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, height)
        screenshot = tmp_path / "report.png"
        assert driver.save_screenshot(str(screenshot))
        pixels = imread(screenshot)
        assert pixels.shape[0] >= min(height, 16000) * 0.9 and pixels.std() > 0.05, "the page rendered blank"
        print(f"screenshot of the report: {screenshot}")

        damaged = tmp_path / "damaged"
        shutil.copytree(report, damaged)
        (damaged / "figures" / "training.png").unlink()
        (damaged / "audio" / sorted(p.name for p in (damaged / "audio").iterdir())[0]).write_bytes(b"not audio")
        assert len(broken(page_loads(driver, damaged / "index.html"))) == 2, "the check must catch a missing image and a bad audio file"
    finally:
        driver.quit()

