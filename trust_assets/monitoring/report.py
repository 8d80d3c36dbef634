"""The daily monitoring report: one self-contained HTML page per scoring date, plots drawn as inline SVG.

Sections: feature drift per feature (today's PSI with the bands), drift over recent days (a heat map),
the score distribution against the reference population, and, when the outcome and fairness monitors have
produced them for the date, decile lift and fairness. No external file, script or font: the page opens from
a mail attachment or a file share as well as from the Dagster UI's link.

The page is the Jinja2 template ``templates/report.html.j2`` (autoescaped); this module computes what it shows:
the tables as text (:func:`table`) and the plots as SVG fragments, whose labels are escaped where they are drawn.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

import jinja2
import polars as pl
from markupsafe import Markup

from trust_assets.monitoring.drift import INVESTIGATE, SIGNIFICANT, STABLE
from trust_assets.monitoring.prediction_distribution import histogram_edges

BAND_COLOURS = {STABLE: "#4c9a6a", INVESTIGATE: "#e0a526", SIGNIFICANT: "#e07a5f", None: "#9a9a9a"}
# A significant feature that also moved beyond the reference period's own variation (``drifted``).
DRIFTED_COLOUR = "#9b1c1c"


def _colour(row: dict[str, object] | None) -> str:
    if row is None:
        return "#eee"
    if row.get("drifted"):
        return DRIFTED_COLOUR
    return BAND_COLOURS.get(row.get("band"), "#999")  # type: ignore[arg-type]


FONT = "font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif"


@dataclass(frozen=True)
class ReportInputs:
    """Everything one day's report shows; optional sections are None when their table has no rows yet."""

    day: date
    drift: pl.DataFrame  # feature_drift rows of the day
    drift_history: pl.DataFrame  # feature_drift rows of the recent days (including the day)
    scores: pl.DataFrame  # score_distribution rows of the day
    psi_investigate: float
    psi_significant: float
    fairness: pl.DataFrame | None = None  # fairness_by_group rows for the day, if any
    # Outcomes are known months after a scoring date: trust_decile_outcomes and matured_outcome_performance rows of
    # the latest scoring date on or before the day whose outcome window has closed (``outcomes_date``), if any.
    deciles: pl.DataFrame | None = None
    outcome_performance: pl.DataFrame | None = None
    outcomes_date: date | None = None
    # probation_guard_metrics rows of the probation days up to the day, if a cohort is in probation
    probation: pl.DataFrame | None = None
    # canary customers against the rest, per cohort with a canary on the day
    canary: pl.DataFrame | None = None


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


# --- SVG primitives ---------------------------------------------------------------------------------------------
def _svg(width: int, height: int, body: Sequence[str], kind: str, title: str) -> str:
    return (
        f'<svg class="plot" data-plot="{esc(kind)}" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="{FONT};font-size:11px"><title>{esc(title)}</title>' + "".join(body) + "</svg>"
    )


def psi_bar_chart(drift: pl.DataFrame, cohort: str, investigate: float, significant: float) -> str:
    """Horizontal bars: each feature's PSI today, coloured by band, with the two band thresholds drawn."""
    rows = drift.filter(pl.col("cohort") == cohort).sort("psi", descending=True, nulls_last=True)
    left, right, bar_h, top = 170, 110, 16, 22
    width = 620
    height = top + bar_h * max(rows.height, 1) + 26
    top_value = max([significant * 1.6, *[v for v in rows["psi"].to_list() if v is not None]])
    scale = (width - left - right) / top_value
    body = [f'<text x="{left}" y="13" font-weight="600">PSI against the reference period ({esc(cohort)})</text>']
    for i, r in enumerate(rows.iter_rows(named=True)):
        y = top + i * bar_h
        value = r["psi"] or 0.0
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{esc(r["feature"])}</text>')
        body.append(
            f'<rect class="bar" x="{left}" y="{y + 2}" width="{max(value * scale, 1):.1f}" height="{bar_h - 4}" '
            f'fill="{_colour(r)}"><title>{esc(r["feature"])}: PSI {fmt(r["psi"])}, '
            f"W {fmt(r['wasserstein_sd'])} sd</title></rect>"
        )
        flag = " drifted" if r.get("drifted") else ""
        body.append(f'<text x="{left + value * scale + 4:.1f}" y="{y + 12}">{fmt(r["psi"])}{flag}</text>')
    axis_y = top + bar_h * max(rows.height, 1)
    for threshold in (investigate, significant):
        x = left + threshold * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y}" stroke="#555" stroke-dasharray="3,3"/>'
            f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{threshold:g}</text>'
        )
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#333"/>')
    return _svg(width, height + 6, body, "psi-bars", f"PSI per feature, {cohort}")


