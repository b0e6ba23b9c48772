"""`make mutate` helpers: which core modules a commit range changed, and the score per module.

    python -m tests.mutation check          fails when a top-level entry the tests may read
                                            is not copied to mutants/ (also_copy)
    python -m tests.mutation changed BASE   the core modules changed since BASE
                                            (`git diff BASE...HEAD`), one a line
    python -m tests.mutation run [PATH ...] `mutmut run` with only_mutate narrowed to PATHs
    python -m tests.mutation score [--min N] [PATTERN ...]
                                            per-module table from mutants/**/*.meta; exits 1
                                            when a module's score is below N %
    python -m tests.mutation retest [PATTERN ...]
                                            after new tests: copy tests/ into mutants/ (mutmut
                                            copies only missing files) and mark the survivors
                                            (matching PATTERNs) not checked, so that a resumed
                                            `mutmut run` tests them again, cheapest first
    python -m tests.mutation named          issue 21's mutations, each applied alone to a copy
                                            of the tree: the test named for it must pass before
                                            and fail after (exits 1 when one survives)

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
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"

TIMEOUT = {24, -24, 36, 152, 255}  # wall clock (36) or CPU time (SIGXCPU) over the limit
KILLED = {1, 3} | TIMEOUT  # test failures, pytest internal error, timeouts
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


# mutmut copies source_paths, tests and pyproject.toml itself; these the tests never read
NOT_COPIED = {"sobriety", "tests", "pyproject.toml", "Makefile", ".gitignore", ".gitattributes"}


def missing_copies() -> list[str]:
    """Tracked top-level entries mutants/ would lack: the stats run fails on the first
    test that reads one (a file a later change adds at the top, as CHANGELOG.md was)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    copied = {str(p).rstrip("/") for p in config["tool"]["mutmut"]["also_copy"]}
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    top = {line.split("/", 1)[0] for line in out.splitlines() if line}
    return sorted(top - copied - NOT_COPIED)


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

    # the mutants' names as globs too: the clean run before mutation then runs only the tests
    # that reach these modules instead of every fast test
    names = [p.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + ".*" for p in only]
    if only:
        config().only_mutate = only
    try:
        mutmut_main.cli.main(
            ["run", "--max-children", str(max_children), *names],
            prog_name="mutmut",
            standalone_mode=False,
        )
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@dataclass(frozen=True)
class Named:
    """A mutation a review found surviving (issue 21) and the test that states its rule."""

    path: str
    old: str
    new: str
    test: str


NAMED = (
    Named("sobriety/energy/accounting.py", "previous is not None and counter >= previous",
          "previous is not None and counter > previous",
          "tests/unit/test_accounting.py::test_an_unchanged_energy_counter_books_nothing_for_its_step"),
    Named("sobriety/energy/readings.py", "max(own[0].value - passed_on, 0.0)",
          "max(own[0].value, 0.0)",
          "tests/unit/test_energy_rules.py::test_a_switch_that_meters_itself_books_its_own_use_less_what_it_passes_on"),
    Named("sobriety/energy/ups.py", "total_in > 0 and total_in >= out.watts", "total_in > 0",
          "tests/unit/test_energy_rules.py::test_an_input_reading_below_the_output_is_no_measurement_the_curve_is_used"),
    Named("sobriety/energy/models.py", "    ratio = min(max(load[0], 0.0), 1.0)\n",
          "    ratio = load[0]\n",
          "tests/unit/test_energy_rules.py::test_cpu_linear_is_idle_to_max_and_never_leaves_that_band"),
    Named("sobriety/lifetime/tracker.py", "elapsed, tolerance) and not rebooted:",
          "elapsed, tolerance):",
          "tests/unit/test_lifetime.py::test_engine_boots_rising_at_a_wrap_point_is_a_reboot_not_a_wrap"),
    Named("sobriety/lifetime/tracker.py", "power_on += min(uptime, elapsed)", "power_on += uptime",
          "tests/unit/test_lifetime.py::test_power_on_after_a_reboot_is_at_most_the_wall_time_elapsed"),
    Named("sobriety/lifetime/facts.py", "tracked and tracked >= 86_400", "tracked and tracked >= 0",
          "tests/unit/test_eol_facts.py::test_boots_per_month_needs_a_day_watched_before_it_sends_anything_to_repair"),
    Named("sobriety/snmp/ber.py", 'raise _bad("bad_oid")  # non-minimal sub-identifier', "pass",
          "tests/unit/test_ber.py::test_a_non_minimal_sub_identifier_is_malformed"),
    Named("sobriety/snmp/ber.py", "-(2**31) <= value < 2**31", "-(2**31) <= value <= 2**31",
          "tests/unit/test_ber.py::test_an_integer_is_an_integer32"),
    Named("sobriety/alerts/engine.py", "                state.clear_since = None\n",
          "                pass\n",
          "tests/unit/test_alerts.py::test_keep_firing_for_counts_from_the_last_time_the_value_went_below_clear"),
)  # fmt: skip


