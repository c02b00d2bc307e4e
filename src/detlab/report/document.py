"""A report as renderer-agnostic blocks: headings, paragraphs, lists, tables, code, figures.

The builder (:mod:`detlab.report.build`) decides *what* a report says; the Markdown and HTML
renderers decide only *how* it looks. Text in blocks is plain (renderers escape it); a
:class:`Text` made of :class:`Span` pieces carries inline code and emphasis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "Block",
    "BulletList",
    "CodeBlock",
    "Details",
    "Document",
    "Figure",
    "Heading",
    "Inline",
    "Paragraph",
    "Span",
    "Table",
    "Text",
    "code",
    "text",
]


@dataclass(frozen=True)
class Span:
    """A piece of inline text: plain, ``code`` (run names, keys) or ``strong``."""

    text: str
    style: Literal["plain", "code", "strong"] = "plain"


@dataclass(frozen=True)
class Text:
    spans: tuple[Span, ...]

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.spans)


Inline: TypeAlias = "str | Span | Text"


def text(*parts: Inline) -> Text:
    """Join plain strings, spans and texts into one :class:`Text`."""
    spans: list[Span] = []
    for part in parts:
        if isinstance(part, Text):
            spans.extend(part.spans)
        elif isinstance(part, Span):
            spans.append(part)
        elif part:
            spans.append(Span(part))
    return Text(tuple(spans))


def code(value: str) -> Span:
    return Span(value, "code")


@dataclass(frozen=True)
class Heading:
    level: int
    title: Text
    anchor: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paragraph:
    content: Text
    role: Literal["normal", "note", "muted"] = "normal"


@dataclass(frozen=True)
class BulletList:
    """Items, each a label (may be empty) and its content; ``children`` nest one level."""

    items: tuple[tuple[str, Text, tuple[Text, ...]], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]
    #: Per column: "left", "right" (numbers) or "center".
    align: tuple[str, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class CodeBlock:
    content: str
    language: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A plot: ``name`` is its file stem; ``png`` its bytes, or ``None`` with a ``note``
    saying why it is missing (Matplotlib not installed, nothing to draw)."""

    name: str
    caption: str
    png: bytes | None
    note: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Details:
    """Folded content (long parameter lists): ``<details>`` in both renderers."""

    summary: str
    blocks: tuple[Block, ...]


Block: TypeAlias = "Heading | Paragraph | BulletList | Table | CodeBlock | Figure | Details"


@dataclass
class Document:
    title: str
    lang: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def extend(self, blocks: Sequence[Block]) -> None:
        self.blocks.extend(blocks)

    def figures(self) -> list[Figure]:
        """Every figure, folded ones included, in document order."""
        out: list[Figure] = []

        def visit(blocks: Sequence[Block]) -> None:
            for block in blocks:
                if isinstance(block, Figure):
                    out.append(block)
                elif isinstance(block, Details):
                    visit(block.blocks)

        visit(self.blocks)
        return out

    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]
