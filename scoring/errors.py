"""Errors raised by the scoring package.

``scoring`` is a pure library and must not import ``growth_zones``; the CLI can still catch
:class:`ScoringConfigError` as a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterable


class ScoringConfigError(ValueError):
    """A profile (or value-function spec, or an indicator table checked against a profile) is invalid.

    ``problems`` holds every problem found, each prefixed with its location, e.g.
    ``aigz.toml: criteria.dist_gsp_km.value_function.max: must be > min (got min=50, max=10)``.
    The message lists all of them, one per line.
    """

    def __init__(self, problems: Iterable[str], *, header: str | None = None) -> None:
        self.problems: list[str] = [str(p) for p in problems]
        n = len(self.problems)
        head = header or f"{n} problem{'s' if n != 1 else ''} in scoring configuration"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))
