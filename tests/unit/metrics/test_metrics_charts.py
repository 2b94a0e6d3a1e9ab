"""Charts are inline SVG: one bar per value, scaled to the largest, labels escaped, nothing fetched."""

import re

from services.metrics.charts import bar_chart, column_chart


def test_a_column_chart_has_one_bar_per_day_scaled_to_the_largest():
    svg = column_chart("clicks-over-time", "Clicks", [("2026-03-01", 10), ("2026-03-02", 5)], height=220)
    assert svg.startswith('<svg class="chart" id="clicks-over-time"')
    bars = re.findall(r'data-label="([^"]*)" data-value="([^"]*)" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"', svg)
    assert bars == [("2026-03-01", "10", "180.0"), ("2026-03-02", "5", "90.0")]


def test_a_bar_chart_escapes_labels_and_shows_values():
    svg = bar_chart("top-items", "Top items", [("<b>Jobs & more</b>", 3), ("Plant", 1)])
    assert "<b>" not in svg and "&lt;b&gt;Jobs &amp; more&lt;/b&gt;" in svg
    assert svg.count('class="bar"') == 2 and ">3</text>" in svg


def test_an_empty_chart_says_so_instead_of_drawing_nothing():
    svg = bar_chart("clicks-by-network", "By network", [])
    assert 'class="bar"' not in svg and "No data in this period" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
