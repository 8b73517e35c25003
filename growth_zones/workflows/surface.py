"""The national suitability surface as a use case: profile -> layers -> COG, per-LAD zonal
statistics and candidate zones, written as one output set.

The raster is computed tile by tile straight to disk (memory is bounded by the tile size, not the
resolution), so the work happens in :meth:`SurfaceRun.write`; :func:`plan_surface` only validates
the profile and the options and gathers the layers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import InvalidInputError
from ..timings import step

SURFACE_LAYERS = (
    "regions",
    "countries",
    "substations",
    "grid_sites",
    "grid_circuit_table",
    "tec_projects",
    "circuits",
    "landing_points",
    "internet_exchanges",
    "protected_areas",
    "coverage_areas",
    "deprivation_by_region",
    "population_grid",
)
"""The canonical layers the surface reads."""


@dataclass
class SurfaceRun:
    """A validated surface build, ready to :meth:`write`."""

    spec: Any  # growth_zones.surface.SurfaceSpec
    plan: Any  # growth_zones.surface.CriteriaPlan
    layers: Any  # LayerSet
    threshold: float = 0.6
    min_area_ha: float = 50.0
    max_area_km2: float = 25.0
    dask: bool | str = False
    workers: int = 1
    """Processes computing tiles without Dask (1: in this process; 0: one per core)."""
    progress: bool = False
    provenance: list[dict[str, Any]] | None = None
    profile: Any = None  # scoring.Profile: its [zones] sizes and [gates] (evaluated on each zone)
    missing_checks: list[Any] = field(default_factory=list)
    """Designations whose data could not be had (their cells are 'unknown', band 2 = 2): also in the
    run record and, from the CLI, on stderr with exit code 4 unless ``--allow-missing``."""

    SUFFIXES: ClassVar[dict[str, str]] = {
        "surface": ".tif",
        "zonal": "_zonal.csv",
        "zones": "_zones.gpkg",
        "record": ".json",
        "overview": "_overview.png",
        "overview_record": "_overview.json",
    }
    """The files :meth:`write` produces, as suffixes of ``surface_<resolution>m``."""

    @property
    def stem(self) -> str:
        return f"surface_{self.spec.resolution_m:g}m"

    @classmethod
    def check_out(cls, out: str | Path, *, resolution: float, overwrite: bool = False) -> None:
        """Raise :class:`~growth_zones.errors.InvalidInputError` now, before any work, when
        :meth:`write` could not write the surface of ``resolution`` into ``out``."""
        from .outputs import OutputSet

        stem = f"surface_{float(resolution):g}m"
        OutputSet(Path(out), [stem + s for s in cls.SUFFIXES.values()], overwrite=overwrite).check()

    def zone_summary(self, record: dict[str, Any]) -> str | None:
        """One line on the candidate zones of a written run record (None when there are none); when
        the cells are too coarse for the size bounds it says the zones are NOT within them (the
        record's ``zone_size_warnings`` say why)."""
        q = record.get("zone_areas_ha")
        if not q:
            return None
        bounds = f"{self.min_area_ha:g} ha to {self.max_area_km2:g} km2"
        outside = q["max"] > self.max_area_km2 * 100.0 * (1 + 1e-9) or q["min"] < self.min_area_ha * (
            1 - 1e-9
        )
        head = (
            f"{record['zones']} candidate zones of {q['min']:,.0f} to {q['max']:,.0f} ha, NOT within "
            f"the {bounds} asked (the cells are too coarse: see the warning)"
            if outside
            else f"{record['zones']} candidate zones of {bounds} (median {q['median']:,.0f} ha, "
            f"largest {q['max']:,.0f} ha)"
        )
        return (
            head
            + "; deliverable: "
            + ", ".join(f"{v} {k}" for k, v in record.get("zone_deliverable", {}).items())
        )

    @staticmethod
    def sections_summary(record: dict[str, Any]) -> str | None:
        """One line on how the profile's sections weigh in a cell's score, naming the sections the
        surface cannot score (no cell equivalent); None without them in the record."""
        used = record.get("sections_used")
        if not used:
            return None
        line = "cell score by section: " + ", ".join(f"{s} {w:.0%}" for s, w in used.items())
        dropped = record.get("sections_dropped")
        if dropped:
            line += (
                " (not in the surface, no cell equivalent: "
                + ", ".join(f"{s} {w:g}" for s, w in dropped.items())
                + " of the profile)"
            )
        return line

    @property
    def outputs(self) -> dict[str, str]:
        return {k: self.stem + suffix for k, suffix in self.SUFFIXES.items()}

    def write(self, out: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
        """Build the raster (``surface_<res>m.tif``, a Cloud-Optimised GeoTIFF in EPSG:27700), the
        per-LAD zonal statistics (``_zonal.csv``, joinable to ``ranking.csv`` on ``code``), the
        candidate zones (``_zones.gpkg``), a run record (``.json``) and a web picture of the
        surface (``_overview.png`` in Web Mercator with its bounds in ``_overview.json``, which
        ``rank --html`` and ``map`` draw as a layer of the national map) in ``out``. Refuses to
        replace an earlier surface of the same resolution unless ``overwrite``."""
        from ..report.static import write_surface_overview
        from ..surface import attach_places, build_surface, candidate_zones, zonal_stats, zone_gates
        from .outputs import OutputSet, write_csv, write_gpkg, write_json

        names = self.outputs
        with OutputSet(Path(out), names.values(), overwrite=overwrite) as stage:
            with step("raster (prepare, tiles, COG)"):
                res = build_surface(
                    self.layers,
                    self.spec,
                    stage / names["surface"],
                    dask=self.dask,
                    progress=self.progress,
                    plan=self.plan,
                    workers=self.workers,
                )
            regions = getattr(self.layers, "regions", None)
            if regions is not None:
                with step("zonal statistics"):
                    z = zonal_stats(res.path, regions, threshold=self.threshold)
                    write_csv(z.reset_index(), stage / names["zonal"])
            with step("candidate zones"):
                zones = candidate_zones(
                    res.path,
                    threshold=self.threshold,
                    min_area_ha=self.min_area_ha,
                    max_area_ha=self.max_area_km2 * 100.0,
                    regions=regions,
                )
                zone_stats = dict(zones.attrs.get("zone_stats", {}))
                zones = zone_gates(attach_places(zones, self.layers), self.profile or self.plan.profile)
                size_warnings = list(zone_stats.get("size_warnings", []))
                # every row says when the cells are too coarse for the size bounds (a file opened on
                # its own still tells)
                zones["size_note"] = "; ".join(size_warnings)
                write_gpkg(zones, stage / names["zones"], layer="candidate_zones")
            with step("overview picture"):
                write_surface_overview(
                    res.path,
                    stage / names["overview"],
                    stage / names["overview_record"],
                    threshold=self.threshold,
                )
            record = {
                "spec": {k: v for k, v in asdict(self.spec).items() if k != "meta"},
                "timings_s": res.timings,
                "stats": res.stats,
                "criteria_used": res.criteria_used,
                "criteria_dropped": list(res.criteria_dropped),
                "sections_used": dict(self.plan.sections_used),
                "sections_dropped": dict(self.plan.sections_dropped),
                "weighting": self.plan.weighting_note(),
                "threshold": self.threshold,
                "min_area_ha": self.min_area_ha,
                "max_area_km2": self.max_area_km2,
                "zones": len(zones),
                "zone_split": zone_stats,
                "zone_size_warnings": size_warnings,
                "zone_areas_ha": _quantiles(zones["area_ha"]) if len(zones) else {},
                "zone_deliverable": {str(k): int(v) for k, v in zones["deliverable"].value_counts().items()}
                if len(zones)
                else {},
                "tags": res.tags,
                "datasets": self.provenance or [],
                "stale_datasets": [
                    {k: d.get(k) for k in ("key", "vintage", "released", "age_days", "release_cadence")}
                    for d in self.provenance or []
                    if d.get("stale")
                ],
                "missing_checks": [m.to_dict() for m in self.missing_checks],
            }
            write_json(json.loads(json.dumps(record, default=str)), stage / names["record"])
        return {k: Path(out) / v for k, v in names.items() if (Path(out) / v).exists()}


def _quantiles(area: Any) -> dict[str, float]:
    q = area.quantile([0.0, 0.1, 0.5, 0.9, 1.0])
    return {
        "min": float(q[0.0]),
        "p10": float(q[0.1]),
        "median": float(q[0.5]),
        "p90": float(q[0.9]),
        "max": float(q[1.0]),
    }


def plan_surface(
    *,
    settings: Any = None,
    resolution: float = 250.0,
    profile: str | Any = "aigz_sites",
    dask: bool | str = False,
    workers: int = 1,
    tile_size: int = 1024,
    threshold: float = 0.6,
    min_area_ha: float | None = None,
    max_area_km2: float | None = None,
    progress: bool = False,
    layers: Any = None,
) -> SurfaceRun:
    """Validate the options and the profile (before touching data), then gather the layers."""
    import scoring

    from ..surface import SurfaceSpec, plan_from_profile

    if not 0.0 <= threshold <= 1.0:
        raise InvalidInputError(f"threshold must be between 0 and 1 (got {threshold})")
    if workers < 0:
        raise InvalidInputError(f"workers must be 0 (one per core) or more (got {workers})")
    for name, value in (("min_area_ha", min_area_ha), ("max_area_km2", max_area_km2)):
        if value is not None and not value > 0:
            raise InvalidInputError(f"{name} must be > 0 (got {value})")
    try:
        spec = SurfaceSpec(
            resolution_m=float(resolution),
            tile_size=int(tile_size),
            profile=profile if isinstance(profile, str) else profile.name,
        )
    except ValueError as err:
        raise InvalidInputError(f"surface options: {err}") from err
    prof = profile if isinstance(profile, scoring.Profile) else scoring.load_profile(str(profile))
    min_ha = prof.zones.min_area_ha if min_area_ha is None else float(min_area_ha)
    max_km2 = prof.zones.max_area_km2 if max_area_km2 is None else float(max_area_km2)
    if min_ha >= max_km2 * 100.0:
        raise InvalidInputError(
            f"candidate zones: min_area_ha ({min_ha:g}) must be below max_area_km2 ({max_km2:g} km2 = "
            f"{max_km2 * 100:g} ha)"
        )
    try:
        plan = plan_from_profile(prof)
    except ValueError as err:
        if isinstance(err, scoring.ScoringConfigError):
            raise
        raise InvalidInputError(f"profile {prof.name}: {err}") from err
    store = None
    if layers is None:
        from .ranking import load_layers

        with step("load layers"):
            layers, store = load_layers(settings, layer_names=SURFACE_LAYERS)
    provenance = store.provenance_for_layers(SURFACE_LAYERS) if store is not None else None
    from .missing import coverage_checks

    gaps = getattr(layers, "gaps", None)
    if gaps is None:  # a layer set built by the caller: what its protected areas do not cover
        from ..data.layers import designation_gaps

        gaps = designation_gaps(layers.protected_areas, regions=getattr(layers, "regions", None))
    missing = coverage_checks(gaps, _plan_designations(plan, spec))
    return SurfaceRun(
        spec,
        plan,
        layers,
        threshold=threshold,
        min_area_ha=min_ha,
        max_area_km2=max_km2,
        dask=dask,
        workers=workers,
        progress=progress,
        provenance=provenance,
        profile=prof,
        missing_checks=missing,
    )


def _plan_designations(plan: Any, spec: Any) -> tuple[str, ...]:
    """The designations the cells are scored or excluded on (whose gaps are missing checks)."""
    from ..policy import DESIGNATIONS

    used: list[str] = []
    for name in plan.indicators:
        if name == "protected_share":
            used += list(spec.protected_designations)
        elif name == "in_flood_zone_3":
            used.append("flood_zone_3")
        elif name.startswith("share_"):
            used.append(name[len("share_") :])
    return tuple(d for d in DESIGNATIONS if d in set(used))
