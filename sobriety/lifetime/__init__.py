"""Lifetime: reboots, power-on time and age (tracker), then keep/reuse/repair/recycle (policy)."""
