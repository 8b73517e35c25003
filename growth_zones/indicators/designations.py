"""Designation checks with three values: present, absent, or not checked (no data there)."""

from __future__ import annotations

import numpy as np
import shapely

from ..data.layers import LayerSet
from ..policy import DESIGNATION_LABELS
from . import _geo
from .specs import IndicatorSettings


def _place(names: np.ndarray | None, nations: np.ndarray | None, i: int) -> str:
    name = str(names[i]) if names is not None and names[i] not in (None, "") else ""
    nation = str(nations[i]) if nations is not None and nations[i] not in (None, "") else ""
    if name and nation:
        return f"{name} ({nation})"
    return name or nation or "this area"


def coverage_matrix(
    targets: np.ndarray,
    designations: tuple[str, ...],
    layers: LayerSet,
    settings: IndicatorSettings,
    tolerance_m: float = 0.0,
) -> np.ndarray:
    """Boolean (n_targets, n_designations): the designation's coverage (buffered by
    ``tolerance_m``) contains at least (1 - coverage_slack) of the target."""
    out = np.zeros((len(targets), len(designations)), dtype=bool)
    for j, d in enumerate(designations):
        tiles = _geo.coverage_tiles(layers, d, tolerance_m)
        out[:, j] = _geo.covered(targets, tiles, settings.coverage_slack)
    return out


def designation_share(
    targets: np.ndarray,
    designations: tuple[str, ...],
    layers: LayerSet,
    settings: IndicatorSettings,
    names: np.ndarray | None = None,
    nations: np.ndarray | None = None,
    tolerance_m: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each target's area inside the union of ``designations`` features.

    Known (a value, reason ``""``) where every designation's coverage contains the target, or
    where the designations that *are* covered already designate the whole target (at least
    1 - ``coverage_slack`` of it: e.g. a site inside a National Park is 100% protected whatever
    the SSSI data would say). Elsewhere NaN and a reason naming the designations not checked.
    ``tolerance_m``: see ``IndicatorSettings.region_boundary_tolerance_m``.
    """
    n = len(targets)
    values = np.full(n, np.nan)
    reasons = np.full(n, "", dtype=object)
    if layers.protected_areas is None:
        reasons[:] = "layer protected_areas not available"
        return values, reasons
    cov = coverage_matrix(targets, designations, layers, settings, tolerance_m)
    ok = cov.all(axis=1)
    area = shapely.area(targets)
    if ok.any():
        inter = _geo.designation_overlap_area(layers, designations, targets[ok])
        with np.errstate(invalid="ignore", divide="ignore"):
            values[ok] = np.clip(inter / area[ok], 0.0, 1.0)
    # partly covered: is the target fully designated by what is covered? Cheap upper bound first.
    partial = np.flatnonzero(~ok & cov.any(axis=1))
    full = 1.0 - settings.coverage_slack
    if len(partial):
        upper = np.zeros(len(partial))
        for j, d in enumerate(designations):
            rows = cov[partial, j]
            if rows.any():
                upper[rows] += _geo.designation_upper_area(layers, d, targets[partial[rows]])
        cand = partial[upper >= full * area[partial]]
        patterns: dict[bytes, list[int]] = {}
        for i in cand:
            patterns.setdefault(cov[i].tobytes(), []).append(i)
        for idx in patterns.values():
            idx_a = np.array(idx)
            checked = tuple(d for d, c in zip(designations, cov[idx_a[0]], strict=True) if c)
            got = _geo.designation_overlap_area(layers, checked, targets[idx_a]) / area[idx_a]
            done = got >= full
            values[idx_a[done]] = np.clip(got[done], 0.0, 1.0)
    labels = np.array([DESIGNATION_LABELS.get(d, d) for d in designations], dtype=object)
    for i in np.flatnonzero(np.isnan(values)):  # string building only
        miss = ", ".join(labels[~cov[i]])
        reasons[i] = f"not checked: {miss} not available for {_place(names, nations, i)}"
    return values, reasons
