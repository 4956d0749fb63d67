"""Regions and organisations: HRSS offices, authorities, employers, institutions; jurisdiction (R15)."""
