"""Write the compact IANA Private Enterprise Number table: `collectors/iana-enterprises.tsv.bz2`.

Source: a public copy of https://www.iana.org/assignments/enterprise-numbers, the
`enterprises.tsv` Wireshark ships (Debian package `libwireshark-data`, installed at
`/usr/share/wireshark/enterprises.tsv`). The table keeps `number<TAB>organisation` only:
Wireshark's trailing `# formerly ...` notes and the registry's contact fields are left out
(no per-person data). Its first lines say where it came from and when.

    python -m sobriety.gen.pen_table [SOURCE.tsv] [collectors/iana-enterprises.tsv.bz2]
"""

from __future__ import annotations

import bz2
import re
import subprocess
import sys
from pathlib import Path

DEFAULT_SOURCE = Path("/usr/share/wireshark/enterprises.tsv")
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "collectors" / "iana-enterprises.tsv.bz2"
_UPDATED = re.compile(r"last updated (\d{4}-\d{2}-\d{2})")


def package_version() -> str:
    """The Debian package the source file comes from, if dpkg knows it."""
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version}", "libwireshark-data"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown package"
    return done.stdout.strip() or "unknown package"


def compact(text: str, origin: str) -> str:
    """The registry as `number<TAB>name` lines, after a header naming its source and date."""
    updated = _UPDATED.search(text)
    rows: list[str] = []
    for line in text.splitlines():
        number, _, rest = line.partition("\t")
        if not number.isdecimal():
            continue
        name = rest.split("\t", 1)[0].strip()
        name = re.sub(r"\s*\(https?://[^)]*\)\s*$", "", name)  # IBM's standards URL
        if name:
            rows.append(f"{int(number)}\t{name}")
    header = [
        "# IANA Private Enterprise Numbers: number<TAB>organisation (compact copy).",
        "# Source: https://www.iana.org/assignments/enterprise-numbers, as Wireshark's",
        f"# enterprises.tsv ({origin}), registry last updated "
        f"{updated.group(1) if updated else 'unknown'}.",
        "# Regenerate: python -m sobriety.gen.pen_table",
    ]
    return "\n".join([*header, *rows]) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    table = compact(source.read_text(encoding="utf-8", errors="replace"), package_version())
    out.write_bytes(bz2.compress(table.encode("utf-8"), 9))
    print(f"{out}: {table.count(chr(10)) - 4} enterprise numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
