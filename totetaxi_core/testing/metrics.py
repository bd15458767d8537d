"""Reading this process's metrics in a test (counters are process-wide: compare before/after)."""

from __future__ import annotations

from ..ops.metrics import metrics


def metric_value(name: str, **labels: str) -> float:
    """The current value of sample ``name`` with exactly ``labels`` in this process (0 when it
    has not been counted yet), e.g.
    ``metric_value("totetaxi_webhook_failures_total", provider="stripe", reason="signature")``."""
    return metrics().registry.get_sample_value(name, labels) or 0.0
