"""GeoPackage writing: layers, CRS, tables, and atomic replacement."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from spatial.export import gpkg
from spatial.export.gpkg import write_gpkg


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["A1"], "name": ["甲"]}, geometry=gpd.points_from_xy([112.75], [37.69]), crs=4326
    )


def test_layers_crs_and_tables(tmp_path):
    path = write_gpkg(
        {"enterprises": _points(), "rejected": pd.DataFrame({"row": [3], "reason": ["x"]})},
        tmp_path / "s.gpkg",
    )
    assert dict(pyogrio.list_layers(path)) == {"enterprises": "Point", "rejected": None}
    back = gpd.read_file(path, layer="enterprises")
    assert back.crs.to_epsg() == 4490
    assert back.name.tolist() == ["甲"]
    assert pyogrio.read_dataframe(path, layer="rejected").reason.tolist() == ["x"]


def test_other_output_crs(tmp_path):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg", crs="EPSG:4547")
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4547 and back.geometry.x.iloc[0] > 100000


def test_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg")
    before = path.read_bytes()
    real = pyogrio.write_dataframe
    calls = []

    def failing(frame, *args, **kwargs):
        calls.append(kwargs["layer"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(gpkg.pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        write_gpkg({"enterprises": _points(), "rejected": pd.DataFrame({"a": [1]})}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]
