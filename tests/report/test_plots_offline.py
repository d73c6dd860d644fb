"""`dvc plots show` and `dvc plots diff` draw without internet: the project's page template (.dvc/config
plots.html_template) inlines Vega, Vega-Lite and Vega-Embed, which DVC's own page loads from a CDN."""

import re
import shutil

import pytest
import yaml
from conftest import ROOT, run
from test_report import chromium

TEMPLATE = ROOT / ".dvc" / "plots" / "offline.html"
DVC_YAML = yaml.safe_load((ROOT / "dvc.yaml").read_text())
PATHS = {key: value for entry in DVC_YAML["vars"] for key, value in entry["paths"].items()}

DRAWN = """
const [ids, done] = [arguments[0], arguments[arguments.length - 1]];
const deadline = Date.now() + 15000;
const drawn = () => ids.filter(id => document.getElementById(id)?.querySelector('canvas, svg'));
(function poll() {
  if (drawn().length === ids.length || Date.now() > deadline) {
    done({drawn: drawn(), fetched: performance.getEntriesByType('resource').map(r => r.name)});
  } else {
    setTimeout(poll, 100);
  }
})();
"""


def test_the_template_loads_nothing():
    page = TEMPLATE.read_text()
    assert page.count("{plot_divs}") == 1
    assert "{scripts}" not in page, "DVC would put its CDN script tags there"
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert markup.count("<script") == 0 and not re.search(r"\b(src|href)=", markup)
    assert page.count("<script>") == 3 and "https://cdn" not in page


def write_plot_data(repo, plots: list[dict], shift: float) -> None:
    """A few rows in every file the plots read: curves by step (TSV), one score per source (CSV)."""
    for plot in plots:
        for definition in plot.values():
            for name, column in definition["y"].items():
                path = repo / re.sub(r"\$\{paths\.(\w+)\}", lambda m: PATHS[m[1]], name)  # as DVC resolves dvc.yaml's vars
                path.parent.mkdir(parents=True, exist_ok=True)
                values = [1.0 + shift, 0.7 + shift, 0.5 + shift, 0.45 + shift]
                if path.suffix == ".tsv":
                    rows = [f"step\t{column}"] + [f"{step}\t{v}" for step, v in enumerate(values)]
                else:
                    rows = [f"mix_id,source,{column}"] + [f"m{i // 2},{i % 2},{10 * v}" for i, v in enumerate(values)]
                path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def plots_project(tmp_path_factory):
    """A repository with this project's plot definitions, templates and DVC config, its data committed once and
    changed since."""
    repo = tmp_path_factory.mktemp("plots")
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    run(["dvc", "init", "-q"], repo)
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots", dirs_exist_ok=True)
    plots = DVC_YAML["plots"]
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"vars": DVC_YAML["vars"], "plots": plots}, sort_keys=False))
    (repo / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    write_plot_data(repo, plots, 0.0)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "plots"], repo)
    write_plot_data(repo, plots, 0.3)
    return repo


@pytest.mark.parametrize("command", [["dvc", "plots", "show"], ["dvc", "plots", "diff", "HEAD"]])
def test_dvc_plots_draw_every_plot_offline(plots_project, command):
    run(command, plots_project)
    page = plots_project / "dvc_plots" / "index.html"
    html = page.read_text()
    assert "https://cdn" not in html and not re.search(r"<script\b[^>]*\bsrc=", html)
    ids = re.findall(r"vegaEmbed\('#([^']+)'", html)
    assert len(ids) == 3, html[-3000:]
    assert run(["git", "status", "--porcelain", "--", "dvc_plots"], plots_project).stdout == "", "dvc_plots/ must be git-ignored"
    driver = chromium()
    try:
        driver.get(page.as_uri())
        driver.set_script_timeout(30)
        loads = driver.execute_async_script(DRAWN, ids)
    finally:
        driver.quit()
    assert loads == {"drawn": ids, "fetched": []}, loads
