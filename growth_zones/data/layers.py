"""The canonical layers as one object (:class:`LayerSet`), read from the store in one place
(:meth:`LayerSet.load`), and where each designation dataset is complete."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import DataSourceError
from ..settings import BNG
from .catalogue import Dataset, datasets_for_layer
from .loaders import RasterData

log = logging.getLogger(__name__)


@dataclass
class LayerSet:
    """Canonical layers (EPSG:27700). Any layer may be ``None``: indicators that need it are then
    missing with the reason ``"layer <x> not available"``."""

    regions: gpd.GeoDataFrame | None = None
    countries: gpd.GeoDataFrame | None = None
    substations: gpd.GeoDataFrame | None = None
    grid_sites: pd.DataFrame | None = None
    grid_circuit_table: pd.DataFrame | None = None
    circuits: gpd.GeoDataFrame | None = None
    tec_projects: pd.DataFrame | None = None
    renewables: gpd.GeoDataFrame | None = None
    landing_points: gpd.GeoDataFrame | None = None
    internet_exchanges: gpd.GeoDataFrame | None = None
    protected_areas: gpd.GeoDataFrame | None = None
    designation_coverage: gpd.GeoDataFrame | None = None
    broadband_by_region: pd.DataFrame | None = None
    population_by_region: pd.DataFrame | None = None
    deprivation_by_region: pd.DataFrame | None = None
    population_grid: RasterData | None = None
    _unavailable: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Derived intermediates (transmission sets, TEC matches, raster convolutions, subdivided
    coverages). Cleared whenever a layer attribute is reassigned; after mutating a frame in place,
    call :meth:`clear_cache`."""
    _gaps: dict[tuple[str, str], CoverageGap] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """Why a designation is not checked in a nation (see :func:`designation_gaps`); filled by
    :meth:`load`, computed from the catalogue on first use for a hand-built layer set."""

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if not name.startswith("_") and "_cache" in self.__dict__:
            self.__dict__["_cache"].clear()
        if name == "protected_areas":
            self.__dict__["_gaps"] = None

    def clear_cache(self) -> None:
        self._cache.clear()

    @property
    def unavailable(self) -> dict[str, str]:
        """Datasets feeding the loaded layers that could not be had: catalogue key -> why.

        Filled by :meth:`load` (a dataset whose pull failed in this run, or a layer that could not
        be read); the workflows turn each into checks that could not run."""
        return self._unavailable

    def mark_unavailable(self, key: str, reason: str) -> None:
        self._unavailable[key] = reason
        self._gaps = None

    @property
    def gaps(self) -> dict[tuple[str, str], CoverageGap]:
        """``(designation, nation) -> CoverageGap``: why a designation is not checked in a nation
        (every designation of every GB nation that no stored national dataset checks in full)."""
        if self._gaps is None:
            self._gaps = designation_gaps(self.protected_areas, absent=self.unavailable, regions=self.regions)
        return self._gaps

    def __repr__(self) -> str:
        parts = []
        for name in self.layer_names():
            v = getattr(self, name)
            if v is None:
                parts.append(f"{name}=None")
            elif isinstance(v, RasterData):
                parts.append(f"{name}=raster{tuple(v.array.shape)}")
            else:
                parts.append(f"{name}={len(v)} rows")
        return "LayerSet(" + ", ".join(parts) + ")"

    @classmethod
    def layer_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.name.startswith("_"))

    @classmethod
    def load(
        cls, store: Any, *, names: Iterable[str] | None = None, include_northern_ireland: bool = False
    ) -> LayerSet:
        """Read the layers from a :class:`~growth_zones.data.store.Store`: the one way layers are
        assembled (CLI, API, notebooks, tests and benchmarks all come through here).

        ``names`` limits which layers are read (default: all). A layer the store cannot provide
        (``DataSourceError``) becomes ``None`` and the indicators that need it are reported missing
        with the reason. ``designation_coverage`` is built from the catalogue (see
        :func:`build_designation_coverage`).
        """
        wanted = set(cls.layer_names() if names is None else names)
        got: dict[str, Any] = {}
        unavailable: dict[str, str] = {}
        for name in cls.layer_names():
            if name == "designation_coverage" or name not in wanted:
                continue
            try:
                got[name] = store.read_raster(name) if name == "population_grid" else store.read_layer(name)
            except DataSourceError as err:
                log.warning("layer %s not available: %s", name, err)
                got[name] = None
                unavailable.update(_not_stored(store, name, str(err), everything=True))
            else:
                unavailable.update(_not_stored(store, name, ""))
        coverage_areas = None
        if "protected_areas" in wanted:
            try:
                coverage_areas = store.read_layer("coverage_areas")
            except DataSourceError as err:
                log.warning("layer coverage_areas not available: %s", err)
                unavailable.update(_not_stored(store, "coverage_areas", str(err), everything=True))
            else:
                unavailable.update(_not_stored(store, "coverage_areas", ""))
        layers = cls(**got)
        for key, why in unavailable.items():
            layers.mark_unavailable(key, why)
        if not include_northern_ireland:
            layers = layers.gb_only()
        copies = None
        if layers.protected_areas is not None:
            copies = _stored_copies(store, layers.protected_areas)
            layers.designation_coverage = build_designation_coverage(
                layers.protected_areas,
                coverage_areas,
                layers.regions,
                layers.countries,
                catalogue=getattr(store, "catalogue", None),
                copies=copies,
            )
        catalogue = getattr(store, "catalogue", None)
        layers._gaps = designation_gaps(
            layers.protected_areas,
            catalogue,
            absent=layers.unavailable,
            copies=copies,
            regions=layers.regions,
            coverage_missing={
                k: v
                for k, v in layers.unavailable.items()
                if getattr((catalogue or {}).get(k), "layer", None) == "coverage_areas"
            },
        )
        return layers

    def gb_only(self) -> LayerSet:
        """Drop Northern Ireland rows from regions and countries (returns self, modified)."""
        for name in ("regions", "countries"):
            frame = getattr(self, name)
            if frame is not None and "nation" in frame:
                setattr(self, name, frame[frame["nation"] != "Northern Ireland"])
        return self


