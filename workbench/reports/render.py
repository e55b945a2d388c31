"""Reports as documents: HTML through jinja2 templates (``templates/``), PDF through fpdf2, and
the quarterly charts through matplotlib; each document is archived in the records store with
the SHA-256 of its bytes, so a copy handed to a customer can be checked against the archive."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import time
from typing import Any

import jinja2

from workbench.records import ReportRecord
from workbench.reports.inspection import InspectionReport
from workbench.reports.quarterly import QuarterlyReport
from workbench.store import RecordStore

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("workbench.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters["when"] = lambda t: (
    "" if t is None else dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")
)
_ENV.filters["pct"] = lambda x: f"{100 * x:.2f} %"


def _measurements(values: dict[str, Any]) -> str:
    parts = []
    for name, m in values.items():
        value = m.get("value") if isinstance(m, dict) else m
        unit = m.get("unit", "") if isinstance(m, dict) else ""
        parts.append(f"{name} {value}{' ' + unit if unit else ''}")
    return "; ".join(parts)


_ENV.filters["measurements"] = _measurements


def inspection_html(report: InspectionReport) -> bytes:
    """The inspection report as a standalone HTML page."""
    return _ENV.get_template("inspection.html.j2").render(r=report).encode()


def _charts(report: QuarterlyReport) -> dict[str, str]:
    """PNG charts (base64) of the quarter: faults by device (Pareto) and availability by region."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = {"pareto": "", "regions": ""}  # a quiet quarter has neither
    if report.pareto_device:
        fig, ax = plt.subplots(figsize=(7, 3))
        names = [d for d, _ in report.pareto_device]
        counts = [n for _, n in report.pareto_device]
        ax.bar(names, counts, color="#4472c4")
        total = sum(counts)
        cumulative = [sum(counts[: i + 1]) / total * 100 for i in range(len(counts))]
        twin = ax.twinx()
        twin.plot(names, cumulative, color="#c00000", marker="o")
        twin.set_ylim(0, 105)
        twin.set_ylabel("cumulative %")
        ax.set_ylabel("tickets")
        ax.set_title(f"Faults by device, {report.quarter}")
        ax.tick_params(axis="x", rotation=30)
        charts["pareto"] = _png(fig)
        plt.close(fig)
    if report.by_region:
        fig, ax = plt.subplots(figsize=(7, 2.5))
        regions = list(report.by_region)
        ax.barh(regions, [100 * v for v in report.by_region.values()], color="#70ad47")
        ax.set_xlim(min(90.0, min(100 * v for v in report.by_region.values()) - 1), 100)
        ax.set_xlabel("availability %")
        ax.set_title("Availability by region")
        charts["regions"] = _png(fig)
        plt.close(fig)
    return charts


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode()


def quarterly_html(report: QuarterlyReport) -> bytes:
    """The quarterly service report as a standalone HTML page with its charts inline."""
    return _ENV.get_template("quarterly.html.j2").render(r=report, charts=_charts(report)).encode()


def _pdf() -> Any:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _table(pdf: Any, header: list[str], rows: list[list[str]]) -> None:
    pdf.set_font("Helvetica", size=8)
    with pdf.table(text_align="LEFT", first_row_as_headings=True) as table:
        for row in [header, *rows]:
            cells = table.row()
            for cell in row:
                cells.cell(_latin(str(cell)))
    pdf.ln(3)


def inspection_pdf(report: InspectionReport) -> bytes:
    """The inspection report as a PDF with a signature block."""
    pdf = _pdf()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(
        0,
        8,
        _latin(f"Inspection report: terminal {report.terminal_id}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", size=9)
    t = report.terminal
    where = ", ".join(x for x in ((t.region if t else None), (t.site if t else None)) if x)
    lines = [
        f"Inspected {report.when} by {report.run.engineer or 'unknown'} (run #{report.run.id}, "
        f"suite {report.run.suite}); verdict: {report.verdict}",
        f"Profile {t.profile if t else 'unknown'}" + (f"; {where}" if where else ""),
    ]
    for line in lines:
        pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(
        pdf,
        ["#", "item", "result", "measurements", "finding"],
        [
            [
                str(i.number),
                i.what,
                i.status,
                _measurements(i.measurements)[:160],
                (i.suspect or "") + (f": {i.finding}" if i.finding else ""),
            ]
            for i in report.items
        ],
    )
    if report.remedies:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, "Remedies applied", new_x="LMARGIN", new_y="NEXT")
        _table(
            pdf,
            ["remedy", "by", "when", "re-test"],
            [[m.action, m.engineer or "", _ENV.filters["when"](m.when), m.outcome or ""]
             for m in report.remedies],
        )  # fmt: skip
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Parts to replace and on-site work", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for item in report.to_replace or ():
        pdf.multi_cell(
            0,
            5,
            _latin(f"- {item.what}: {item.suspect or item.status}; {item.remedy_hint or ''}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if not report.to_replace:
        pdf.cell(0, 5, "none", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.cell(90, 5, "Engineer: ______________________", new_x="RIGHT")
    pdf.cell(90, 5, "Site representative: ______________________", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(90, 5, "Date: ______________", new_x="RIGHT")
    pdf.cell(90, 5, "Date: ______________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def quarterly_pdf(report: QuarterlyReport) -> bytes:
    """The quarterly service report as a PDF with its charts."""
    pdf = _pdf()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, f"Quarterly service report {report.quarter}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(
        0,
        5,
        f"{report.start} to {report.end - dt.timedelta(days=1)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        ("1. Terminal operation: availability by region", ["region", "availability"],
         [[r, f"{100 * v:.2f} %"] for r, v in report.by_region.items()]),
        ("2. Fault analysis: tickets by fault", ["fault", "tickets"],
         [[f, str(n)] for f, n in report.pareto_fault]),
        ("3. Service delivered: SLA clocks held", ["clock", "held", "of"],
         [[c, str(h), str(n)] for c, h, n in report.sla]),
        ("4. Next quarter: parts to stock", ["fault", "parts"],
         [[f, str(n)] for f, n in report.parts_to_stock]),
    ]  # fmt: skip
    charts = _charts(report)
    for title, header, rows in sections:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        _table(pdf, header, rows or [["(none)"] + [""] * (len(header) - 1)])
        if title.startswith("2.") and charts["pareto"]:
            pdf.image(io.BytesIO(base64.b64decode(charts["pareto"])), w=170)
    pdf.set_font("Helvetica", size=9)
    for measure in report.measures:
        pdf.multi_cell(0, 5, _latin(f"Measure - {measure}"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0, 5,
        _latin(f"Staffing: {report.engineers_needed} engineer(s) ({report.staffing_basis}); "
               f"{len(report.inspections_due)} inspections due."),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    return bytes(pdf.output())


def archive(store: RecordStore, kind: str, subject: str, fmt: str, content: bytes) -> ReportRecord:
    """Keep a document in the store with its content hash; returns the archived record."""
    record = ReportRecord(
        kind, subject, time.time(), fmt, hashlib.sha256(content).hexdigest(), content
    )
    return ReportRecord(
        record.kind, record.subject, record.created, record.format, record.sha256,
        record.content, store.add_report(record),
    )  # fmt: skip
