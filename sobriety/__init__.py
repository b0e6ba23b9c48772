"""sobriety: a frugal SNMP daemon that tracks the energy and lifetime of public IT fleets."""

from __future__ import annotations

__version__ = "0.1.0"
