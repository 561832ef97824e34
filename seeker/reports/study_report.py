"""The HTML report of a graded study: one self-contained file, no network, charts as PNGs inside.

It shows the grade card with every criterion, the walk-forward folds with their equity curves in
and out of sample, a heatmap of the objective over the two most important parameters, Optuna's
parameter importances (PED-ANOVA, Optuna's default evaluator: it needs no scikit-learn), the
Deflated Sharpe Ratio, the bootstrap, the stability neighbours, the table by regime and the best
trials. Charts are matplotlib PNGs (Agg backend, no timestamp in their metadata), embedded as
``data:`` URIs, so the same study gives the same file.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import optuna
from matplotlib.figure import Figure
from optuna.trial import FrozenTrial

from seeker.research.evidence import REGIME_COLUMNS, Evaluation
from seeker.research.settings import StudySettings
from seeker.research.study import completed

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;
color:#1d2330;background:#fafbfc;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6}
.sub{color:#5b6475;margin-bottom:16px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d8dde6;padding:4px 8px;text-align:left}th{background:#eef1f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.grade{display:inline-block;font-size:40px;font-weight:700;width:64px;height:64px;line-height:64px;
text-align:center;border-radius:8px;color:white;margin-right:16px;vertical-align:middle}
.A{background:#1f9d55}.B{background:#5aa02c}.C{background:#c9a400}.D{background:#d9822b}
.F{background:#cc3333}.why{color:#8a1c1c}.note{color:#5b6475;font-size:13px}
img{max-width:100%;border:1px solid #d8dde6;background:white}
.row{display:flex;gap:16px;flex-wrap:wrap}.row>div{flex:1 1 480px}
"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _e(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    if isinstance(value, list):
        return html.escape(
            "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]"
        )
    return html.escape(str(value))


def _table(
    head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int] | None = None
) -> str:
    numeric = numeric or set()
    out = ["<table><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = ' class="n"' if i in numeric else ""
            out.append(f"<td{cls}>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def equity_figure(ev: Evaluation) -> str:
    """Return the folds' cumulative P&L in sample (selection) and out of sample, one panel each."""
    n = len(ev.folds)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), squeeze=False, sharey=True)
    for ax, f in zip(axes[0], ev.folds, strict=True):
        if f.is_curve:
            ax.plot(
                [p.day for p in f.is_curve],
                [p.pnl for p in f.is_curve],
                color="#2b6cb0",
                label=f"in sample (trial #{f.trial})",
            )
        if f.oos_curve:
            start = f.is_curve[-1].pnl if f.is_curve else 0.0
            ax.plot(
                [p.day for p in f.oos_curve],
                [start + p.pnl for p in f.oos_curve],
                color="#dd6b20",
                label="out of sample",
            )
        ax.axhline(0.0, color="#999", linewidth=0.8)
        ax.set_title(f"fold {f.index}: OOS {f.oos_pnl:+.2f} $ ({f.oos_trades} trades)", fontsize=10)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.legend(fontsize=8, loc="best")
    axes[0][0].set_ylabel("cumulative P&L $ (after commissions)")
    return _png(fig)


def importances(study: optuna.Study) -> tuple[dict[str, float], str]:
    """Return Optuna's parameter importances (PED-ANOVA) and a note when none can be computed."""
    trials = completed(study)
    if len(trials) < 3:
        return {}, f"{len(trials)} completed trial(s): too few for importances"
    if len({t.value for t in trials}) < 2:
        return {}, "every trial scored the same: no parameter matters on this evidence"
    try:
        found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        return {}, f"not computable: {exc}"
    return {k: float(v) for k, v in found.items()}, "PED-ANOVA (Optuna's default evaluator)"


def importance_figure(values: dict[str, float]) -> str:
    """Return a horizontal bar chart of the importances."""
    names = list(values)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(names)))
    ax.barh(names, [values[n] for n in names], color="#2b6cb0")
    ax.set_xlabel("importance (share)")
    ax.set_xlim(0, max(1e-9, max(values.values())) * 1.1)
    return _png(fig)


