"""dvc.yaml's library deps must match what each stage script imports: a missing one lets a code change go
unnoticed by `dvc repro`, a stale one reruns a stage for nothing. Pure ast, so no TensorFlow is loaded."""

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LIBRARY = "src/cocktail"
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def package_inits(name: str) -> set[Path]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first."""
    parts = name.split(".")
    return {f for i in range(1, len(parts)) if (f := module_file(".".join(parts[:i]))) is not None}


def file_package(file: Path) -> str:
    """The package that relative imports in `file` start from."""
    parts = file.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1])


def imported_modules(path: Path, package: str | None) -> set[str]:
    """Module names a file imports anywhere (lazy imports inside functions included); `from m import x`
    yields m.x too, which counts only where x is a submodule."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def library_imports(script: Path) -> set[Path]:
    """Every src/cocktail file that running `script` executes, following imports transitively."""
    seen: set[Path] = set()
    pending = [(script, None)]
    while pending:
        path, package = pending.pop()
        for name in imported_modules(path, package):
            if name != "cocktail" and not name.startswith("cocktail."):
                continue
            found = module_file(name)
            if found is None:
                continue
            for file in package_inits(name) | {found}:
                if file not in seen:
                    seen.add(file)
                    pending.append((file, file_package(file)))
    return {file.relative_to(ROOT) for file in seen}


def stage_script(stage: dict) -> str:
    scripts = [word for word in stage["cmd"].split() if word.endswith(".py")]
    assert len(scripts) == 1, f"cmd '{stage['cmd']}' should run one pipeline script"
    return scripts[0]


def covers(dep: Path, file: Path) -> bool:
    return dep == file or dep in file.parents


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_its_script(name):
    stage = STAGES[name]
    script = stage_script(stage)
    assert script in stage["deps"], f"stage '{name}': dvc.yaml deps lack its own script {script}"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_library_deps_match_imports(name):
    stage = STAGES[name]
    imported = library_imports(ROOT / stage_script(stage))
    deps = [Path(d) for d in stage["deps"] if isinstance(d, str) and (d == LIBRARY or d.startswith(LIBRARY + "/"))]
    missing = sorted(str(f) for f in imported if not any(covers(d, f) for d in deps))
    unused = sorted(str(d) for d in deps if not any(covers(d, f) for f in imported))
    problems = []
    if missing:
        problems.append("imported but not in deps (a change would not rerun it):\n    " + "\n    ".join(missing))
    if unused:
        problems.append("in deps but never imported (a change reruns it for nothing):\n    " + "\n    ".join(unused))
    if problems:
        pytest.fail(f"stage '{name}' in dvc.yaml:\n  " + "\n  ".join(problems), pytrace=False)
