"""Who the poller is to an agent: one definition shared by every SNMP transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Version = Literal["1", "2c", "3"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """A community (v1, v2c) or a USM user with its protocols and passwords (v3).

    Passwords and the community are left out of `repr`, so a logged transport or a
    traceback never shows them.
    """

    version: Version = "2c"
    community: str = field(default="public", repr=False)
    user: str = ""
    auth_protocol: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_password: str | None = field(default=None, repr=False)
    context: str = ""

    @classmethod
    def usm(
        cls,
        user: str,
        auth_protocol: str | None = None,
        auth_password: str | None = None,
        priv_protocol: str | None = None,
        priv_password: str | None = None,
        context: str = "",
    ) -> Credentials:
        """SNMPv3 credentials (noAuthNoPriv when no protocol is given)."""
        return cls("3", "", user, auth_protocol, auth_password, priv_protocol, priv_password,
                   context)  # fmt: skip


PUBLIC = Credentials()  # v2c, community "public": what a transport assumes when told nothing
