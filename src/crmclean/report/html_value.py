"""The customer-value section of report.html: value bands (inline SVG), key accounts and the
duplicates among them, and what happened to every movement row."""

from __future__ import annotations

from crmclean.report import svg
from crmclean.report.html_sections import esc, figure, num, section, table
from crmclean.report.report_model import CustomerValue


def value_section(part: CustomerValue | None) -> str:
    if part is None:
        return ""
    as_of = f" as of {esc(part.as_of)}" if part.as_of else ""
    body = [
        f"<p>{num('value.with_value', part.with_value)} of "
        f"{num('value.golden_records', part.golden_records)} golden records have a "
        f"<code>{esc(part.measure)}</code>{as_of}, "
        f"{num('value.total', part.total, 'float')} in total. "
        f"{num('value.movements_matched', part.movements_matched)} of "
        f"{num('value.movements', part.movements)} movement rows are on golden records; the "
        "others are in unmatched_movements.parquet with their reason.</p>"
    ]
    chart = svg.bar_chart(
        [c.label for c in part.bands],
        [float(c.count) for c in part.bands],
        title=f"Golden records by {part.measure}",
    )
    body.append(
        "<h3>Value distribution</h3>"
        + figure(chart, f"Golden records per band of {part.measure} (decades).")
    )
    if part.key_accounts is not None:
        one = part.key_accounts == 1
        body.append(
            "<h3>Key accounts</h3>"
            f"<p>{num('value.key_accounts', part.key_accounts)} "
            f"{'key account holds' if one else 'key accounts hold'} "
            f"{num('value.key_account_share', part.key_account_share, 'pct')} of the value; "
            f"{num('value.key_accounts_merged', part.key_accounts_merged)} of them merge "
            "duplicate source records and "
            f"{num('value.key_accounts_in_review', part.key_accounts_in_review)} have pairs "
            "waiting in the review queue (listed first there).</p>"
        )
        rows = [
            [
                f"<code>{esc(k.golden_id)}</code>",
                num(f"value.top_key_accounts.{i}.value", k.value, "float"),
                num(f"value.top_key_accounts.{i}.records", k.records),
                num(f"value.top_key_accounts.{i}.review_pairs", k.review_pairs),
            ]
            for i, k in enumerate(part.top_key_accounts)
        ]
        if rows:
            body.append(
                table(["Golden id", esc(part.measure), "Source records", "Pairs in review"], rows)
            )
    if part.unmatched:
        rows = [
            [esc(c.label), num(f"value.unmatched.{i}.count", c.count)]
            for i, c in enumerate(part.unmatched)
        ]
        body.append("<h3>Movements on no golden record</h3>" + table(["Reason", "Rows"], rows))
    return section("value", "Customer value", "".join(body))
