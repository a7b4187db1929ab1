"""Comments and docs that cite the design page must cite one that is in the repository, by a section it has.

Why a test: the design contracts used to live outside the repository, and comments pointed at sections a
reader of the repository could not open; a renumbered or removed section would silently do the same again.
"""

from __future__ import annotations

import re
import subprocess

from tests.utils.servers import REPO_ROOT

DESIGN = REPO_ROOT / "docs" / "design.md"


def test_every_design_reference_names_a_section_of_docs_design_md() -> None:
    sections = set(re.findall(r"^## (\d+)\. ", DESIGN.read_text(encoding="utf-8"), flags=re.M))
    assert sections >= {str(n) for n in range(1, 9)}, sections
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    bare, cited = [], []
    for name in tracked:
        path = REPO_ROOT / name
        if path.suffix not in {".py", ".md", ".yml", ".yaml", ".toml", ".txt", ".sh", ""} or not path.is_file() or name == "docs/design.md":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"(\S*)\s*§\s*(\d+)((?:\s*,\s*§\s*\d+)*)", text):
            numbers = [m.group(2), *re.findall(r"\d+", m.group(3))]
            if not m.group(1).endswith("design.md"):
                bare.append(f"{name}: {m.group(0)!r}")
            cited += [(name, n) for n in numbers]
    assert not bare, f"cite the design page as docs/design.md §N: {bare[:10]}"
    missing = [f"{name}: §{n}" for name, n in cited if n not in sections]
    assert cited and not missing, missing
