"""One exception type for problems the user can fix, so stage scripts print it and exit 1."""


class CocktailError(Exception):
    """A user-facing error: the message names the file or key and says what to do."""
