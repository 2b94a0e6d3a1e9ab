"""Bar charts as inline SVG, drawn here: a report is one self-contained file that opens
offline and fetches nothing (no script, no CDN, no font). Every bar carries its label and
value as data attributes and a <title> tooltip, so the figures are readable without
the picture (screen readers, tests)."""

from collections.abc import Sequence
from html import escape

_WIDTH = 640
_BAR_GAP = 4


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def column_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]], height: int = 220) -> str:
    """Vertical bars left to right (a time series): one per (label, value)."""
    top = max((v for _, v in bars), default=0) or 1
    plot = height - 40  # room for the axis labels below
    step = _WIDTH / max(len(bars), 1)
    shapes = []
    for i, (label, value) in enumerate(bars):
        h = plot * value / top
        x = i * step + _BAR_GAP / 2
        shapes.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:g}" x="{x:.1f}" '
            f'y="{plot - h + 10:.1f}" width="{max(step - _BAR_GAP, 1):.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>")
        if len(bars) <= 31 or i % max(len(bars) // 15, 1) == 0:  # keep axis labels legible
            shapes.append(f'<text class="axis" x="{x + step / 2:.1f}" y="{height - 12}" text-anchor="middle">'
                          f"{escape(label[-5:])}</text>")
    return _svg(chart_id, title, _WIDTH, height, shapes)


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars top to bottom (a ranking): label on the left, value on the right."""
    top = max((v for _, v in bars), default=0) or 1
    row, label_width, value_width = 26, 200, 80
    plot = _WIDTH - label_width - value_width
    shapes = []
    for i, (label, value) in enumerate(bars):
        y = i * row + 4
        w = plot * value / top
        shapes += [
            f'<text class="label" x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label[:32])}</text>',
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:g}" x="{label_width}" y="{y}" '
            f'width="{w:.1f}" height="{row - 6}"><title>{escape(label)}: {_number(value)}</title></rect>',
            f'<text class="value" x="{label_width + w + 6:.1f}" y="{y + 16}">{_number(value)}</text>',
        ]
    return _svg(chart_id, title, _WIDTH, max(len(bars), 1) * row + 8, shapes)


def _svg(chart_id: str, title: str, width: int, height: int, shapes: list[str]) -> str:
    empty = [] if shapes else ['<text class="empty" x="8" y="20">No data in this period</text>']
    return (f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f"<title>{escape(title)}</title>{''.join(shapes + empty)}</svg>")