def _not_stored(store: Any, layer: str, error: str, *, everything: bool = False) -> dict[str, str]:
    """Default datasets of ``layer`` that could not be had in this run, with the reason: a pull that
    failed, was skipped because the mirror holds no copy, or found nothing in the cache offline
    (``store.unavailable``); a non-optional default dataset that is simply not stored (never
    pulled); and, with ``everything`` (the layer could not be read at all), every stored one with
    the read error. An optional dataset that is not stored is not listed: it has no machine-readable
    national source, a documented coverage gap (see :func:`designation_gaps`)."""
    catalogue = getattr(store, "catalogue", None)
    has = getattr(store, "has", None)
    if not isinstance(catalogue, dict) or has is None:
        return {}
    known = getattr(store, "unavailable", None) or {}
    out: dict[str, str] = {}
    for ds in datasets_for_layer(layer, catalogue):
        if ds.key in known:
            out[ds.key] = known[ds.key]
        elif everything and error and has(ds.key):  # stored, but the layer could not be read
            out[ds.key] = error
        elif not ds.optional and not has(ds.key):
            out[ds.key] = f"it is not stored (run `growth-zones data pull {ds.key}`)"
    return out


def _stored_copies(store: Any, protected_areas: gpd.GeoDataFrame) -> dict[str, dict[str, Any]] | None:
    """Provenance of each stored designation dataset (which copy: official release or sample)."""
    if not hasattr(store, "provenance") or "dataset" not in protected_areas:
        return None
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(set(protected_areas["dataset"])):
        try:
            out[key] = store.provenance(key)
        except DataSourceError:
            continue
    return out


