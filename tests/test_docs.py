"""The README and docs/ link only to files and headings that exist (GitHub's anchor rule), and
every `vlanet` command the README names is a command of the CLI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.M)}


def broken_links(page: Path) -> list[str]:
    bad = []
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not fetched in tests (offline)
            continue
        path, _, frag = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{page.name}: {target} (no such file)")
        elif frag and dest.suffix == ".md" and frag not in anchors(dest):
            bad.append(f"{page.name}: {target} (no such heading)")
    return bad


def test_anchor_rule():
    assert anchor("Training the surrogate selection") == "training-the-surrogate-selection"
    assert anchor("Table 1 on the synthetic default (version-2 simulator)") == \
        "table-1-on-the-synthetic-default-version-2-simulator"
    assert anchor("`vlanet data prepare`, step by step") == "vlanet-data-prepare-step-by-step"


def test_local_links_resolve():
    bad = [b for page in PAGES for b in broken_links(page)]
    assert bad == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Here\n[a](p.md#here) [b](missing.md) [c](p.md#nowhere) [d](https://x.org)\n")
    assert broken_links(page) == ["p.md: missing.md (no such file)", "p.md: p.md#nowhere (no such heading)"]


def test_readme_commands_exist():
    from vlanet.cli import build_parser

    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    named = set(re.findall(r"`vlanet ([a-z][a-z-]*)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert named and named <= commands, sorted(named - commands)


def choices_defaults() -> list[tuple[str, str, str]]:
    """(section, field, default as written) for every field row of docs/CHOICES.md's tables
    with a 'default' column: `name` cells (several names: several comma-separated values), the
    section from the heading's (`section.*`) when the name has none."""
    rows, sections, col = [], [], None
    for line in (ROOT / "docs" / "CHOICES.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            sections, col = re.findall(r"`(\w+)\.\*`", line), None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells[:1] == ["field"]:
            col = cells.index("default") if "default" in cells else None
            continue
        if col is None or not cells or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([\w.]+)`", cells[0])
        values = [v.strip() for v in re.split(r",\s*(?![^\[]*\])", cells[col])]
        if len(names) != len(values):
            continue  # a row naming a concept, not one value per field
        for name, value in zip(names, values):
            targets = [tuple(name.split("."))] if "." in name else [(s, name) for s in sections]
            rows += [(sec, key, value) for sec, key in targets]
    return rows


def test_choices_tables_give_the_code_defaults():
    import yaml

    from vlanet.config import Config

    cfg, checked, wrong = Config(), 0, []
    for sec, key, written in choices_defaults():
        if not hasattr(getattr(cfg, sec, None), key):
            continue
        want, got = getattr(getattr(cfg, sec), key), yaml.safe_load(written)
        if isinstance(want, float) and isinstance(got, str):
            got = float(got)  # YAML 1.1 reads 4e-4 as a string
        checked += 1
        if got != (list(want) if isinstance(want, tuple) else want):
            wrong.append(f"{sec}.{key}: CHOICES.md says {written}, the code {want!r}")
    assert checked > 60 and not wrong, wrong
