"""Inline SVG charts for the HTML report: no script, no network, every label escaped."""

from __future__ import annotations

from .common import format_value, one_line
from .html_page import esc

PALETTE = {"train": "#0969da", "eval": "#bf8700"}
BAR = "#0969da"


def hbar_chart(items: list[tuple[str, float]], *, note: str = "", max_items: int = 15) -> str:
    """Horizontal bars, largest first as given; the rest folded into 'other'."""
    if len(items) > max_items:
        rest = sum(v for _, v in items[max_items - 1:])
        items = items[: max_items - 1] + [("other", rest)]
    top = max((v for _, v in items), default=0) or 1
    width, label_w, row = 560, 150, 22
    height = row * len(items) + 8
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    for n, (label, value) in enumerate(items):
        y = 4 + n * row
        w = max(1.0, (width - label_w - 80) * value / top) if value else 0
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end"><title>{esc(label)}</title>'
                   f"{esc(one_line(label, 22))}</text>"
                   f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{BAR}" rx="2"/>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="#59636e">{esc(format_value(value))}</text>')
    out.append("</svg>")
    return "".join(out) + (f'<div class="note">{esc(note)}</div>' if note else "")


def column_chart(labels: list[str], series: dict[str, list[int]]) -> str:
    """Vertical grouped bars (one group per bin, one bar per series) with a legend."""
    width, height, left, bottom, top_pad = 560, 220, 44, 40, 22
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = max((max(c) for c in series.values()), default=0) or 1
    group_w = plot_w / len(labels)
    bar_w = max(2.0, (group_w - 6) / len(series))
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="#d1d9e0"/>',
           f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" fill="#59636e">{esc(format_value(top))}</text>',
           f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" fill="#59636e">0</text>']
    for n, label in enumerate(labels):
        x0 = left + n * group_w + 3
        for k, (name, counts) in enumerate(series.items()):
            value = counts[n]
            h = plot_h * value / top
            out.append(f'<rect x="{x0 + k * bar_w:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE.get(name, BAR)}"><title>{esc(name)} {esc(label)}: '
                       f"{value:,}</title></rect>")
        out.append(f'<text x="{left + (n + 0.5) * group_w:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                   f'fill="#59636e" font-size="9">{esc(label)}</text>')
    x = left
    for name in series:
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE.get(name, BAR)}"/>'
                   f'<text x="{x + 14}" y="13">{esc(name)}</text>')
        x += 70
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" fill="#59636e">'
               "length in characters</text></svg>")
    return "".join(out)

