"""Dagster definitions for diaodu: assets, checks, sensors, schedules, resources, and the CLI."""