def retest(patterns: list[str]) -> int:
    """Bring the current tests into mutants/ and reset the survivors' verdicts."""
    if not MUTANTS.is_dir():
        print("no mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)
    reset = 0
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data["exit_code_by_key"]
        again = [
            key
            for key, code in codes.items()
            if code in SURVIVED | NO_TESTS
            and (not patterns or any(fnmatch.fnmatch(key, p) for p in patterns))
        ]
        for key in again:
            codes[key] = None
        if again:
            meta.write_text(json.dumps(data), encoding="utf-8")
            reset += len(again)
    print(f"{reset} survivors to test again: resume with `mutmut run` (no names)")
    return 0


def pytest_fails(tree: Path, tests: list[str]) -> bool:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy, not the editable install
    return subprocess.run(cmd, cwd=tree, env=env, capture_output=True, check=False).returncode != 0


def named() -> int:
    """Apply each of NAMED alone to a copy of the tracked tree; its test must catch it.

    The copy is imported in place of the installed package (PYTHONPATH), so the checkout
    itself is never changed.
    """
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True)
        .stdout.decode()
        .split("\0")
    )
    with tempfile.TemporaryDirectory(prefix="sobriety-named-") as tmp:
        tree = Path(tmp)
        for name in filter(None, files):
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes((ROOT / name).read_bytes())
        if pytest_fails(tree, sorted({m.test for m in NAMED})):
            print("a named test fails on the unmutated code", file=sys.stderr)
            return 1
        survived = 0
        for m in NAMED:
            source = tree / m.path
            text = source.read_text(encoding="utf-8")
            if text.count(m.old) != 1:
                print(f"{m.path}: {m.old.strip()!r} is not there once: update NAMED")
                survived += 1
                continue
            source.write_text(text.replace(m.old, m.new), encoding="utf-8")
            try:
                killed = pytest_fails(tree, [m.test])
            finally:
                source.write_text(text, encoding="utf-8")
            survived += not killed
            verdict = "killed" if killed else "SURVIVED"
            print(f"{verdict}: {m.path} {m.old.strip()!r} -> {m.new.strip()!r} by {m.test}")
    return 1 if survived else 0


@dataclass
class Tally:
    killed: int = 0
    timeout: int = 0  # of the killed
    survived: int = 0
    no_tests: int = 0
    type_check: int = 0
    skipped: int = 0
    not_checked: int = 0
    other: int = 0  # suspicious, segfault: a verdict to look at, counted as neither

    def add(self, code: int | None) -> None:
        self.timeout += code in TIMEOUT
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
    head = (
        "| module | killed | of which timeout | survived | no tests | score | mypy | not checked |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = Tally()
    for path, t in found.items():
        rows.append(row(path, t))
        for field in (
            "killed",
            "timeout",
            "survived",
            "no_tests",
            "type_check",
            "not_checked",
            "other",
        ):
            setattr(total, field, getattr(total, field) + getattr(t, field))
    rows.append(row("**all**", total))
    return "\n".join(rows)


def row(name: str, t: Tally) -> str:
    score = "-" if t.score is None else f"{t.score:.1f} %"
    return (
        f"| {name} | {t.killed} | {t.timeout} | {t.survived} | {t.no_tests} | {score} "
        f"| {t.type_check} | {t.not_checked} |"
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
    sub.add_parser("named")
    sub.add_parser("check")
    sub.add_parser("retest").add_argument("patterns", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "check":
        missing = missing_copies()
        if missing:
            print(f"add to [tool.mutmut] also_copy: {', '.join(missing)}", file=sys.stderr)
        return 1 if missing else 0
    if args.command == "named":
        return named()
    if args.command == "retest":
        return retest(args.patterns)
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