def _axis(trials: Sequence[FrozenTrial], name: str) -> tuple[list[str], list[int]]:
    values = [t.params.get(name) for t in trials]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    distinct = (
        sorted(set(values), key=lambda v: (str(type(v)), v))
        if numeric
        else sorted({str(v) for v in values})
    )
    if numeric and len(distinct) > 8:
        edges = np.quantile(np.asarray(values, dtype=float), np.linspace(0, 1, 9))
        cells = [int(min(np.searchsorted(edges, v, side="right") - 1, 7)) for v in values]
        labels = [f"{edges[i]:.3g}–{edges[i + 1]:.3g}" for i in range(8)]
        return labels, cells
    labels = [f"{v:g}" if isinstance(v, float) else str(v) for v in distinct]
    return labels, [distinct.index(v if numeric else str(v)) for v in values]


def heatmap_figure(study: optuna.Study, x: str, y: str) -> str:
    """Return the best objective of the trials in each cell of parameters `x` × `y`."""
    trials = [t for t in completed(study) if x in t.params and y in t.params]
    xl, xi = _axis(trials, x)
    yl, yi = _axis(trials, y)
    grid = np.full((len(yl), len(xl)), np.nan)
    for t, i, j in zip(trials, yi, xi, strict=True):
        value = float(t.value or 0.0)
        grid[i, j] = value if math.isnan(grid[i, j]) else max(grid[i, j], value)
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(xl), 1.0 + 0.5 * len(yl)))
    image = ax.imshow(grid, cmap="RdYlGn", aspect="auto", origin="lower")
    ax.set_xticks(range(len(xl)), xl, rotation=45, fontsize=8)
    ax.set_yticks(range(len(yl)), yl, fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for i in range(len(yl)):
        for j in range(len(xl)):
            if not math.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="best objective (annual Sharpe, search window)")
    return _png(fig)


