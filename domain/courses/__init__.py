"""Courses: filing with the HRSS (R7), the catalogue."""