def drift_heatmap(history: pl.DataFrame, cohort: str, investigate: float, significant: float) -> str:
    """Feature x day grid of PSI bands over the recent days: when did which feature start drifting."""
    rows = history.filter(pl.col("cohort") == cohort)
    days = sorted(set(rows["snapshot_date"].to_list()))
    features = sorted(set(rows["feature"].to_list()))
    left, cell_w, cell_h, top = 170, max(min(36, 440 // max(len(days), 1)), 14), 15, 20
    width = max(left + cell_w * max(len(days), 1) + 10, 680)
    height = top + cell_h * max(len(features), 1) + 56
    lookup = {(r["feature"], r["snapshot_date"]): r for r in rows.iter_rows(named=True)}
    body = [f'<text x="{left}" y="13" font-weight="600">PSI band by day ({esc(cohort)})</text>']
    for i, feature in enumerate(features):
        y = top + i * cell_h
        body.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{esc(feature)}</text>')
        for j, day in enumerate(days):
            r = lookup.get((feature, day))
            colour = _colour(r)
            tip = f"{feature} {day}: PSI {fmt(r['psi']) if r else 'n/a'}"
            body.append(
                f'<rect class="cell" x="{left + j * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{colour}"><title>{esc(tip)}</title></rect>'
            )
    for j, day in enumerate(days):
        if len(days) <= 10 or j % 2 == 0 or j == len(days) - 1:
            x = left + j * cell_w + cell_w / 2
            y = top + cell_h * len(features) + 12
            body.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-45 {x:.1f} {y})">'
                f"{day.strftime('%m-%d')}</text>"
            )
    x = 10
    legend = (
        ("stable", BAND_COLOURS[STABLE]),
        (f"investigate (PSI {investigate:g})", BAND_COLOURS[INVESTIGATE]),
        (f"significant (PSI {significant:g})", BAND_COLOURS[SIGNIFICANT]),
        ("drifted: beyond the reference's own variation", DRIFTED_COLOUR),
    )
    for name, colour in legend:
        body.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 13}" y="{height - 3}">{esc(name)}</text>'
        )
        x += 16 + 6 * len(name)
    return _svg(width, height, body, "drift-heatmap", f"PSI band by day, {cohort}")


def score_histogram(row: dict[str, object]) -> str:
    """The day's trust-score histogram (bars) over the reference population's (line), as shares."""
    counts = json.loads(str(row["histogram"]))
    reference = json.loads(str(row["reference_histogram"]))
    total, ref_total = max(sum(counts), 1), max(sum(reference), 1)
    shares = [c / total for c in counts]
    ref_shares = [c / ref_total for c in reference]
    edges = histogram_edges(len(counts))
    width, height, left, bottom, top = 520, 220, 40, 30, 22
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([*shares, *ref_shares, 1e-9])
    bar_w = plot_w / len(counts)
    body = [
        f'<text x="{left}" y="13" font-weight="600">Trust score: {esc(row["snapshot_date"])} (bars) vs reference '
        f"{esc(row['reference_date'])} (line), {esc(row['cohort'])}</text>"
    ]
    for i, share in enumerate(shares):
        h = share / peak * plot_h
        body.append(
            f'<rect class="bar" x="{left + i * bar_w + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="#5b7fb5"><title>{edges[i]:.1f} .. {edges[i + 1]:.1f}: {share:.1%}</title></rect>'
        )
    points = " ".join(
        f"{left + (i + 0.5) * bar_w:.1f},{top + plot_h - s / peak * plot_h:.1f}" for i, s in enumerate(ref_shares)
    )
    body.append(f'<polyline class="reference" points="{points}" fill="none" stroke="#c8412c" stroke-width="2"/>')
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')
    for value in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = left + (value + 1) / 2 * plot_w
        body.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{value:g}</text>')
    body.append(f'<text x="4" y="{top + 8}">{peak:.0%}</text>')
    return _svg(width, height, body, "score-histogram", f"Trust score distribution, {row['cohort']}")


