"""Inline SVG charts for the HTML report: no script, no network, every label escaped."""

from __future__ import annotations

from .common import format_value, one_line
from .html_page import esc

PALETTE = {"train": "#0969da", "eval": "#bf8700"}
BAR = "#0969da"


def hbar_chart(items: list[tuple[str, float]], *, note: str = "", max_items: int = 15, unit: str = "") -> str:
    """Horizontal bars, largest first as given; the rest folded into 'other'. Each bar is labelled with
    its value (and `unit`); a label too long to show whole is cut in the middle, the whole in its tooltip."""
    if len(items) > max_items:
        rest = sum(v for _, v in items[max_items - 1:])
        items = items[: max_items - 1] + [("other", rest)]
    top = max((v for _, v in items), default=0) or 1
    width, label_w, row = 560, 190, 22
    height = row * len(items) + 8
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    for n, (label, value) in enumerate(items):
        y = 4 + n * row
        w = max(1.0, (width - label_w - 90) * value / top) if value else 0
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end"><title>{esc(label)}</title>'
                   f"{esc(_middle(one_line(label, 200), 28))}</text>"
                   f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{BAR}" rx="2"/>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="#59636e">{esc(format_value(value))}'
                   f"{esc(unit)}</text>")
    out.append("</svg>")
    return "".join(out) + (f'<div class="note">{esc(note)}</div>' if note else "")


def share_bars(groups: dict[str, dict[str, int]], *, note: str = "", max_items: int = 15) -> str:
    """One bar per split for each key (a label), as the key's share of that split's rows: train and eval
    on one scale, however different their sizes. Keys in order of their train count."""
    totals = {split: sum(counts.values()) or 1 for split, counts in groups.items()}
    first = next(iter(groups.values()), {})
    keys = sorted({k for counts in groups.values() for k in counts}, key=lambda k: (-first.get(k, 0), k))
    if len(keys) > max_items:
        kept = keys[: max_items - 1]
        groups = {split: {**{k: counts.get(k, 0) for k in kept},
                          "other": sum(v for k, v in counts.items() if k not in kept)} for split, counts in groups.items()}
        keys = kept + ["other"]
    width, label_w, bar, gap = 560, 190, 9, 6
    per_key = bar * len(groups) + gap
    height = per_key * len(keys) + 30
    top = max((counts.get(k, 0) / totals[s] for s, counts in groups.items() for k in keys), default=0) or 1
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    x = label_w
    for split in groups:
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE.get(split, BAR)}"/>'
                   f'<text x="{x + 14}" y="13">{esc(split)} ({totals[split]:,} rows)</text>')
        x += 150
    for n, key in enumerate(keys):
        y = 24 + n * per_key
        out.append(f'<text x="{label_w - 6}" y="{y + per_key / 2 + 1:.1f}" text-anchor="end"><title>{esc(key)}'
                   f"</title>{esc(_middle(one_line(key, 200), 28))}</text>")
        for k, (split, counts) in enumerate(groups.items()):
            share = counts.get(key, 0) / totals[split]
            w = (width - label_w - 70) * share / top
            out.append(f'<rect x="{label_w}" y="{y + k * bar}" width="{max(w, 0.5 if share else 0):.1f}" '
                       f'height="{bar - 1}" fill="{PALETTE.get(split, BAR)}"><title>{esc(split)} {esc(key)}: '
                       f"{counts.get(key, 0):,} ({share:.1%})</title></rect>"
                       f'<text x="{label_w + w + 4:.1f}" y="{y + k * bar + bar - 1}" fill="#59636e" font-size="9">'
                       f"{share:.1%}</text>")
    out.append("</svg>")
    return "".join(out) + (f'<div class="note">{esc(note)}</div>' if note else "")


def column_chart(labels: list[str], series: dict[str, list[int]], *, x_label: str = "length in characters") -> str:
    """Vertical grouped bars (one group per bin, one bar per series) with a legend. Each series is drawn
    as its share of its own rows (train and eval on one scale); tooltips give the counts."""
    width, height, left, bottom, top_pad = 560, 230, 48, 44, 22
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    totals = {name: sum(counts) or 1 for name, counts in series.items()}
    top = max((max(c) / totals[name] for name, c in series.items() if c), default=0) or 1
    group_w = plot_w / len(labels)
    bar_w = max(2.0, (group_w - 6) / len(series))
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="#d1d9e0"/>',
           f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" fill="#59636e">{top:.0%}</text>',
           f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" fill="#59636e">0%</text>',
           f'<text transform="translate(12 {top_pad + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
           'fill="#59636e">share of examples</text>']
    for n, label in enumerate(labels):
        x0 = left + n * group_w + 3
        for k, (name, counts) in enumerate(series.items()):
            value = counts[n]
            h = plot_h * value / totals[name] / top
            out.append(f'<rect x="{x0 + k * bar_w:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE.get(name, BAR)}"><title>{esc(name)} {esc(label)}: '
                       f"{value:,} ({value / totals[name]:.1%})</title></rect>")
        out.append(f'<text x="{left + (n + 0.5) * group_w:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                   f'fill="#59636e" font-size="9">{esc(label)}</text>')
    x = left
    for name in series:
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE.get(name, BAR)}"/>'
                   f'<text x="{x + 14}" y="13">{esc(name)} ({totals[name]:,})</text>')
        x += 110
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" fill="#59636e">'
               f"{esc(x_label)}</text></svg>")
    return "".join(out)


def _middle(text: str, limit: int) -> str:
    """`text` cut in its middle to `limit` characters: labels often differ at their ends (intent_12, intent_13)."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep - keep // 2] + "…" + text[len(text) - keep // 2:]
