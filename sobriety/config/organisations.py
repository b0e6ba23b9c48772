"""Organisations: who owns the sites, publishes their open data and pays for shared rooms.

An inter-municipal syndicate runs one daemon for its members: each member is an
`organisation` (name, SIREN, the publisher of its open data, its electricity contract, the web
users who read its reports); each site belongs to one of them and may be shared, with keys
per organisation (`shares`) by which a shared room's energy, carbon and cost are re-invoiced.
Cross references (a site's organisation, a share's organisation) are checked by the loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

ORGANISATION_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_USER = re.compile(r"[^\s:]+")  # a basic-auth user name: no blank, no colon (RFC 7617)
SHARE_TOLERANCE = 1e-6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def siren_ok(digits: str) -> bool:
    """Whether nine digits pass the SIREN's Luhn check (INSEE: the ninth digit is the key)."""
    if not re.fullmatch(r"\d{9}", digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normal_siren(value: object) -> object:
    """A SIREN as nine digits (`"213 100 018"` is accepted; spaces and dots dropped)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:09d}"
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("a SIREN is 9 digits (INSEE's company register number)")
    if not siren_ok(digits):
        raise ValueError(f"{digits} fails the SIREN check digit (Luhn): a typo?")
    return digits


class ElectricityContract(_Strict):
    """An organisation's electricity figures, which its sites take unless they set their own."""

    price_per_kwh: float | None = Field(default=None, ge=0, description="per kWh, taxes in")
    grid_gco2e_per_kwh: float | None = Field(
        default=None, ge=0, description="carbon intensity of the supply (gCO2e/kWh)"
    )
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class OrganisationConfig(_Strict):
    """A public body whose sites a daemon watches: a commune, a syndicate, a département."""

    name: str = Field(min_length=1, max_length=200)
    siren: str | None = Field(default=None, description="INSEE SIREN, 9 digits, Luhn-checked")
    publisher: str | None = Field(
        default=None, max_length=200, description="who publishes its open data (default: name)"
    )
    electricity: ElectricityContract = Field(default_factory=ElectricityContract)
    users: tuple[str, ...] = Field(
        default=(),
        description="web users (basic_auth_users of the web config) who read its reports",
    )

    @field_validator("siren", mode="before")
    @classmethod
    def _siren(cls, value: object) -> object:
        return None if value is None else normal_siren(value)

    @field_validator("users")
    @classmethod
    def _users(cls, users: tuple[str, ...]) -> tuple[str, ...]:
        for user in users:
            if not _USER.fullmatch(user):
                raise ValueError(f"not a web user name: {user!r} (no blank, no colon)")
        if len(set(users)) != len(users):
            raise ValueError("a user is listed twice")
        return users

    @property
    def publisher_name(self) -> str:
        """Who the organisation's open data names as its publisher."""
        return self.publisher or self.name


def share_problems(shares: Mapping[str, float]) -> list[str]:
    """What is wrong with a shared site's keys, on their own (not the names)."""
    problems = [f"{org}: a share is above 0 and at most 1" for org, key in shares.items()
                if not 0 < key <= 1]  # fmt: skip
    total = sum(shares.values())
    if not problems and abs(total - 1) > SHARE_TOLERANCE:
        problems.append(f"the shares sum to {total:g}, not 1")
    return problems
