"""A report table's markup is built in Python (apps/reporting/tables.py, Table.html) rather than by
template loops: the cells, their classes, the total and the empty case, everything escaped."""

from apps.reporting.tables import Column, Table


def test_table_markup_escapes_every_part_and_keeps_the_classes():
    table = Table(
        key="reps", title="Per rep",
        columns=[Column("rep", "Rep <name>", kind="text", definition='who "owns"'), Column("rate", "Rate", kind="pct")],
        rows=[{"rep": "Ann & <b>Co</b>", "rate": 0.25}, {"rep": "Bob", "rate": None}],
        total={"rep": "Total", "rate": 0.2},
        statuses={(0, "rate"): "good", ("total", "rate"): "bad"},
    )
    html = table.html()
    assert html.startswith('<table class="report-table" id="table-reps">')
    assert '<th scope="col" class="kind-text" title="who &quot;owns&quot;">Rep &lt;name&gt;</th>' in html
    assert '<tr><td class="kind-text">Ann &amp; &lt;b&gt;Co&lt;/b&gt;</td><td class="kind-pct status-good">25.0%</td></tr>' in html
    assert '<td class="kind-pct">—</td>' in html
    assert '<tfoot><tr class="total"><td class="kind-text">Total</td><td class="kind-pct status-bad">20.0%</td></tr></tfoot>' in html


def test_an_empty_table_says_no_data_across_its_columns():
    html = Table(key="x", title="X", columns=[Column("a", "A"), Column("b", "B")], rows=[]).html()
    assert '<tr class="no-data"><td colspan="2">no data</td></tr>' in html and "<tfoot>" not in html
