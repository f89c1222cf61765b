"""Shared test settings: deterministic hypothesis runs, float64 gradient checks."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# CI must be reproducible: hypothesis explores the same examples on every run.
settings.register_profile("bpkit", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("bpkit")
