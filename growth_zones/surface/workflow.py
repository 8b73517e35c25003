"""One call for the CLI: layers from the store -> surface COG + zonal stats CSV + candidate zones GPKG.

Suggested ``cli.py`` command (the CLI is owned elsewhere; this is all it needs)::

    @app.command("surface")
    def surface_cmd(
        resolution: float = typer.Option(250.0, "--resolution", help="Cell size in metres."),
        out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder."),
        profile: str = typer.Option("aigz_sites", "--profile", "-p"),
        dask: Optional[str] = typer.Option(None, "--dask", help="'local' or a scheduler address tcp://host:8786."),
        tile_size: int = typer.Option(1024, "--tile-size"),
        threshold: float = typer.Option(0.6, "--threshold"),
        min_area_ha: float = typer.Option(25.0, "--min-area-ha"),
    ) -> None:
        from growth_zones.surface.workflow import run_surface
        paths = run_surface(_settings(), resolution=resolution, out=out, profile=profile,
                            dask=True if dask == "local" else (dask or False), tile_size=tile_size,
                            threshold=threshold, min_area_ha=min_area_ha, progress=True)
        typer.echo("wrote " + ", ".join(str(p) for p in paths.values()), err=True)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .build import build_surface
from .spec import SurfaceSpec
from .stats import candidate_zones, zonal_stats


def run_surface(
    settings: Any = None,
    *,
    resolution: float = 250.0,
    out: Path = Path("out"),
    profile: str = "aigz_sites",
    dask: bool | str = False,
    tile_size: int = 1024,
    threshold: float = 0.6,
    min_area_ha: float = 25.0,
    progress: bool = False,
    layers: Any = None,
) -> dict[str, Path]:
    """Build ``surface_<res>m.tif``, ``surface_<res>m_zonal.csv`` (per LAD, joinable as indicators),
    ``surface_<res>m_zones.gpkg`` and a ``.json`` run record in ``out``."""
    if layers is None:
        from ..indicators.layers import LayerSet
        from ..settings import Settings
        from ..store import Store

        layers = LayerSet.from_store(Store(settings or Settings()))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"surface_{resolution:g}m"
    spec = SurfaceSpec(resolution_m=resolution, tile_size=tile_size, profile=profile)
    res = build_surface(layers, spec, out / f"{stem}.tif", dask=dask, progress=progress)
    paths = {"surface": res.path}
    if getattr(layers, "regions", None) is not None:
        z = zonal_stats(res.path, layers.regions, threshold=threshold)
        paths["zonal"] = out / f"{stem}_zonal.csv"
        z.to_csv(paths["zonal"])
    zones = candidate_zones(res.path, threshold=threshold, min_area_ha=min_area_ha,
                            regions=getattr(layers, "regions", None))
    paths["zones"] = out / f"{stem}_zones.gpkg"
    if paths["zones"].exists():
        paths["zones"].unlink()
    zones.to_file(paths["zones"], driver="GPKG")
    paths["record"] = out / f"{stem}.json"
    record = {
        "spec": {k: v for k, v in asdict(spec).items() if k != "meta"},
        "timings_s": res.timings,
        "stats": res.stats,
        "criteria_used": res.criteria_used,
        "criteria_dropped": list(res.criteria_dropped),
        "threshold": threshold,
        "min_area_ha": min_area_ha,
        "zones": len(zones),
        "tags": res.tags,
    }
    paths["record"].write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return paths
