"""The one registry of architectures: every module of this package except the shared ones is one architecture,
named as its module and declaring ARCHITECTURE (base, layers, losses and model_dir are what they share). Adding one is its module and its params.yaml section.

Names are found without importing any model code (so `cocktail --help` starts without TensorFlow); the modules
are imported the first time ARCHITECTURES or get_architecture is used."""

import importlib
import pkgutil
from functools import cache

from cocktail.errors import CocktailError
from cocktail.params import checked_choice

SHARED_MODULES = frozenset({"base", "layers", "losses", "model_dir"})


def architecture_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in SHARED_MODULES)


@cache
def registered() -> dict:
    found = {}
    for name in architecture_names():
        architecture = importlib.import_module(f"{__name__}.{name}").ARCHITECTURE
        if architecture.name != name:
            raise CocktailError(f"src/cocktail/models/{name}.py declares an architecture named '{architecture.name}': name it '{name}'.")
        found[name] = architecture
    return found


def __getattr__(attribute: str):
    if attribute == "ARCHITECTURES":
        return registered()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def get_architecture(name: str):
    architectures = registered()
    return architectures[checked_choice("model", name, architectures, ", the registered architectures")]


def names_where(test) -> list[str]:
    """Registered architectures whose Architecture passes `test`: the lists that error messages show."""
    return [name for name, architecture in registered().items() if test(architecture)]


def architecture_section(params, name: str) -> dict:
    """The architecture's own params section, checked for every key it needs before any work starts."""
    from cocktail.models.base import BUDGET

    architecture = get_architecture(name)
    section = params.section(name)
    checked = dict(section)
    for key, allowed in {**architecture.params, **(BUDGET if architecture.trained_by_gradient else {})}.items():
        checked[key] = allowed.check(f"{name}.{key}", section[key]) if allowed else section[key]
    return checked
