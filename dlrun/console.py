"""Terminal presentation (rich): the leaderboard table and a progress reporter."""

from __future__ import annotations

import sys

from dlrun.progress import Reporter


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class RichReporter(Reporter):
    def __init__(self, console=None, quiet: bool = False):
        self.console = console or stderr_console()
        self.quiet = quiet
        self._progress = None
        self._task = None

    def message(self, text: str, level: str = "info") -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "dim")
        prefix = "warning: " if level == "warning" else ""
        self.console.print(f"[{style}]{prefix}{text}[/{style}]", markup=True, highlight=False)

    def start(self, title: str, total: int) -> None:
        if self.quiet or not sys.stderr.isatty():
            self.console.print(f"[dim]{title}: {total} jobs[/dim]")
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("left"), TimeRemainingColumn(), console=self.console, transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(title, total=total)

    def advance(self, n: int = 1, description: str | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n, description=description or "fitting")

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _fmt(value, digits=4):
    return "–" if value is None else f"{value:.{digits}f}"


def leaderboard_table(board: dict):
    from rich.table import Table

    arrow = "higher is better" if board["greater_is_better"] else "lower is better"
    proto = board.get("protocol", {})
    title = (f"{board['project']}: {board['metric']} ({arrow}), {proto.get('name', '')} "
             f"{proto.get('folds', '?')}x{proto.get('repeats', '?')}")
    if "folds" not in proto:  # e.g. walk-forward: origins, seeds, test size, horizon
        title = (f"{board['project']}: {board['metric']} ({arrow}), {proto.get('name', '')}: "
                 + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in proto.items()
                             if k not in ("name", "seed")))
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("algorithm")
    table.add_column("view")
    table.add_column("mean", justify="right")
    table.add_column("± std", justify="right")
    table.add_column("fit s/fold", justify="right")
    table.add_column("same as best", justify="center")
    for i, row in enumerate(board["rows"], 1):
        same = "yes" if row.get("same_as_best") else ""
        style = "bold green" if i == 1 else ("green" if same else "")
        # the views fitted once for this row ("views") and those that tied it exactly ("tied_views")
        others = len(_views(row)) - 1
        view = row["view"] + (f" (+{others} equal)" if others > 0 else "")
        table.add_row(str(i), row["algorithm"], view, _fmt(row["mean"]), _fmt(row["std"]),
                      f"{row['fit_seconds']:.2f}", same, style=style)
    return table


def _views(row: dict) -> list[str]:
    out: list[str] = []
    for view in [row["view"], *(row.get("views") or []), *(row.get("tied_views") or [])]:
        if view not in out:
            out.append(view)
    return out


def summary_lines(board: dict) -> list[str]:
    rows = board["rows"]
    lines = []
    if not rows:
        return ["no complete results"]
    best = rows[0]
    lines.append(f"best: {best['algorithm']} / {best['view']} {best['mean']:.4f} ± {best['std']:.4f}")
    base = next((r for r in rows if r["algorithm"] == "baseline"), None)
    if base:
        lines.append(f"naive baseline: {base['mean']:.4f}")
    ref = board.get("reference")
    if ref and ref.get("good") is not None:
        lines.append(f"published ({ref.get('protocol', '')}): naive {ref.get('naive')}, good {ref['good']}")
    equal = [r for r in rows if len(_views(r)) > 1]
    if equal:
        lines.append("(+N equal): the same model on N other views (fitted once, or scoring exactly the "
                     "same on every fold) -- "
                     + "; ".join(f"{r['algorithm']}: {', '.join(_views(r))}" for r in equal[:3])
                     + ("; ..." if len(equal) > 3 else ""))
    raced = board.get("raced") or []
    if raced:
        lines.append(f"raced out (worse than another beyond doubt, p < "
                     f"{board['protocol'].get('racing', {}).get('alpha', 0.01)}): "
                     + "; ".join(f"{r['algorithm']}/{r['view']} after {r['folds']} folds "
                                 f"({r['mean']:.4f})" for r in raced))
    ties = [r for r in rows[1:] if r.get("same_as_best")]
    lines.append(f"{len(ties)} other candidate(s) within noise of the best (corrected resampled t-test, p ≥ 0.05)")
    jobs = board["jobs"]
    lines.append(f"jobs: {jobs['total']} total, {jobs['computed']} computed, {jobs['reused']} reused")
    return lines
