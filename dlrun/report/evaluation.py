"""Which evaluation a report stands on, and what makes it less than the spec's full protocol.

:func:`protocol_flags` reads the leaderboard alone: ``quick`` (``evaluate --quick``: fewer
folds and repeats than project.yaml asks), ``partial`` (``--only``: some of the spec's
algorithms were not evaluated), ``raced`` (candidates stopped early by racing: not ranked),
``out_of_time`` (the time limit stopped fits before they started) and ``interrupted``. The
headline shows each as a warning; results.json lists their names under
``summary.protocol_flags`` (what the portfolio index reads). The ``evaluation`` section
names the stored evaluation: its file, when it was made, its protocol, its candidates and
its data.
"""

from __future__ import annotations

from typing import Any

from dlrun.catalogue import ReportSection
from dlrun.report import analysis as A
from dlrun.report.model import Code, Section, Table
from dlrun.report.reference import protocol_text

QUICK, PARTIAL, RACED, OUT_OF_TIME, INTERRUPTED = "quick", "partial", "raced", "out_of_time", "interrupted"


def protocol_flags(board: dict) -> list[dict[str, str]]:
    """``[{"flag", "text"}]``: what makes this leaderboard less than a full evaluation."""
    options = board.get("options") or {}
    protocol = board.get("protocol") or {}
    flags = []
    if options.get("quick"):
        shape = (f" ({protocol['folds']} folds x {protocol['repeats']} repeat"
                 f"{'s' if (protocol.get('repeats') or 0) > 1 else ''})"
                 if protocol.get("folds") and protocol.get("repeats") else "")
        flags.append({"flag": QUICK, "text": (
            f"Quick protocol{shape}: dlrun evaluate --quick scored fewer folds than project.yaml "
            "asks, so the scores are noisier and the tests weaker than a full evaluation's.")})
    only = [str(a) for a in options.get("only") or []]
    if only:
        flags.append({"flag": PARTIAL, "text": (
            f"Partial run: only {', '.join(only)} evaluated (--only); the spec's other algorithms "
            "were not tried, so the best here may not be the best overall.")})
    raced = [r for r in board.get("raced") or [] if isinstance(r, dict)]
    if raced:
        names = ", ".join(f"{r.get('algorithm')}/{r.get('view')}" for r in raced[:6])
        more = f" and {len(raced) - 6} more" if len(raced) > 6 else ""
        alpha = (protocol.get("racing") or {}).get("alpha", 0.01)
        flags.append({"flag": RACED, "text": (
            f"Raced: {len(raced)} candidate{'s' if len(raced) > 1 else ''} ({names}{more}) stopped "
            f"early, worse than another at p < {alpha:g}; they are not ranked.")})
    if board.get("out_of_time"):
        flags.append({"flag": OUT_OF_TIME, "text": (
            "Out of time: the time limit stopped the evaluation before every fit had run; "
            "candidates with an unfinished fold are not ranked (see the notes).")})
    if board.get("interrupted"):
        flags.append({"flag": INTERRUPTED, "text": (
            "Interrupted: the evaluation was stopped before it finished; candidates with an "
            "unfinished fold are not ranked.")})
    return flags


def candidates_text(board: dict) -> str:
    rows = A.ordered_rows(board)
    plain = [r for r in rows if not A.is_ensemble(r) and not A.is_tuned(r)]
    algorithms = sorted({str(r.get("algorithm")) for r in plain})
    parts = [f"{len(plain)} ranked algorithm/view row{'s' if len(plain) != 1 else ''} of "
             f"{len(algorithms)} algorithm{'s' if len(algorithms) != 1 else ''}"]
    for what, count in (("ensemble", sum(1 for r in rows if A.is_ensemble(r))),
                        ("tuned", sum(1 for r in rows if A.is_tuned(r))),
                        ("raced out", len(board.get("raced") or [])),
                        ("failed", len(board.get("failures") or []))):
        if count:
            parts.append(f"{count} {what}")
    return ", ".join(parts)


def evaluation(ctx) -> list[Section]:
    board, used = ctx.leaderboard, ctx.evaluation
    rows: list[tuple[Any, ...]] = []
    if used.get("file"):
        rows.append(("Stored evaluation", Code(str(used["file"]))))
    if board.get("created"):
        rows.append(("Made", str(board["created"])))
    rows.append(("Protocol", protocol_text(board.get("protocol"), getattr(ctx.spec, "evaluation", None))))
    rows.append(("Candidates", candidates_text(board)))
    options = board.get("options") or {}
    chosen = [f"--only {','.join(options['only'])}"] if options.get("only") else []
    if options.get("quick"):
        chosen.insert(0, "--quick")
    if (board.get("protocol") or {}).get("racing"):
        chosen.append("racing")
    rows.append(("Options", " ".join(chosen) or "none (the spec's full protocol)"))
    jobs = board.get("jobs") or {}
    if jobs:
        rows.append(("Fits in that call", ", ".join(f"{jobs[k]} {k}" for k in ("total", "computed", "reused")
                                                  if jobs.get(k) is not None)))
    if board.get("data_fingerprint"):
        rows.append(("Data fingerprint", Code(str(board["data_fingerprint"]))))
    if used.get("checked"):
        rows.append(("Checked against project.yaml", ", ".join(used["checked"])))
    if ctx.flags:  # their sentences head the report (the headline); named here
        rows.append(("Less than the full protocol", ", ".join(f["flag"].replace("_", " ") for f in ctx.flags)))
    blocks: list[Any] = [Table(("", ""), tuple(rows), keys=True)]
    return [Section("evaluation", "Evaluation used", tuple(blocks))]


EVALUATION = ReportSection("evaluation", evaluation, 22)
