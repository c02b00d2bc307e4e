"""The document as one self-contained HTML file: styles inline, figures as embedded PNG data,
no script and no request to anything outside the file; readable when printed."""

from __future__ import annotations

import base64
from importlib import resources

from markupsafe import Markup, escape

from detlab._deps import import_optional
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

__all__ = ["render_html"]


def render_html(doc: Document) -> str:
    jinja2 = import_optional("jinja2", purpose="to write HTML reports")
    source = (
        resources.files("detlab.report")
        .joinpath("templates/report.html.j2")
        .read_text(encoding="utf-8")
    )
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(source)
    contents = [(h.level, h.anchor, _inline(h.title)) for h in doc.headings() if h.level in (2, 3)]
    split = next(
        (i for i, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.level == 2),
        len(doc.blocks),
    )
    head = Markup("\n").join(_block(b) for b in doc.blocks[:split])
    body = Markup("\n").join(_block(b) for b in doc.blocks[split:])
    return str(
        template.render(title=doc.title, lang=doc.lang, contents=contents, head=head, body=body)
    )


def _block(block: Block) -> Markup:
    if isinstance(block, Heading):
        tags = Markup("").join(Markup('<span class="tag">{}</span>').format(t) for t in block.tags)
        return Markup('<h{0} id="{1}">{2}{3}</h{0}>').format(
            block.level, block.anchor, _inline(block.title), tags
        )
    if isinstance(block, Paragraph):
        return Markup('<p class="{}">{}</p>').format(block.role, _inline(block.content))
    if isinstance(block, BulletList):
        return _bullets(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, CodeBlock):
        caption = (
            Markup('<div class="caption">{}</div>').format(block.caption) if block.caption else ""
        )
        return Markup('{}<pre><code class="{}">{}</code></pre>').format(
            caption, block.language, block.content
        )
    if isinstance(block, Figure):
        return _figure(block)
    return _details(block)


def _inline(content: Text) -> Markup:
    out = []
    for span in content.spans:
        if span.style == "code":
            out.append(Markup("<code>{}</code>").format(span.text))
        elif span.style == "strong":
            out.append(Markup("<strong>{}</strong>").format(span.text))
        else:
            out.append(escape(span.text))
    return Markup("").join(out)


def _bullets(block: BulletList) -> Markup:
    items = []
    for label, content, children in block.items:
        head = Markup("<strong>{}</strong>: ").format(label) if label else Markup("")
        nested = Markup("")
        if children:
            nested = Markup("<ul>{}</ul>").format(
                Markup("").join(Markup("<li>{}</li>").format(_inline(c)) for c in children)
            )
        items.append(Markup("<li>{}{}{}</li>").format(head, _inline(content), nested))
    return Markup("<ul>{}</ul>").format(Markup("").join(items))


def _table(block: Table) -> Markup:
    align = list(block.align) + ["left"] * (len(block.header) - len(block.align))
    head = Markup("").join(
        Markup('<th class="{}">{}</th>').format(a, h)
        for a, h in zip(align, block.header, strict=True)
    )
    rows = Markup("").join(
        Markup("<tr>{}</tr>").format(
            Markup("").join(
                Markup('<td class="{}">{}</td>').format(a, _inline(c))
                for a, c in zip(align, row, strict=False)
            )
        )
        for row in block.rows
    )
    caption = Markup("<caption>{}</caption>").format(block.caption) if block.caption else ""
    return Markup(
        '<div class="table"><table>{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>'
    ).format(caption, head, rows)


def _figure(block: Figure) -> Markup:
    if block.png is None:
        return Markup('<p class="note">{}: {}</p>').format(block.caption, block.note)
    data = base64.b64encode(block.png).decode("ascii")
    return Markup(
        '<figure id="{}"><img alt="{}" src="data:image/png;base64,{}">'
        "<figcaption>{}</figcaption></figure>"
    ).format(block.name, block.caption, data, block.caption)


def _details(block: Details) -> Markup:
    inner = Markup("\n").join(_block(b) for b in block.blocks)
    return Markup("<details><summary>{}</summary>{}</details>").format(block.summary, inner)
