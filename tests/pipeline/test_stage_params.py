"""dvc.yaml's `params:` lists are kept by hand: a key a stage reads but does not list lets a change to it go unnoticed
by `dvc repro` (stale metrics); a listed key that params.yaml lacks is a typo or a leftover. The keys read are
recorded while the session's tiny project runs its first `dvc repro` (conftest.py, tests/params_read)."""

from collections import defaultdict

import pytest
import yaml
from conftest import PARAMS_READ, ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
DEFAULTS = yaml.safe_load((ROOT / "params.yaml").read_text())


def covers(entry: str, key: str) -> bool:
    return key == entry or key.startswith(entry + ".")


def has_key(tree: dict, dotted: str) -> bool:
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.fixture(scope="module")
def read_by_stage(project) -> dict[str, set[str]]:
    scripts = {f"pipeline/{name}.py": name for name in STAGES}
    read = defaultdict(set)
    for line in (project.parent / PARAMS_READ).read_text().splitlines():
        script, key = line.split()
        read[scripts[script]].add(key)
    return read


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_key_a_stage_reads_is_in_its_params_list(project, read_by_stage, name):
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"][name]
    tracked = list(lock.get("params", {}).get("params.yaml", {}))  # dvc.yaml's list as DVC resolved it (${model})
    assert read_by_stage[name], f"stage '{name}' read no params key: is the recorder (tests/params_read) loaded?"
    unlisted = sorted(key for key in read_by_stage[name] if not any(covers(entry, key) for entry in tracked))
    assert not unlisted, f"stage '{name}' reads {unlisted} but dvc.yaml's params list lacks them: a change would not rerun it"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_listed_key_exists_in_params_yaml(name):
    for entry in STAGES[name].get("params", []):
        key = DEFAULTS["model"] if entry == "${model}" else entry  # the architecture section `model` names
        assert has_key(DEFAULTS, key), f"stage '{name}' lists params key '{key}', which params.yaml does not have"
