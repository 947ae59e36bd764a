"""Every relative link in README.md and docs/*.md leads somewhere: the file exists and, when the link names a
``#section``, the target has a heading with that anchor (GitHub's rule for turning headings into anchors)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but not - or _), spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in FENCE.sub("", markdown).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(markdown: str) -> list[str]:
    prose = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return [t for t in LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in relative_links(document.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        file = (document.parent / unquote(path_part)).resolve() if path_part else document
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (file.suffix != ".md" or unquote(anchor) not in anchors(file.read_text(encoding="utf-8"))):
            broken.append(f"{target}: no heading with that anchor in {file.name}")
    return broken


@pytest.mark.parametrize("document", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(document: Path) -> None:
    assert broken_links(document) == []


def test_the_readme_links_every_page_in_docs() -> None:
    linked = {target.partition("#")[0] for target in relative_links((REPO / "README.md").read_text(encoding="utf-8"))}

    assert {f"docs/{page.name}" for page in DOCS[1:]} <= linked


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Quick start", "quick-start"),
        ("The `durable_app` fixture", "the-durable_app-fixture"),
        ("Quirks of the real host that devhost reproduces", "quirks-of-the-real-host-that-devhost-reproduces"),
        ("Benchmark: devhost's throughput", "benchmark-devhosts-throughput"),
        ("1. Start job monitoring (defaults)", "1-start-job-monitoring-defaults"),
    ],
)
def test_headings_become_githubs_anchors(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_broken_link_and_a_missing_anchor_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [nowhere](other.md#no-section) [here](#other) "
        "[web](https://example.org/x) `[code](nope.md)`\n\n# Page\n",
        encoding="utf-8",
    )

    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#no-section: no heading with that anchor in other.md",
        "#other: no heading with that anchor in page.md",
    ]
