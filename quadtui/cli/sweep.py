"""``quadtui --sweep NAME=VALUES --headless``: train a sweep, print a table or one JSON object."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from quadtui.core.config import Config, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_sweep_cli(config: Config, spec: str, threads: int = 1, as_json: bool = False) -> int:
    from quadtui.core.sweep.spec import parse_sweep_spec

    try:
        param, values = parse_sweep_spec(spec, config)
    except ConfigError as exc:
        print(f"quadtui: error: --sweep {_short(spec)}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from quadtui.core.sweep.runner import Sweep

    result = _train(
        lambda: Sweep(config, param, values),
        lambda sweep, **kw: sweep.run(**kw),
        f"sweep {param} ×{len(values)}",
        threads,
        best_column=True,
    )
    return _report(config, result, as_json, lambda: format_table(result.to_dict(), result.seconds))


def format_table(sweep: dict[str, Any], seconds: float) -> str:
    rows = [(sweep["param"], "status", "final loss", "eval loss", "diverged at")]
    for r in sweep["results"]:
        rows.append(
            (str(r["value"]), r["status"], _num(r["final_loss"]), _num(r["eval_loss"]), str(r.get("diverged_at", "-")))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"{len(sweep['results'])} runs in {seconds:.2f} s")
    return "\n".join(line.rstrip() for line in lines)


def _train(build: Callable[[], Any], run: Callable[..., Any], label: str, threads: int, *, best_column: bool) -> Any:
    """Build a sweep and train it with ``run`` (in a thread at the lowest priority; ctrl+c stops it
    within a chunk), a progress bar on stderr meanwhile; its result."""
    from rich.progress import TextColumn

    from quadtui.cli.terminal import finish_or_stop, interruptible, stderr_progress
    from quadtui.core.threads import set_threads

    set_threads(threads)
    with interruptible() as cancel:
        sweep = build()
        columns = [TextColumn(label), TextColumn("{task.percentage:>3.0f}%")]
        if best_column:
            columns.append(TextColumn("best loss {task.fields[best]}"))
        progress = stderr_progress(*columns)
        with progress:
            task = progress.add_task("sweep", total=sum(c.epochs for c in sweep.configs), best="-")

            def show(p: Any) -> None:
                seen = [v for v in p.losses if v is not None]
                progress.update(task, completed=p.completed, best=f"{min(seen):.6g}" if seen else "-")

            _, result = finish_or_stop(
                lambda: run(sweep, cancel=cancel, on_progress=show, interval=0.1), cancel, grace=None
            )  # a stopped sweep ends with its chunk
    return result


def _report(config: Config, result: Any, as_json: bool, table: Callable[[], str]) -> int:
    """Print the sweep's JSON or its table; the exit code (1 when any run did not finish)."""
    if as_json:
        print(json.dumps({"config": config.to_json(), "sweep": result.to_dict(), "seconds": round(result.seconds, 4)}))
    else:
        print(table())
    return EXIT_OK if result.all_done else EXIT_FAILED


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def run_grid_cli(config: Config, specs: list[str], threads: int = 1, as_json: bool = False) -> int:
    """``--sweep A=… --sweep B=… --headless``: one run per pair; a grid of final losses, or one JSON object."""
    from quadtui.core.sweep.grid import parse_grid_specs

    try:
        params, values = parse_grid_specs(specs, config)
    except ConfigError as exc:
        print(f"quadtui: error: --sweep {_short(' '.join(specs))}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from quadtui.core.sweep.runner import GridSweep

    result = _train(
        lambda: GridSweep(config, params, values),
        lambda sweep, **kw: sweep.run_grid(**kw),
        f"sweep {params[0]} ×{len(values[0])} · {params[1]} ×{len(values[1])}",
        threads,
        best_column=False,
    )
    return _report(
        config, result, as_json, lambda: format_grid(result.to_dict(), [len(v) for v in values], result.seconds)
    )


def format_grid(sweep: dict[str, Any], shape: list[int], seconds: float) -> str:
    """Final losses as a grid: the first setting down, the second across; ``div@N`` where a run diverged."""
    rows_param, cols_param = sweep["params"]
    results = sweep["results"]
    rows, cols = shape

    def text(r: dict[str, Any]) -> str:
        if r["status"] == "diverged":
            return f"div@{r.get('diverged_at', '?')}"
        return _num(r["final_loss"]) + ("" if r["status"] == "done" else " (stopped)")

    def shown(name: str, value: Any) -> str:
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    corner = f"{rows_param} \\ {cols_param}"
    table = [[corner] + [shown(cols_param, results[j]["values"][1]) for j in range(cols)]]
    for i in range(rows):
        cells = results[i * cols : (i + 1) * cols]
        table.append([shown(rows_param, cells[0]["values"][0])] + [text(r) for r in cells])
    widths = [max(len(row[k]) for row in table) for k in range(cols + 1)]
    lines = [
        "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(row, widths)))
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    finite = [r for r in results if r["final_loss"] is not None and r["status"] == "done"]
    if finite:
        best = min(finite, key=lambda r: r["final_loss"])
        lines.append(
            f"best: {rows_param}={shown(rows_param, best['values'][0])}, "
            f"{cols_param}={shown(cols_param, best['values'][1])} (final loss {_num(best['final_loss'])}, "
            f"eval loss {_num(best['eval_loss'])})"
        )
    lines.append(f"final loss of {len(results)} runs ({rows} × {cols}) in {seconds:.2f} s")
    return "\n".join(line.rstrip() for line in lines)
