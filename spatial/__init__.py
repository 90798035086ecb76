"""Spatial screening of enterprises against winter production-control policies."""

__version__ = "0.1.0"
