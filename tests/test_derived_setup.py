"""The derived cache of layer-level set-up (growth_zones.data.derived, LayerSet.setup): a value is
computed once per version of its inputs, read back equal, never trusted when damaged, never stored
for a layer changed in memory, and a changed input or parameter is a different entry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from growth_zones.data.derived import DerivedCache, fingerprint


def _value():
    return {
        "table": pd.DataFrame(
            {"a": [1, 2, 3], "b": ["x", "y", None]}, index=pd.Index(["p", "q", "r"], name="id")
        ),
        "geoms": np.array([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)], dtype=object),
        "numbers": np.arange(12, dtype="float64").reshape(3, 4),
        "meta": {"n": 3, "names": ["p", "q", "r"]},
    }


def test_value_is_built_once_and_read_back_equal(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return _value()

    first = DerivedCache(tmp_path).get("thing", [1.5], ["fp-a", "fp-b"], build)
    cache = DerivedCache(tmp_path)  # a new process: nothing in memory
    again = cache.get("thing", [1.5], ["fp-a", "fp-b"], build)
    assert len(calls) == 1 and cache.hits == ["thing"] and cache.misses == []
    pd.testing.assert_frame_equal(again["table"], first["table"])
    assert shapely.equals(again["geoms"], first["geoms"]).all() and again["geoms"].dtype == object
    np.testing.assert_array_equal(again["numbers"], first["numbers"])
    assert again["meta"] == first["meta"]
    # nothing is pickled: every part is Parquet, .npy or JSON
    suffixes = {p.suffix for p in tmp_path.rglob("*") if p.is_file()}
    assert suffixes <= {".parquet", ".npy", ".json"}


def test_changed_input_or_parameter_is_a_different_entry(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return np.array([len(calls)], dtype="int64")

    cache = DerivedCache(tmp_path)
    assert cache.get("v", [1], ["fp-a"], build)[0] == 1
    assert cache.get("v", [1], ["fp-a2"], build)[0] == 2  # a pulled new release
    assert cache.get("v", [2], ["fp-a"], build)[0] == 3  # another parameter
    assert cache.get("v", [1], ["fp-a"], build)[0] == 1  # the first again: a hit
    assert len(calls) == 3


def test_input_without_fingerprint_is_computed_and_not_stored(tmp_path):
    calls = []
    cache = DerivedCache(tmp_path)
    for _ in range(2):
        cache.get("v", [], ["fp-a", None], lambda: calls.append(1) or np.zeros(2))
    assert len(calls) == 2 and not any(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["bytes", "manifest", "missing part"])
def test_damaged_entry_is_named_deleted_and_recomputed(tmp_path, caplog, damage):
    cache = DerivedCache(tmp_path)
    cache.get("thing", [], ["fp"], _value)
    (entry,) = tmp_path.iterdir()
    parts = sorted(p for p in entry.iterdir() if p.name != "manifest.json")
    if damage == "bytes":
        parts[0].write_bytes(parts[0].read_bytes()[:-3] + b"xyz")
    elif damage == "manifest":
        (entry / "manifest.json").write_text("{not json", encoding="utf-8")
    else:
        parts[-1].unlink()
    calls = []

    def build():
        calls.append(1)
        return _value()

    fresh = DerivedCache(tmp_path)
    got = fresh.get("thing", [], ["fp"], build)
    assert calls == [1] and fresh.misses == ["thing"]
    assert any(str(entry) in r.getMessage() for r in caplog.records)
    pd.testing.assert_frame_equal(got["table"], _value()["table"])
    manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))  # rewritten whole
    assert set(manifest["parts"]) == {"table", "geoms", "numbers", "meta"}


def test_fingerprint_is_stable_and_order_sensitive():
    assert fingerprint(["a", 1, {"k": 2}]) == fingerprint(["a", 1, {"k": 2}])
    assert fingerprint(["a", "b"]) != fingerprint(["b", "a"])


@pytest.mark.data
def test_layer_setup_is_read_back_by_a_second_load(mirror_cache):
    """Grid nodes and designation coverage built from the real layers, then read back from the
    derived cache by a fresh layer set: equal tables; a layer replaced in memory is never cached."""
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store
    from growth_zones.indicators.nodes import grid_nodes

    store = Store(mirror_cache)
    first = LayerSet.load(store)
    nodes_a = grid_nodes(first)
    cov_a = first.designation_coverage
    second = LayerSet.load(store)
    nodes_b = grid_nodes(second)
    cov_b = second.designation_coverage
    assert {"grid_nodes", "designation_coverage"} <= set(second._derived.hits)
    assert "grid_nodes" not in second._derived.misses
    pd.testing.assert_frame_equal(nodes_a.nodes, nodes_b.nodes)
    pd.testing.assert_frame_equal(nodes_a.members, nodes_b.members)
    pd.testing.assert_frame_equal(nodes_a.misplaced, nodes_b.misplaced)
    assert nodes_a.position_check == nodes_b.position_check
    assert nodes_a.tec_rows == nodes_b.tec_rows and len(nodes_b.nodes) > 1000
    pd.testing.assert_frame_equal(
        pd.DataFrame(cov_a.drop(columns="geometry")), pd.DataFrame(cov_b.drop(columns="geometry"))
    )
    assert shapely.equals(cov_a.geometry.values, cov_b.geometry.values).all()

    third = LayerSet.load(store)
    third.substations = third.substations.iloc[:-1]  # changed in memory: no fingerprint
    assert third.fingerprint("substations") is None
    nodes_c = grid_nodes(third)
    assert "grid_nodes" not in third._derived.hits and "grid_nodes" not in third._derived.misses
    assert len(nodes_c.nodes) <= len(nodes_a.nodes)

    # a layer the set-up does not list (grid nodes are checked against the ETYS circuit table)
    # replaced in memory: nothing is read from or written to the derived cache from then on
    fourth = LayerSet.load(store)
    fourth.grid_circuit_table = fourth.grid_circuit_table.iloc[:0]
    grid_nodes(fourth)
    assert "grid_nodes" not in fourth._derived.hits and "grid_nodes" not in fourth._derived.misses