def grouped_bars(frame: pl.DataFrame, category: str, series: Sequence[str], title: str, kind: str) -> str:
    """Vertical bars of numeric ``series`` per ``category`` value (decile lift, group disparities)."""
    categories = frame[category].cast(pl.String).to_list()
    values = {s: [float(v) if v is not None else 0.0 for v in frame[s].to_list()] for s in series}
    palette = ["#5b7fb5", "#c8412c", "#4c9a6a", "#e0a526"]
    left, bottom, top, height = 46, 40, 34, 230
    width = max(560, left + 10 + 70 * len(categories))  # room for each category's label
    plot_w, plot_h = width - left - 10, height - top - bottom
    low = min(0.0, *[v for vs in values.values() for v in vs])
    high = max(1e-9, *[v for vs in values.values() for v in vs])
    span = high - low
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w / (len(series) + 1)
    zero_y = top + plot_h * high / span
    body = [f'<text x="{left}" y="13" font-weight="600">{esc(title)}</text>']
    for k, s in enumerate(series):
        body.append(
            f'<rect x="{left + k * 150}" y="19" width="10" height="10" fill="{palette[k % 4]}"/>'
            f'<text x="{left + k * 150 + 14}" y="28">{esc(s)}</text>'
        )
        for i, v in enumerate(values[s]):
            y = top + plot_h * (high - max(v, 0)) / span
            h = abs(v) / span * plot_h
            body.append(
                f'<rect class="bar" x="{left + i * group_w + (k + 0.5) * bar_w:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{palette[k % 4]}">'
                f"<title>{esc(categories[i])} {esc(s)}: {v:.4g}</title></rect>"
            )
    body.append(f'<line x1="{left}" y1="{zero_y:.1f}" x2="{left + plot_w}" y2="{zero_y:.1f}" stroke="#333"/>')
    for i, c in enumerate(categories):
        body.append(
            f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{esc(c)}</text>'
        )
    body.append(f'<text x="4" y="{top + 8}">{high:.3g}</text>')
    return _svg(width, height, body, kind, title)


# --- tables and sections ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A frame as the template shows it: column names, the first rows as text, and how many rows were left out."""

    columns: list[str]
    rows: list[list[str]]
    hidden: int


@dataclass(frozen=True)
class PlotsAndTable:
    plots: list[Markup]
    table: Table


def table(frame: pl.DataFrame, max_rows: int = 60) -> Table:
    rows = [[fmt(v) for v in row] for row in frame.head(max_rows).iter_rows()]
    return Table(frame.columns, rows, max(frame.height - max_rows, 0))


def _numeric(frame: pl.DataFrame) -> list[str]:
    return [c for c, t in frame.schema.items() if t.is_numeric()]


def _decile_section(deciles: pl.DataFrame | None) -> PlotsAndTable | None:
    if deciles is None or deciles.height == 0:
        return None
    decile_col = next((c for c in deciles.columns if "decile" in c.lower()), None)
    rates = [c for c in _numeric(deciles) if "rate" in c.lower()]
    plots: list[Markup] = []
    if decile_col and rates:
        groups = deciles["cohort"].unique().sort().to_list() if "cohort" in deciles.columns else [None]
        for cohort in groups:
            part = deciles if cohort is None else deciles.filter(pl.col("cohort") == cohort)
            part = part.sort(decile_col)
            title = f"Outcome rates by trust-score decile{'' if cohort is None else f' ({cohort})'}"
            plots.append(Markup(grouped_bars(part, decile_col, rates[:3], title, "decile-lift")))
    return PlotsAndTable(plots, table(deciles))


