"""Domain errors. Each derives from the builtin that fits, so callers may catch either."""

from __future__ import annotations

from dataclasses import dataclass


class SobrietyError(Exception):
    """Base of every error sobriety raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem found in a configuration file: where it is and what is wrong."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class ConfigError(SobrietyError, ValueError):
    """A configuration (or profile) is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class CollectError(SobrietyError):
    """A target could not be collected. `reason` is a short, bounded label value."""

    reason = "error"


class TargetTimeout(CollectError, TimeoutError):
    """The target did not answer within its timeout and retries."""

    reason = "timeout"


class TargetUnreachable(CollectError, ConnectionError):
    """The network refused or could not route the request."""

    reason = "unreachable"


class AuthFailed(CollectError, PermissionError):
    """The agent rejected our credentials (SNMPv3 report, wrong community where detectable)."""

    reason = "auth_failed"


class MalformedResponse(CollectError, ValueError):
    """The agent answered with something that is not a valid SNMP response.

    `detail` says what was wrong, from a bounded set (truncated, bad_oid, ...), so it can
    be a label value.
    """

    reason = "malformed"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class TruncatedResponse(MalformedResponse):
    """The agent's answer ends before its own lengths say it does (cut in transit or by the
    agent): nothing else came back in time."""

    reason = "truncated"

    def __init__(self) -> None:
        super().__init__("truncated")


class WrongRequestId(CollectError):
    """The target answered, but never with the request-id that was asked (a broken agent,
    or answers to someone else): nothing else came back in time."""

    reason = "wrong_request_id"


class AgentError(CollectError):
    """The agent answered with an error status (genErr, noAccess, tooBig that cannot shrink)."""

    reason = "agent_error"


class StoreError(SobrietyError, OSError):
    """The state store could not be read or written."""


class ProfileSpecError(SobrietyError, ValueError):
    """A loaded profile asks for something its schema should have refused (a bug, not data)."""
