"""Which organisations a web user may see: the configuration maps the web config's users.

The web config (`basic_auth_users`) says who may log in; the daemon's configuration says what
each sees: `organisations.<id>.users` are that organisation's readers, `settings.web_admins`
see every organisation. A configuration that maps nobody keeps the daemon as it was (every
authenticated user sees everything), and so does a web config without basic auth (no one
is known by name). Once users are mapped, an unmapped user sees no report; `/metrics` is
for the scraper's account (unmapped, or an admin), since a scrape shows every organisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sobriety.config.load import Config


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking and which organisations' devices they see (None: every one)."""

    user: str | None
    organisations: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.organisations is None

    def sees(self, organisation: str | None) -> bool:
        """Whether devices of `organisation` ("" or None: of none) are shown to them."""
        return self.organisations is None or (organisation or "") in self.organisations


@dataclass(frozen=True, slots=True)
class UserMap:
    """The configuration's mapping of web users to organisations."""

    admins: frozenset[str] = frozenset()
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config) -> UserMap:
        members: dict[str, set[str]] = {}
        for oid, org in config.organisations.items():
            for user in org.users:
                members.setdefault(user, set()).add(oid)
        return cls(
            frozenset(config.settings.web_admins),
            {user: frozenset(orgs) for user, orgs in members.items()},
        )

    @property
    def mapped(self) -> bool:
        """Whether any user is mapped (else every authenticated user sees everything)."""
        return bool(self.admins or self.members)

    def viewer(self, user: str | None) -> Viewer:
        """What `user` (None: no basic auth in the web config) may see."""
        if user is None or not self.mapped or user in self.admins:
            return Viewer(user)
        return Viewer(user, self.members.get(user, frozenset()))

    def unknown(self, logins: set[str]) -> list[str]:
        """Mapped users the web config does not let log in (a typo, or a user removed)."""
        return sorted((self.admins | set(self.members)) - logins)


def mapping_warnings(users: UserMap, logins: set[str]) -> list[str]:
    """What to tell the operator about the mapping against the web config's users."""
    if not users.mapped:
        return []
    if not logins:
        return [
            "organisations map web users, but the web config has no basic_auth_users: every "
            "report is open, unfiltered, to whoever reaches the port"
        ]
    unknown = users.unknown(logins)
    if unknown:
        return [
            f"mapped web users not in basic_auth_users (they cannot log in): {', '.join(unknown)}"
        ]
    return []
