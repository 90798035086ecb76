"""Spatial screening of enterprises against winter production-control policies.

The public API: each step of ``spatial screen`` as a plain function, so notebooks can run the
screening one step at a time.

>>> import spatial
>>> sorted(spatial.shipped_policies())[:2]
['changzhi-2024', 'jinzhong-2019']
"""

from spatial._version import __version__
from spatial.builtup import BuiltupOptions, load_builtup
from spatial.config import RunConfig
from spatial.coords import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from spatial.decisions import evaluate, summarize
from spatial.errors import (
    CoordinateSystemError,
    InputFileError,
    LayerError,
    OutputError,
    PolicyTableError,
    SpatialError,
)
from spatial.facts import add_facts, fact_buffers
from spatial.heat import load_heat_sources
from spatial.inventory import Inventory, load_enterprises
from spatial.layers import load_context_layer
from spatial.measure import geodesic_buffer, nearest_point, nearest_polygon
from spatial.pipeline import RunResult, demo_config, run
from spatial.policy import fact_specs, load_policies, load_policy, shipped_policies
from spatial.zones import assign_zones, build_zones, load_zones

__all__ = [
    "BuiltupOptions",
    "CoordinateSystemError",
    "InputFileError",
    "Inventory",
    "LayerError",
    "OutputError",
    "PolicyTableError",
    "RunConfig",
    "RunResult",
    "SpatialError",
    "__version__",
    "add_facts",
    "assign_zones",
    "build_zones",
    "demo_config",
    "evaluate",
    "fact_buffers",
    "fact_specs",
    "gcj02_to_wgs84",
    "geodesic_buffer",
    "load_builtup",
    "load_context_layer",
    "load_enterprises",
    "load_heat_sources",
    "load_policies",
    "load_policy",
    "load_zones",
    "nearest_point",
    "nearest_polygon",
    "run",
    "shipped_policies",
    "summarize",
    "to_wgs84",
    "wgs84_to_gcj02",
]
