"""Alerts: rules and their engine (for, hysteresis), notifiers, the generated Prometheus rules."""