def _fairness_section(fairness: pl.DataFrame | None) -> PlotsAndTable | None:
    if fairness is None or fairness.height == 0:
        return None
    group_col = next((c for c in ("group_value", "group", "region", "segment") if c in fairness.columns), None)
    numeric = _numeric(fairness)
    measure = next((c for c in ("trust_mean", "mean_trust_score") if c in numeric), None)
    measure = measure or next((c for c in numeric if "mean" in c.lower()), None)
    measure = measure or next((c for c in numeric if "disparity" in c.lower()), None)
    plots: list[Markup] = []
    if group_col and measure:
        groups = fairness["cohort"].unique().sort().to_list() if "cohort" in fairness.columns else [None]
        for cohort in groups:
            part = fairness if cohort is None else fairness.filter(pl.col("cohort") == cohort)
            label_parts = [c for c in ("dimension", "group_type") if c in part.columns] + [group_col]
            labelled = part.with_columns(
                pl.concat_str([pl.col(c).cast(pl.String) for c in label_parts], separator=":").alias("_group")
            ).head(16)
            title = f"{measure} by group{'' if cohort is None else f' ({cohort})'}"
            plots.append(Markup(grouped_bars(labelled, "_group", [measure], title, "fairness")))
    return PlotsAndTable(plots, table(fairness))


def _optional_table(frame: pl.DataFrame | None) -> Table | None:
    return table(frame) if frame is not None and frame.height else None


@cache
def _template() -> jinja2.Template:
    """The page template (templates/report.html.j2), loaded once on first use; autoescaped, strict on names."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("trust_assets.monitoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("report.html.j2")


def _summary(inputs: ReportInputs) -> pl.DataFrame:
    """One row per cohort: drift bands, the largest PSI and the score distribution's figures."""
    summary = (
        inputs.drift.group_by("cohort")
        .agg(
            pl.len().alias("features"),
            *[(pl.col("band") == b).sum().alias(b) for b in (STABLE, INVESTIGATE, SIGNIFICANT)],
            pl.col("drifted").sum().alias("drifted"),
            pl.col("psi").max().alias("max_psi"),
            pl.col("feature").sort_by("psi", descending=True, nulls_last=True).first().alias("largest_psi"),
        )
        .sort("cohort")
    )
    if inputs.scores.height:
        summary = summary.join(
            inputs.scores.select(
                "cohort",
                pl.col("mean").alias("score_mean"),
                "score_psi",
                pl.col("band").alias("score_band"),
                "share_outside_reference",
            ),
            on="cohort",
            how="left",
        )
    return summary


def _cohort(inputs: ReportInputs, cohort: str) -> dict[str, object]:
    score_row = inputs.scores.filter(pl.col("cohort") == cohort)
    drift = (
        inputs.drift.filter(pl.col("cohort") == cohort)
        .select(
            "feature",
            "psi",
            "band",
            "wasserstein_sd",
            "reference_max_wasserstein_sd",
            "excess_wasserstein_sd",
            "drifted",
            "current_mean",
            "reference_mean",
            "missing_share",
        )
        .sort("psi", descending=True, nulls_last=True)
    )
    investigate, significant = inputs.psi_investigate, inputs.psi_significant
    return {
        "name": cohort,
        "title": cohort.capitalize(),
        "psi_plot": Markup(psi_bar_chart(inputs.drift, cohort, investigate, significant)),
        "score_plot": Markup(score_histogram(score_row.row(0, named=True))) if score_row.height else None,
        "heatmap": Markup(drift_heatmap(inputs.drift_history, cohort, investigate, significant)),
        "drift": table(drift),
    }


def render_report(inputs: ReportInputs) -> str:
    """The whole page as one HTML string, from templates/report.html.j2."""
    cohorts = sorted(set(inputs.drift["cohort"].to_list()) | set(inputs.scores["cohort"].to_list()))
    outcomes_date = inputs.outcomes_date if inputs.outcomes_date not in (None, inputs.day) else None
    probation = inputs.probation.sort("cohort", "snapshot_date") if inputs.probation is not None else None
    return _template().render(
        day=inputs.day.isoformat(),
        font=FONT,
        investigate=f"{inputs.psi_investigate:g}",
        significant=f"{inputs.psi_significant:g}",
        summary=table(_summary(inputs)),
        cohorts=[_cohort(inputs, cohort) for cohort in cohorts],
        outcomes_date=outcomes_date,
        deciles=_decile_section(inputs.deciles),
        fairness=_fairness_section(inputs.fairness),
        outcome_performance=_optional_table(inputs.outcome_performance),
        canary=_optional_table(inputs.canary),
        probation=_optional_table(probation),
    )
