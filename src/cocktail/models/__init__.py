"""The one registry of architectures. Adding one: a module here declaring ARCHITECTURE, and its params section."""

from cocktail.errors import CocktailError
from cocktail.models import blstm, blstm_dc, convtasnet, danet, dpcl, ff, lstm, nmf
from cocktail.models.base import BUDGET_KEYS, Architecture

ARCHITECTURES: dict[str, Architecture] = {
    m.ARCHITECTURE.name: m.ARCHITECTURE for m in (ff, lstm, blstm, blstm_dc, dpcl, danet, convtasnet, nmf)
}


def get_architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise CocktailError(
            f"params key 'model' is '{name}', which is not a registered architecture. "
            f"Valid names: {', '.join(sorted(ARCHITECTURES))}."
        )
    return ARCHITECTURES[name]


def architecture_section(params, name: str) -> dict:
    """The architecture's own params section, checked for every key it needs before any work starts."""
    architecture = get_architecture(name)
    section = params.section(name)
    for key in (*architecture.params, *(BUDGET_KEYS if architecture.trained_by_gradient else ())):
        section[key]
    return dict(section)
