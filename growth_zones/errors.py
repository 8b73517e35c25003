"""Exception hierarchy.

Every error the library raises on purpose derives from :class:`GrowthZonesError`, so the CLI can
catch one type, print one line and exit 1. Subclasses also inherit the matching builtin so callers
that catch ``OSError`` or ``ValueError`` keep working.
"""

from __future__ import annotations


class GrowthZonesError(Exception):
    """Root of every deliberate growth-zones error."""


class DataSourceError(GrowthZonesError, OSError):
    """A dataset could not be fetched, verified or found (network, HTTP status, hash, offline cache miss)."""


class UnreachableError(DataSourceError):
    """The host did not answer at all (no route, DNS failure, timeouts): other downloads from the
    same host in this run are skipped rather than retried one by one."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


class NotInMirror(DataSourceError):
    """No mirror location holds the dataset's file (a missing local file, HTTP 404/410 from every
    location): the dataset is *skipped* by ``data pull``, and the checks it feeds could not run."""


class SchemaError(GrowthZonesError, ValueError):
    """A dataset's columns, CRS or geometry are not what its catalogue entry promises."""


class InvalidInputError(GrowthZonesError, ValueError):
    """User input (an applications file, a bbox, an option) is unusable."""


class CatalogueError(GrowthZonesError, ValueError):
    """The dataset catalogue is malformed or names an unknown dataset."""


class OfflineError(DataSourceError):
    """Offline mode was requested and datasets are missing from the cache."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            "offline mode: not in the cache: "
            + ", ".join(self.missing)
            + ". Run `growth-zones data pull` with network access or `--mirror DIR` first."
        )