@dataclass(frozen=True)
class CoverageGap:
    """Why a designation is not checked in a nation.

    ``kind`` is ``"unavailable"`` when a default national dataset exists but this run did not have
    it in full (its pull failed, the mirror holds no copy, it is not in the cache offline, only a
    sample of it is stored): the checks it feeds could not run, which ends a command with exit
    code 4 unless ``--allow-missing``. It is ``"coverage gap"`` when no machine-readable national
    dataset exists (an optional catalogue entry, or none catalogued): a documented, permanent gap,
    said everywhere but not an error.
    """

    reason: str
    datasets: tuple[str, ...] = ()
    kind: str = "unavailable"

    @property
    def blocking(self) -> bool:
        return self.kind == "unavailable"


UNAVAILABLE, COVERAGE_GAP, UNDECIDED = "unavailable", "coverage gap", "undecided"
"""The kinds of a check that could not run: its data could not be had (exit 4), no machine-readable
national dataset exists (a documented coverage gap), or the published data cannot decide it."""


def _area_text(area: str, regions: gpd.GeoDataFrame | None = None) -> str:
    """A sample's coverage area in words ("lad:E08000009" -> "Trafford (E08000009)")."""
    if area == "extent":
        return "the extent of the extract"
    if area == "gb":
        return "Great Britain"
    if area.startswith("lad:"):
        code = area.split(":", 1)[1]
        if regions is not None and "code" in regions and "name" in regions:
            hit = regions.loc[regions["code"] == code, "name"]
            if len(hit):
                return f"{hit.iloc[0]} ({code})"
        return f"local authority {code}"
    return f"the {area.replace('_', ' ')} area" if area else "its sample area"


def why_not_had(why: str) -> str:
    """A dataset's pull message as the reason a check could not run (short; the full message is in
    ``data pull`` and the log)."""
    text = " ".join(str(why).split())
    if text.startswith("skipped: the mirror holds no copy"):
        return "the mirror holds no copy"
    if text.startswith("not in the cache, and --offline"):
        return "not in the cache (--offline uses the cache only)"
    if text.startswith("it is not stored (run `growth-zones data pull"):
        return "not stored (`growth-zones data pull` fetches it)"
    return _short(text.removeprefix("skipped: "))


def not_had_text(items: list[tuple[str, str, str]]) -> str:
    """``[(key, title, why)]`` -> "dataset a (A) could not be had: why; datasets b (B), c (C) could
    not be had: why2": datasets that failed for the same reason are named together."""
    by_why: dict[str, list[str]] = {}
    for key, title, why in items:
        by_why.setdefault(why_not_had(why), []).append(f"{key} ({title})" if title else key)
    return "; ".join(
        f"dataset{'s' if len(names) > 1 else ''} {', '.join(names)} could not be had: {why}"
        for why, names in by_why.items()
    )


def _first_clause(text: str) -> str:
    return text.split(";")[0].split(". ")[0].strip()


