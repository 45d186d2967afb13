"""``quadtui --sweep NAME=VALUES --headless``: train a sweep, print a table or one JSON object."""

from __future__ import annotations

import json
import sys
from typing import Any

from quadtui.core.config import Config, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_sweep_cli(config: Config, spec: str, threads: int = 1, as_json: bool = False) -> int:
    from quadtui.core.sweep_spec import parse_sweep_spec

    try:
        param, values = parse_sweep_spec(spec, config)
    except ConfigError as exc:
        print(f"quadtui: error: --sweep {_short(spec)}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from rich.progress import TextColumn

    from quadtui.core.sweep import Sweep, SweepProgress
    from quadtui.core.threads import set_threads
    from quadtui.terminal import finish_or_stop, interruptible, stderr_progress

    set_threads(threads)
    with interruptible() as cancel:
        sweep = Sweep(config, param, values)
        progress = stderr_progress(
            TextColumn(f"sweep {param} ×{len(values)}"),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("best loss {task.fields[best]}"),
        )
        with progress:
            task = progress.add_task("sweep", total=sum(c.epochs for c in sweep.configs), best="-")

            def show(p: SweepProgress) -> None:
                seen = [v for v in p.losses if v is not None]
                progress.update(task, completed=p.completed, best=f"{min(seen):.6g}" if seen else "-")

            _, result = finish_or_stop(lambda: sweep.run(cancel=cancel, on_progress=show, interval=0.1),
                                       cancel, grace=None)  # a stopped sweep ends with its chunk
    if as_json:
        print(json.dumps({"config": config.to_json(), "sweep": result.to_dict(), "seconds": round(result.seconds, 4)}))
    else:
        print(format_table(result.to_dict(), result.seconds))
    return EXIT_OK if result.all_done else EXIT_FAILED


def format_table(sweep: dict[str, Any], seconds: float) -> str:
    rows = [(sweep["param"], "status", "final loss", "eval loss", "diverged at")]
    for r in sweep["results"]:
        rows.append((str(r["value"]), r["status"], _num(r["final_loss"]), _num(r["eval_loss"]),
                     str(r.get("diverged_at", "-"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"{len(sweep['results'])} runs in {seconds:.2f} s")
    return "\n".join(line.rstrip() for line in lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
