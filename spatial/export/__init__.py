"""Writers for the run outputs: GeoPackage, run.json (and, later, the map and Excel lists)."""