def designation_gaps(
    protected_areas: gpd.GeoDataFrame | None,
    catalogue: dict[str, Dataset] | None = None,
    *,
    absent: dict[str, str] | None = None,
    copies: dict[str, dict[str, Any]] | None = None,
    coverage_missing: dict[str, str] | None = None,
    regions: gpd.GeoDataFrame | None = None,
) -> dict[tuple[str, str], CoverageGap]:
    """``(designation, nation) -> CoverageGap`` for every GB nation and designation that a stored
    national dataset does not check in full:

    * a default dataset that is not stored (``absent`` gives why: its pull failed, the mirror
      holds no copy, offline and not cached; else "not stored"): *unavailable*;
    * a stored *sample* of a national dataset (the test mirror's regional extracts; ``copies``:
      the stored provenance by key): *unavailable* outside the sample's area;
    * an optional dataset (no machine-readable national endpoint; the catalogue's ``manual`` says
      why) that is not stored, or a designation no dataset is catalogued for in a nation: a
      *coverage gap*.

    Only rows that are actually "not checked" are ever blamed on these (a sample still checks the
    places inside it).
    """
    from ..policy import DESIGNATION_LABELS, DESIGNATIONS
    from .schemas import GB_NATIONS

    entries = (
        datasets_for_layer("protected_areas")
        if catalogue is None
        else [d for d in catalogue.values() if d.layer == "protected_areas" and d.default]
    )
    absent = absent or {}
    present = (
        set(protected_areas["dataset"])
        if protected_areas is not None and "dataset" in protected_areas
        else set()
    )
    issues: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    covered: set[tuple[str, str]] = set()
    for ds in entries:
        keys = [(d, nation) for nation in ds.nations if nation in GB_NATIONS for d in ds.designations]
        covered.update(keys)
        if ds.key in present and ds.key not in absent:
            copy = (copies or {}).get(ds.key)
            sample = (
                (copy.get("copy") == "sample") if copy else bool(ds.mirror_copy and ds.mirror_copy.is_sample)
            )
            if not sample:
                continue
            area = (copy or {}).get("coverage_area") or (
                ds.mirror_copy.coverage_area if ds.mirror_copy else ""
            )
            why = (
                f"only a sample of dataset {ds.key} ({ds.title}) is stored, complete within "
                f"{_area_text(str(area or ''), regions)} only"
            )
            if coverage_missing:
                why += "; where the sample applies is unknown too: " + "; ".join(
                    f"dataset {k} could not be had: {v}" for k, v in coverage_missing.items()
                )
            item = (UNAVAILABLE, ds.key, why)
        elif ds.optional:
            item = (
                COVERAGE_GAP,
                ds.key,
                f"no machine-readable national dataset for {'/'.join(ds.nations)} "
                f"({ds.title}, {ds.key}: {_first_clause(ds.manual)}; used when a mirror holds a copy)",
            )
        else:
            why = absent.get(ds.key) or f"it is not stored (run `growth-zones data pull {ds.key}`)"
            item = (UNAVAILABLE, ds.key, "\x00" + why)  # grouped with the others below
        for key in keys:
            issues.setdefault(key, []).append(item)
    gaps: dict[tuple[str, str], CoverageGap] = {}
    for d in DESIGNATIONS:
        for nation in GB_NATIONS:
            if (d, nation) not in covered:
                label = DESIGNATION_LABELS.get(d, d)
                gaps[(d, nation)] = CoverageGap(
                    f"no national {label} dataset for {nation} is catalogued", (), COVERAGE_GAP
                )
    titles = {ds.key: ds.title for ds in entries}
    for key, items in issues.items():
        kinds = {k for k, _, _ in items}
        not_had = [(k, titles.get(k, ""), w[1:]) for _, k, w in items if w.startswith("\x00")]
        texts = [w for _, _, w in items if not w.startswith("\x00")]
        if not_had:
            texts.insert(0, not_had_text(not_had))
        gaps[key] = CoverageGap(
            "; ".join(dict.fromkeys(texts)),
            tuple(dict.fromkeys(k for _, k, _ in items)),
            UNAVAILABLE if UNAVAILABLE in kinds else COVERAGE_GAP,
        )
    return gaps


def _short(reason: str, limit: int = 300) -> str:
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _union(geoms: Any) -> shapely.Geometry:
    return shapely.union_all(shapely.make_valid(np.asarray(geoms)))


def _coverage_plan(
    ds: Dataset, copy: dict[str, Any] | None
) -> tuple[tuple[str, ...], str | None, tuple[str, ...]]:
    """``(designations, sample area or None, nations)`` for the stored copy of ``ds``.

    With the stored provenance the copy is known: a sample is complete within its area only, an
    official release within its nations. Without it (an old store, a test double) the reading is
    the conservative one: an entry that declares a sample is taken to be that sample."""
    mc = ds.mirror_copy
    if copy is not None and copy.get("copy"):
        designations = tuple(copy.get("designations") or ds.designations)
        area = copy.get("coverage_area") if copy.get("copy") == "sample" else None
        return designations, area, ds.nations
    if mc is not None and mc.is_sample:
        designations = mc.designations if mc.designations is not None else ds.designations
        return tuple(designations), mc.coverage_area, ds.nations
    if ds.coverage_area and not ds.nations:
        return ds.designations, ds.coverage_area, ()
    return ds.designations, None, ds.nations


