"""What the cache holds, dataset by dataset (``growth-zones data list`` / ``data info``): the
catalogue entry, whether it is stored, the vintage and age of the copy and whether it is stale."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .catalogue import get_dataset, load_catalogue, staleness
from .store import Store


def _age_text(age_days: Any, cached: bool, live: bool) -> str:
    if age_days is not None:
        return f"{age_days / 365.25:.1f}y"
    return "live" if not cached and live else "?"


def dataset_rows(settings: Settings | None = None) -> list[dict[str, Any]]:
    """One record per catalogue entry, in catalogue order: key, layer, title, publisher, nations,
    licence, the vintage and release of the stored copy (else the release the catalogue pins), its
    age (``age_days``, and ``age`` in words: "1.2y", "live" or "?"), ``stale`` (older than the
    publisher's release cadence), which copy is stored (official release, mirror release,
    sample), and whether it is a default, optional (``manual`` says why) or cached dataset."""
    store = Store(settings)
    rows = []
    for d in load_catalogue().values():
        cached = store.has(d.key)
        prov = store.provenance(d.key) if cached else {}
        if cached:
            age = {"age_days": prov.get("age_days"), "stale": bool(prov.get("stale"))}
        elif d.live:  # a pull is dated by its retrieval: fresh
            age = {"age_days": None, "stale": False}
        else:
            age = staleness(d.released, d.release_cadence)
        rows.append(
            {
                "key": d.key,
                "layer": d.layer or d.kind,
                "title": d.title,
                "publisher": d.publisher,
                "nations": list(d.nations),
                "licence": d.licence,
                "vintage": prov.get("vintage", d.vintage),
                "released": prov.get("released", d.released),
                "release_cadence": d.release_cadence,
                "age_days": age["age_days"],
                "age": _age_text(age["age_days"], cached, d.live),
                "stale": age["stale"],
                "copy": prov.get("copy"),
                "non_commercial": d.non_commercial,
                "default": d.default,
                "optional": d.optional,
                "manual": d.manual,
                "cached": cached,
                "api": d.api,
                "url": d.url,
                "mirror_path": list(d.mirror_paths),
            }
        )
    return rows


def dataset_record(key: str, settings: Settings | None = None, *, latest: bool = False) -> dict[str, Any]:
    """A dataset's provenance record when stored, else its catalogue facts and staleness;
    ``latest`` asks the publisher for its newest release (``latest_release``)."""
    ds = get_dataset(key)
    store = Store(settings)
    record: dict[str, Any] = (
        store.provenance(key)
        if store.has(key)
        else {**ds.provenance_fields(), **staleness(ds.released, ds.release_cadence), "cached": False}
    )
    if latest:
        from .fetch import latest_release

        record["latest_release"] = latest_release(ds, store.settings)
    return record