def objective_figure(study: optuna.Study) -> str:
    """Return each trial's objective and the running best."""
    trials = completed(study)
    numbers = [t.number for t in trials]
    values = [float(t.value or 0.0) for t in trials]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.scatter(numbers, values, s=12, color="#2b6cb0", label="trial")
    ax.plot(numbers, np.maximum.accumulate(values), color="#dd6b20", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("annual Sharpe (search window)")
    ax.legend(fontsize=8)
    return _png(fig)


def write_report(study: optuna.Study, settings: StudySettings, ev: Evaluation) -> str:
    """Return the study's report as one HTML document."""
    card = ev.card
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Seeker study {html.escape(ev.study)}</title><style>{CSS}</style></head><body>",
        f"<h1>Study {html.escape(ev.study)} · {html.escape(ev.strategy)}</h1>",
        f"<div class='sub'>{ev.trials_completed} trials completed ({ev.trials_pruned} refused by "
        f"the config model, {ev.trials_failed} failed, {ev.trials_interrupted} interrupted), "
        f"sampler {settings.sampler} (seed "
        f"{settings.seed}); in sample: {html.escape(', '.join(s.key for s in settings.sources))};"
        f" out of sample: {html.escape(', '.join(s.key for s in settings.test_sources()))}; "
        f"{settings.folds.scheme} walk-forward, {settings.folds.n_folds} folds of "
        f"{settings.folds.oos_length} sessions</div>",
        f"<h2>Grade</h2><div><span class='grade {card.grade}'>{card.grade}</span>"
        f"score {card.score:.3f} (→ {card.score_letter}); out of sample {ev.oos_trades} trades, "
        f"{ev.oos_pnl:+.2f} $, annual Sharpe {ev.oos_sharpe:.2f} "
        f"(in sample {ev.is_sharpe:.2f})</div>",
        *(f"<p class='why'>{html.escape(r)}</p>" for r in card.reasons),
        _table(
            ["criterion", "raw", "score", "weight", "points", "rule", "note"],
            [
                [c.name, c.raw, c.score, c.weight, c.contribution, c.rule, c.note]
                for c in card.criteria
            ],
            {1, 2, 3, 4},
        ),
        "<h2>Candidate</h2>",
        f"<p>Trial #{ev.candidate_trial}, selected by the last fold's in-sample window. The "
        f"search's own best (search window) was trial #{ev.search_best_trial} "
        f"({ev.search_best_value:.3f}).</p>",
        _table(["parameter", "value"], [[k, v] for k, v in ev.candidate_point.items()]),
        "<h2>Walk-forward folds</h2>",
        _table(
            [
                "fold",
                "in sample",
                "out of sample",
                "trial",
                "IS Sharpe",
                "IS P&L $",
                "IS trades",
                "OOS Sharpe",
                "OOS P&L $",
                "OOS trades",
            ],
            [
                [
                    f.index,
                    f"{f.is_first} → {f.is_last}",
                    f"{f.oos_first} → {f.oos_last}",
                    f"#{f.trial}",
                    f.is_sharpe,
                    f.is_pnl,
                    f.is_trades,
                    f.oos_sharpe,
                    f.oos_pnl,
                    f.oos_trades,
                ]
                for f in ev.folds
            ],
            {4, 5, 6, 7, 8, 9},
        ),
        f"<img alt='equity curves per fold' src='{equity_figure(ev)}'>",
    ]
    d = ev.dsr
    parts.append(
        "<h2>Deflated Sharpe Ratio</h2>"
        + _table(
            [
                "DSR",
                "per-session Sharpe",
                "E[max Sharpe]",
                "trials",
                "variance of trials' Sharpe",
                "sessions",
                "skewness",
                "kurtosis",
                "note",
            ],
            [
                [
                    d.dsr,
                    d.sharpe,
                    d.expected_max_sharpe,
                    d.n_trials,
                    d.trials_sharpe_variance,
                    d.n_obs,
                    d.skewness,
                    d.kurtosis,
                    d.note,
                ]
            ],
            {0, 1, 2, 3, 4, 5, 6, 7},
        )
    )
    b = ev.bootstrap
    parts.append("<h2>Bootstrap of the out-of-sample trades</h2>")
    if b is None:
        parts.append(f"<p class='note'>{html.escape(ev.bootstrap_note)}</p>")
    else:
        parts.append(
            _table(
                [
                    "trades",
                    "method",
                    "mean block",
                    "resamples",
                    "P(loss)",
                    "P&L 5 %",
                    "P&L 50 %",
                    "P&L 95 %",
                    "max DD 50 %",
                    "max DD 95 %",
                    "Sharpe/trade 5 %",
                ],
                [
                    [
                        b.n_trades,
                        b.method,
                        b.block_length,
                        b.resamples,
                        b.probability_of_loss,
                        b.total_pnl_p5,
                        b.total_pnl_p50,
                        b.total_pnl_p95,
                        b.max_drawdown_p50,
                        b.max_drawdown_p95,
                        b.sharpe_p5,
                    ]
                ],
                {0, 2, 3, 4, 5, 6, 7, 8, 9, 10},
            )
        )
    st = ev.stability
    parts.append(f"<h2>Stability (±10 % / ±20 %)</h2><p>{html.escape(st.note)}</p>")
    parts.append(
        _table(
            ["parameter", "move", "value", "objective", "kept", "note"],
            [[n.param, n.shift, n.value, n.objective, n.kept, n.note] for n in st.neighbours],
            {3},
        )
    )
    found, note = importances(study)
    parts.append(
        f"<h2>Search</h2><p class='note'>importances: {html.escape(note)}</p><div class='row'>"
    )
    parts.append(f"<div><img alt='objective by trial' src='{objective_figure(study)}'></div>")
    if found:
        parts.append(
            f"<div><img alt='parameter importances' src='{importance_figure(found)}'></div>"
        )
    parts.append("</div>")
    space_names = settings.search_space().names
    names = list(found) or list(space_names)
    if len(names) >= 2:
        parts.append(f"<img alt='heatmap' src='{heatmap_figure(study, names[0], names[1])}'>")
    if ev.regimes:
        parts.append("<h2>Parameters by regime at entry</h2>")
        parts.append(
            _table(
                list(REGIME_COLUMNS),
                [
                    [
                        c.regime,
                        "—" if c.trial is None else f"#{c.trial}",
                        ", ".join(f"{k}={v}" for k, v in (c.point or {}).items()) or "—",
                        c.is_trades,
                        c.is_sharpe,
                        c.is_pnl,
                        c.oos_trades,
                        c.oos_pnl,
                        c.note,
                    ]
                    for c in ev.regimes
                ],
                {3, 4, 5, 6, 7},
            )
        )
    top = sorted(completed(study), key=lambda t: (-(t.value or 0.0), t.number))[:10]
    parts.append("<h2>Best trials (search window)</h2>")
    parts.append(
        _table(
            ["trial", "objective", *space_names],
            [[f"#{t.number}", t.value, *(t.params.get(n) for n in space_names)] for t in top],
            {1},
        )
    )
    for n in ev.notes:
        parts.append(f"<p class='note'>{html.escape(n)}</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
