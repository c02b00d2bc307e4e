"""The document as GitHub-flavoured Markdown; figures are files under ``figures/``.

Long parameter lists fold into ``<details>`` (GitHub renders it); every run heading carries an
explicit anchor so that links survive renames of the heading text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from detlab.report.document import (
    Block,
    BulletList,
    CodeBlock,
    Details,
    Document,
    Figure,
    Heading,
    Paragraph,
    Table,
    Text,
)

__all__ = ["FIGURES_DIR", "render_markdown"]

FIGURES_DIR = "figures"
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def render_markdown(doc: Document) -> str:
    """The whole report; figure links point to ``figures/<name>.png``."""
    parts = [_block(block) for block in _with_contents(doc)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _with_contents(doc: Document) -> list[Block | _Raw]:
    """The blocks with a table of contents after the title lines."""
    headings = [h for h in doc.headings() if h.level in (2, 3)]
    blocks: list[Block | _Raw] = list(doc.blocks)
    if len(headings) < 3:
        return blocks
    lines = [f"{'  ' * (h.level - 2)}* [{_inline(h.title)}](#{h.anchor})" for h in headings]
    position = next(
        (i for i, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.level == 2),
        len(doc.blocks),
    )
    toc = _Raw("\n".join(lines))
    blocks.insert(position, toc)
    return blocks


class _Raw:
    def __init__(self, body: str) -> None:
        self.body = body


def _block(block: Block | _Raw) -> str:
    if isinstance(block, _Raw):
        return block.body
    if isinstance(block, Heading):
        tags = f" [{', '.join(block.tags)}]" if block.tags else ""
        return f'<a id="{block.anchor}"></a>\n{"#" * block.level} {_inline(block.title)}{tags}'
    if isinstance(block, Paragraph):
        body = _inline(block.content)
        if block.role == "note":
            return f"> {body}"
        return f"_{body}_" if block.role == "muted" else body
    if isinstance(block, BulletList):
        return _bullets(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, CodeBlock):
        return _code(block)
    if isinstance(block, Figure):
        return _figure(block)
    return _details(block)


def _inline(content: Text) -> str:
    out = []
    for span in content.spans:
        if span.style == "code":
            fence = "``" if "`" in span.text else "`"
            pad = " " if fence == "``" else ""
            out.append(f"{fence}{pad}{span.text}{pad}{fence}")
        elif span.style == "strong":
            out.append(f"**{_escape(span.text)}**")
        else:
            out.append(_escape(span.text))
    return "".join(out)


def _escape(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", value).replace("\n", " ")


def _bullets(block: BulletList) -> str:
    lines = []
    for label, content, children in block.items:
        body = _inline(content)
        head = f"**{_escape(label)}**" if label else ""
        lines.append(f"* {head}{': ' if head and body else ''}{body}".rstrip())
        lines += [f"  * {_inline(child)}" for child in children]
    return "\n".join(lines)


def _table(block: Table) -> str:
    marks = {"left": ":---", "right": "---:", "center": ":---:"}
    align = list(block.align) + ["left"] * (len(block.header) - len(block.align))
    lines = [
        "| " + " | ".join(_escape(h) for h in block.header) + " |",
        "| " + " | ".join(marks.get(a, ":---") for a in align) + " |",
    ]
    lines += ["| " + " | ".join(_inline(c) or " " for c in row) + " |" for row in block.rows]
    caption = f"**{_escape(block.caption)}**\n\n" if block.caption else ""
    return caption + "\n".join(lines)


def _code(block: CodeBlock) -> str:
    fence = "````" if "```" in block.content else "```"
    caption = f"**{_escape(block.caption)}**\n\n" if block.caption else ""
    return f"{caption}{fence}{block.language}\n{block.content}\n{fence}"


def _figure(block: Figure) -> str:
    if block.png is None:
        return f"> {_escape(block.caption)}: {_escape(block.note)}"
    return f"![{_escape(block.caption)}]({FIGURES_DIR}/{block.name}.png)"


def _details(block: Details) -> str:
    inner: Sequence[str] = [_block(b) for b in block.blocks]
    body = "\n\n".join(inner)
    return f"<details>\n<summary>{html.escape(block.summary)}</summary>\n\n{body}\n\n</details>"