def build_designation_coverage(
    protected_areas: gpd.GeoDataFrame,
    coverage_areas: gpd.GeoDataFrame | None,
    regions: gpd.GeoDataFrame | None,
    countries: gpd.GeoDataFrame | None,
    catalogue: dict[str, Dataset] | None = None,
    copies: dict[str, dict[str, Any]] | None = None,
) -> gpd.GeoDataFrame:
    """Where each designation dataset is complete: one row per (designation, dataset).

    A dataset pulled from its publisher is complete in the ``nations`` its catalogue entry names
    (the union of those countries; regions if there is no countries layer). A *sample* (the mirror
    copy of a national dataset cut to one area, recognised by its pinned hash; see
    ``Dataset.mirror_copy``) is complete only within its coverage area:

    * an area name, e.g. ``"north_east"``: the ``coverage_areas`` rows with that ``area``;
    * ``"lad:<code>"``: that LAD's polygon from ``regions``;
    * ``"extent"``: the envelope of the dataset's own features (the extract was a rectangular
      user-area download; a union would call every gap between polygons 'not checked');
    * ``"gb"``: the union of the GB countries.

    ``copies`` is the stored provenance by dataset key (which copy was stored); without it a
    dataset that declares a sample is taken to be the sample. A dataset with several designations
    (EA flood zones: FZ2 and FZ3) gives one row per designation its copy holds.

    Only datasets present in ``protected_areas`` (by its ``dataset`` column) are used: a dataset
    that was not loaded must not turn 'not checked' into 'absent'. A coverage that cannot be
    resolved (e.g. a LAD code absent from this boundary vintage) is skipped with a warning.
    """
    if catalogue is None:
        entries = datasets_for_layer("protected_areas")
    else:
        entries = [d for d in catalogue.values() if d.layer == "protected_areas"]
    present = set(protected_areas["dataset"]) if "dataset" in protected_areas else set()
    rows: list[tuple[str, str, shapely.Geometry]] = []
    nation_geoms: dict[tuple[str, ...], shapely.Geometry | None] = {}

    def nations_geom(nations: tuple[str, ...]) -> shapely.Geometry | None:
        if nations not in nation_geoms:
            src = countries if countries is not None else regions
            geom = None
            if src is not None and "nation" in src:
                hit = src[src["nation"].isin(nations)]
                geom = _union(hit.geometry.values) if len(hit) else None
            nation_geoms[nations] = geom
        return nation_geoms[nations]

    for ds in entries:
        if ds.key not in present:
            continue
        designations, area, nations = _coverage_plan(ds, (copies or {}).get(ds.key) if copies else None)
        if not designations:
            continue
        geom: shapely.Geometry | None = None
        if area is None:
            geom = nations_geom(tuple(nations)) if nations else None
        elif area == "gb":
            geom = nations_geom(("England", "Scotland", "Wales"))
        elif area == "extent":
            feats = protected_areas.geometry[protected_areas["dataset"] == ds.key]
            geom = shapely.box(*feats.total_bounds)
        elif area.startswith("lad:"):
            code = area.split(":", 1)[1]
            if regions is not None:
                hit = regions[regions["code"] == code]
                if len(hit):
                    geom = _union(hit.geometry.values)
        elif coverage_areas is not None:
            hit = coverage_areas[coverage_areas["area"] == area]
            if len(hit):
                geom = _union(hit.geometry.values)
        if geom is None or geom.is_empty:
            log.warning(
                "coverage %r of dataset %s could not be resolved; %s treated as not checked",
                area or ",".join(nations) or "(none declared)",
                ds.key,
                ", ".join(designations),
            )
            continue
        rows.extend((d, ds.key, geom) for d in designations)
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["designation", "dataset", "geometry"]), geometry="geometry", crs=BNG
    )
