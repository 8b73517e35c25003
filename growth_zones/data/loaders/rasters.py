"""1 km BNG GeoTIFFs -> ``population_grid`` / ``land_cover`` / ``elevation`` rasters.

The spCEH files carry an unnamed Airy 1830 Transverse Mercator WKT (with an arbitrary TOWGS84)
instead of EPSG:27700. Cells are never resampled: the CRS is *assigned* after checking that the
projection parameters are the BNG ones, and anything else (a geographic CRS, another TM) fails.
Nodata (the -3.4e38 float sentinel or NaN) becomes NaN float32.
"""

from __future__ import annotations

import numpy as np
import rasterio
from pyproj import CRS

from ...errors import SchemaError
from ...settings import BNG
from ..crs import TransformRecord
from . import Normalised, RasterData, RawInput

_BNG_PARAMS = {
    "Latitude of natural origin": 49.0,
    "Longitude of natural origin": -2.0,
    "Scale factor at natural origin": 0.9996012717,
    "False easting": 400000.0,
    "False northing": -100000.0,
}
_AIRY_A = 6377563.396
_SENTINEL = -1e38  # float32 "nodata" written by R/raster: -3.4e38


def _is_bng_equivalent(crs: CRS) -> bool:
    """True when ``crs`` is EPSG:27700 or a TM on Airy 1830 with BNG's origin, scale and offsets."""
    if crs.to_epsg() == 27700:
        return True
    if crs.is_bound:  # a TOWGS84 clause wraps the projected CRS; the datum shift is irrelevant here
        crs = crs.source_crs
    op = crs.coordinate_operation
    if not crs.is_projected or op is None or "Transverse Mercator" not in op.method_name:
        return False
    if abs(crs.ellipsoid.semi_major_metre - _AIRY_A) > 0.01:
        return False
    params = {p.name: p.value for p in op.params}
    return all(
        name in params and abs(params[name] - want) <= 1e-9 * max(1.0, abs(want))
        for name, want in _BNG_PARAMS.items()
    )


def normalise_bng_raster(raw: RawInput) -> Normalised:
    """Read band 1, check the grid is BNG, assign EPSG:27700, NaN nodata, float32."""
    key = raw.dataset.key
    with rasterio.open(raw.source) as src:
        if src.crs is None:
            raise SchemaError(f"dataset {key}: expected CRS {raw.dataset.source_crs or BNG}, found none")
        crs = CRS.from_wkt(src.crs.to_wkt())
        if not _is_bng_equivalent(crs):
            raise SchemaError(
                f"dataset {key}: expected a British National Grid raster (EPSG:27700), "
                f"found {crs.name} ({src.crs.to_string()[:120]})"
            )
        array = src.read(1).astype("float32")
        nodata = src.nodata
        transform, width, height = src.transform, src.width, src.height
        src_crs_text = src.crs.to_string()
        raw_crs, assigned = crs.name, crs.to_epsg() != 27700
    invalid = ~np.isfinite(array) | (array < _SENTINEL)
    if nodata is not None and np.isfinite(nodata):
        invalid |= array == np.float32(nodata)
    array[invalid] = np.nan
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "crs": BNG,
        "transform": transform,
        "width": width,
        "height": height,
        "count": 1,
        "nodata": float("nan"),
    }
    valid = ~invalid
    notes = {
        "rows_in": int(array.size),
        "rows_out": int(valid.sum()),
        "dropped": {},
        "valid_cells": int(valid.sum()),
        "sum": float(np.nansum(array, dtype="float64")),
        "min": float(np.nanmin(array)) if valid.any() else None,
        "max": float(np.nanmax(array)) if valid.any() else None,
        "raw_crs": raw_crs,
    }
    record = TransformRecord(
        src_crs_text,
        "EPSG:27700 assigned (BNG-equivalent TM; cells not resampled)"
        if assigned
        else "none (already EPSG:27700)",
    )
    return Normalised(raster=RasterData(array=array, profile=profile), transform=record, notes=notes)
