"""`make mutate` helpers: which core modules a commit range changed, and the score per module.

    python -m tests.mutation changed BASE   the core modules changed since BASE
                                            (`git diff BASE...HEAD`), one a line
    python -m tests.mutation run [PATH ...] `mutmut run` with only_mutate narrowed to PATHs
    python -m tests.mutation score [--min N] [PATTERN ...]
                                            per-module table from mutants/**/*.meta; exits 1
                                            when a module's score is below N %

The core is `[tool.mutmut] only_mutate` in pyproject.toml: one list, read here too.
Score = killed / (killed + survived), where killed counts timeouts (the tool's own rule) and
survived counts mutants no test reaches ("no tests"). Mutants mypy --strict rejects
("caught by type check") could never pass `make test`: listed apart, in neither term.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"

KILLED = {1, 3, 24, -24, 36, 152, 255}  # test failures, pytest internal error, timeouts
SURVIVED = {0}
NO_TESTS = {5, 33}
TYPE_CHECK = {37}
SKIPPED = {34}
NOT_CHECKED = {None}


def core_patterns() -> list[str]:
    """The core modules, as globs of repository paths (pyproject.toml's only_mutate)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["mutmut"]["only_mutate"]
    return [str(p) for p in patterns]


def is_core(path: str, patterns: list[str]) -> bool:
    return path.endswith(".py") and any(fnmatch.fnmatch(path, p) for p in patterns)


def changed(base: str) -> list[str]:
    """Core modules (existing now) that differ between `base` and HEAD."""
    out = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    patterns = core_patterns()
    return sorted({p for p in out.split() if is_core(p, patterns) and (ROOT / p).is_file()})


def run(only: list[str], max_children: int) -> int:
    """`mutmut run` over the core modules in `only` (all of them when empty).

    mutmut reads its settings from pyproject.toml alone; narrowing only_mutate here (rather
    than filtering mutant names) keeps the other modules free of trampolines, so the stats
    run, which repeats every fast test once, costs little more than the tests themselves.
    """
    import mutmut.__main__ as mutmut_main
    from mutmut.configuration import config

    if only:
        config().only_mutate = only
    try:
        mutmut_main.cli.main(
            ["run", "--max-children", str(max_children)], prog_name="mutmut", standalone_mode=False
        )
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    type_check: int = 0
    skipped: int = 0
    not_checked: int = 0
    other: int = 0  # suspicious, segfault: a verdict to look at, counted as neither

    def add(self, code: int | None) -> None:
        for codes, field in (
            (KILLED, "killed"),
            (SURVIVED, "survived"),
            (NO_TESTS, "no_tests"),
            (TYPE_CHECK, "type_check"),
            (SKIPPED, "skipped"),
            (NOT_CHECKED, "not_checked"),
        ):
            if code in codes:
                setattr(self, field, getattr(self, field) + 1)
                return
        self.other += 1

    @property
    def score(self) -> float | None:
        tested = self.killed + self.survived + self.no_tests
        return 100 * self.killed / tested if tested else None


def tallies(patterns: list[str]) -> dict[str, Tally]:
    """Per core module, the verdicts of its mutants whose names match one of `patterns`."""
    core = core_patterns()
    found: dict[str, Tally] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        path = str(meta.relative_to(MUTANTS)).removesuffix(".meta")
        if not is_core(path, core):
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        keys = [k for k in codes if not patterns or any(fnmatch.fnmatch(k, p) for p in patterns)]
        if keys:
            tally = found.setdefault(path, Tally())
            for key in keys:
                tally.add(codes[key])
    return found


def table(found: dict[str, Tally]) -> str:
    """The per-module table docs/testing.md shows (Markdown)."""
    head = "| module | killed | survived | no tests | score | mypy | not checked |"
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    total = Tally()
    for path, t in found.items():
        rows.append(row(path, t))
        for field in ("killed", "survived", "no_tests", "type_check", "not_checked", "other"):
            setattr(total, field, getattr(total, field) + getattr(t, field))
    rows.append(row("**all**", total))
    return "\n".join(rows)


def row(name: str, t: Tally) -> str:
    score = "-" if t.score is None else f"{t.score:.1f} %"
    return (
        f"| {name} | {t.killed} | {t.survived} | {t.no_tests} | {score} | {t.type_check} "
        f"| {t.not_checked} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("changed").add_argument("base")
    runner = sub.add_parser("run")
    runner.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    runner.add_argument("paths", nargs="*")
    score = sub.add_parser("score")
    score.add_argument("--min", type=float, default=None)
    score.add_argument("patterns", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "changed":
        print("\n".join(changed(args.base)))
        return 0
    if args.command == "run":
        return run(args.paths, args.max_children)
    found = tallies(args.patterns)
    if not found:
        print("no mutation results under mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    print(table(found))
    other = sum(t.other for t in found.values())
    if other:
        print(f"suspicious or segfault verdicts (in no column): {other}")
    low = [
        p
        for p, t in found.items()
        if args.min is not None and t.score is not None and t.score < args.min
    ]
    if low:
        print(f"below {args.min} %: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
