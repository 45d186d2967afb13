"""How much memory and time a run or a sweep will take, known from its config before anything is built.

On a shared machine one command must not take everyone's memory: the command
line and the app estimate a run's (or a whole sweep's) peak memory here and
refuse it over a budget — by default a quarter of the machine's memory, at most
4 GiB; ``--max-memory`` or ``$QUADTUI_MAX_MEMORY`` change it — before torch is
even imported.  The estimate follows what the engine allocates (float32 unless
said otherwise):

* a single run (``engine`` + ``fastmlp``): the samples; for each step size, a
  workspace of four (samples × hidden) buffers a layer (two for the identity);
  the full-data loss check after each chunk of epochs, which keeps every layer's
  pre-activation and activation at once; the parameters with their gradient,
  optimizer state, rollback copy and snapshot copies; 4 bytes a loss;
* a sweep (``sweep``): its groups train one after another, so the peak is the
  largest group plus everything kept from all members (data, losses).  One-layer
  members that can share a batch train as a ``WideMLP`` (its workspace is three to
  four (samples × members × width) buffers, plus 2 × 256 epochs of errors of every
  member); deeper full-batch members as a ``BatchedMLP`` (every layer's
  activations for all members at once, 2 × layers + 3 buffers); the others alone.

Measured against the peak RSS growth of real runs it is within about ±30 % for
runs over ~50 MB (README, Performance); below that the interpreter's own noise
dominates and nothing is refused anyway.  No torch here, no textual.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quadtui.core.config import Config

F32 = 4
MEMORY_ENV = "QUADTUI_MAX_MEMORY"
DEFAULT_SHARE = 0.25  # of the machine's memory
DEFAULT_CAP = 4 << 30
#: floating-point operations a second a run can count on: conservative, 2 to 4 times below one thread of
#: a busy 2-core server (16-37 GFLOP/s measured in its matrix products under load)
FLOPS_PER_SECOND = 8e9
#: seconds an epoch costs beyond its arithmetic: Python and ~10 kernel calls a layer, for each step
#: (a mini-batch step does more in Python than a full-batch epoch); about twice what was measured under load
EPOCH_SECONDS, EPOCH_LAYER_SECONDS = 40e-6, 20e-6
STEP_SECONDS, STEP_LAYER_SECONDS = 150e-6, 60e-6
SLOW_EPOCH_SECONDS = 60.0

# the engine's constants (kept in step with the modules named; tests/test_budget.py checks them)
BLOCK_EPOCHS = 256  # sweep.wide.BLOCK_EPOCHS
CHUNK_SECONDS = 0.03  # sweep.CHUNK_SECONDS
FAST_FLOPS_PER_SECOND = 30e9  # a fast core: the most epochs a chunk can hold
ROWWISE_MAX = 8192  # fastmlp.ROWWISE_MAX
EXACT_ACTIVATIONS = frozenset({"relu", "leaky_relu", "identity"})  # sweep.batched.EXACT_ACTIVATIONS
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 3, "rmsprop": 2}  # tensors per parameter (optim.py)

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
SIZE_ALLOWED = "a size such as 512M or 2G (K, M, G, T: powers of 1024)"


@dataclass(frozen=True)
class Estimate:
    """What a run (or a sweep: ``runs`` > 1) needs: peak bytes beyond the program itself, seconds an epoch."""

    bytes: int
    seconds_per_epoch: float
    epochs: int
    runs: int = 1

    @property
    def what(self) -> str:
        return "this run" if self.runs == 1 else f"this sweep of {self.runs} runs"


# -- sizes ----------------------------------------------------------------------------------------------
def parse_size(text: str) -> int:
    """``"512M"`` -> 536870912.  K, M, G, T are powers of 1024; a plain number is bytes.  ValueError if not a size."""
    match = _SIZE.fullmatch(str(text))
    if match is None:
        raise ValueError(SIZE_ALLOWED)
    size = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not 1 <= size < 1 << 60:
        raise ValueError(SIZE_ALLOWED)
    return int(size)


def format_size(size: float) -> str:
    """Bytes as the flag takes them: ``2.4G``, ``512M``, ``40K``."""
    for unit, scale in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return f"{size:.0f} bytes"


def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit when lower."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 1 << 60:
            sizes.append(int(text))
    return min(sizes) if sizes else None


def default_budget() -> int:
    """A quarter of the machine's memory, at most 4 GiB."""
    total = machine_memory()
    return DEFAULT_CAP if total is None else min(int(total * DEFAULT_SHARE), DEFAULT_CAP)


def memory_budget(flag_value: str | None = None, environ: Mapping[str, str] | None = None) -> tuple[int, str]:
    """(bytes, where it came from): ``--max-memory``, else ``$QUADTUI_MAX_MEMORY``, else the default.

    ValueError names the flag or variable and what is allowed.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    for source, raw in (("--max-memory", flag_value), (MEMORY_ENV, env.get(MEMORY_ENV))):
        if raw is None or (source == MEMORY_ENV and not raw.strip()):
            continue
        try:
            return parse_size(raw), source
        except ValueError:
            raise ValueError(f"{source} {_typed(raw)}: not allowed; must be {SIZE_ALLOWED}") from None
    return default_budget(), "default"


def _typed(raw: str) -> str:
    return raw if raw and raw.isprintable() and " " not in raw and len(raw) <= 40 else repr(raw[:40])


# -- one run ---------------------------------------------------------------------------------------------
def parameters(config: Config) -> int:
    """Weights and biases of the network: 1 -> hidden (-> hidden)... -> 1."""
    h = config.hidden
    return 3 * h + 1 + (config.layers - 1) * (h * h + h)


def step_sizes(config: Config) -> list[int]:
    """The sample counts of a run's steps (sweep.layout.step_sizes)."""
    if config.full_batch or config.batch_size is None:
        return [config.samples]
    return sorted({config.batch_size, config.samples % config.batch_size or config.batch_size})


def _padded(n: int) -> int:
    return -(-n // 16) * 16


def _data_bytes(config: Config) -> int:
    return 24 * config.samples  # x, y as float64 and as float32 columns


def _history_bytes(config: Config) -> int:
    return F32 * config.epochs + 2 * 8 * 1000 + 2 * F32 * 4096  # losses, eval losses, the chart's block summary


def run_bytes(config: Config) -> int:
    """Peak bytes one training run (``Engine``) allocates, its data and losses included."""
    n, h, layers = config.samples, config.hidden, config.layers
    buffers = 2 if config.activation == "identity" else 4  # z, h, grad_h, grad_z (h is z for the identity)
    workspace = 0
    for rows in step_sizes(config):
        block_rows = min(256, max(1, (1 << 20) // (F32 * _padded(rows))))
        workspace += F32 * (3 * rows + buffers * layers * rows * h + block_rows * _padded(rows))
    kept = 1 if config.activation == "identity" else 2  # the full-data loss check keeps (z, h) of every layer
    loss_check = F32 * (kept * layers * n * h + 3 * n)
    params = F32 * parameters(config) * (6 + 2 * OPTIMIZER_STATE[config.optimizer])
    return _data_bytes(config) + workspace + loss_check + params + _history_bytes(config)


def flops_per_epoch(config: Config) -> float:
    """Arithmetic of one epoch: forward, backward and the loss check (a second forward), plus elementwise work."""
    h, layers = config.hidden, config.layers
    matmul = 2 * (2 * h + (layers - 1) * h * h)  # per sample, one forward
    elementwise = 12 * layers * h
    return config.samples * (4 * matmul + elementwise) + 12 * parameters(config) * _steps(config)


def _steps(config: Config) -> int:
    return 1 if config.full_batch or config.batch_size is None else math.ceil(config.samples / config.batch_size)


def seconds_per_epoch(config: Config) -> float:
    """A conservative guess: one thread of a busy machine."""
    if _steps(config) == 1:
        overhead = EPOCH_SECONDS + EPOCH_LAYER_SECONDS * config.layers
    else:
        overhead = _steps(config) * (STEP_SECONDS + STEP_LAYER_SECONDS * config.layers)
    return flops_per_epoch(config) / FLOPS_PER_SECOND + overhead


# -- sweeps ----------------------------------------------------------------------------------------------
def wide_key(config: Config) -> tuple[object, ...] | None:
    """sweep.layout.wide_key, where torch's vector width is not known: smooth activations count as batched
    (the larger estimate)."""
    if config.layers != 1 or any(rows % 4 for rows in step_sizes(config)):
        return None
    if config.full_batch:
        return ("wide", config.activation, config.optimizer, config.samples)
    if config.samples > ROWWISE_MAX:
        return None
    return ("wide", config.activation, config.optimizer, config.samples, config.batch_size, config.seed)


def group_key(config: Config) -> tuple[object, ...] | None:
    """sweep.batched.group_key."""
    if not config.full_batch or config.activation not in EXACT_ACTIVATIONS or config.samples % 4:
        return None
    return (config.layers, config.activation, config.optimizer, config.samples)


def sweep_groups(configs: Sequence[Config]) -> list[list[int]]:
    """Which members train together (sweep._groups)."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for k, c in enumerate(configs):
        groups.setdefault(wide_key(c) or group_key(c) or ("alone", k), []).append(k)
    return list(groups.values())


def _distinct_data(configs: Iterable[Config]) -> int:
    return len({(c.seed, c.samples, c.x_min, c.x_max, c.target, c.noise, c.view) for c in configs})


def wide_bytes(configs: Sequence[Config]) -> int:
    """A WideMLP of these members: errors of up to 256 epochs, the step's buffers, its build-time probe."""
    k, n, first = len(configs), configs[0].samples, configs[0]
    width = max(c.hidden for c in configs) + 4  # storage_width: the widest member, a few columns more at most
    squared = 1 if n > ROWWISE_MAX else 2
    block = F32 * _block_rows([c.replace(hidden=width) for c in configs]) * k * n * squared
    buffers = 3 if first.activation in ("relu", "identity") else 4  # z (and h), q, gz
    steps = sum(F32 * rows * k * (buffers * width + 3) for rows in step_sizes(first))
    shared = _distinct_data(configs) == 1
    data = F32 * 2 * n * (1 if shared else k)
    # the probe: one single-run net for each width (each member, when their data differ)
    nets = {c.hidden for c in configs} if shared else [c.hidden for c in configs]
    probe = F32 * n * (k + sum(6 * h for h in nets))
    params = F32 * (3 * k * width + k) * (6 + 2 * OPTIMIZER_STATE[first.optimizer]) + 16 * (3 * k * width + k)
    return block + steps + data + probe + params


def _block_rows(configs: Sequence[Config]) -> int:
    """Rows of the WideMLP's error block that get written: as many epochs as one chunk of training holds.

    The sweep trains in chunks of ~30 ms (at least 16 epochs at first), so a fast machine
    (assumed here: the larger estimate) writes more rows than a slow one.
    """
    fast = sum(flops_per_epoch(c) for c in configs) / FAST_FLOPS_PER_SECOND
    reach = BLOCK_EPOCHS if fast <= 0 else max(16, math.ceil(2 * CHUNK_SECONDS / fast))
    return min(BLOCK_EPOCHS, max(c.epochs for c in configs), reach)


def batched_bytes(configs: Sequence[Config]) -> int:
    """A BatchedMLP of these members: every layer's activations for all of them, and the backward's temporaries."""
    k, n, first = len(configs), configs[0].samples, configs[0]
    width, layers = max(c.hidden for c in configs), first.layers
    per_layer = 1 if first.activation == "identity" else 2
    # the step holds every layer's (z, h) and three temporaries; the build-time probe of the exact ops and the
    # allocator's leftovers from it, 10 to 13 (measured)
    activations = F32 * max(per_layer * layers + 3, 12) * k * n * (width + 1)
    data = F32 * 2 * n * (k if _distinct_data(configs) > 1 else 1)
    weights = k * (3 * width + 1 + (layers - 1) * (width * width + width))
    params = F32 * weights * (5 + 2 * OPTIMIZER_STATE[first.optimizer])
    return activations + data + params


def group_bytes(configs: Sequence[Config]) -> int:
    if len(configs) == 1:
        return run_bytes(configs[0]) + _data_bytes(configs[0])  # the engine draws its own data again
    if wide_key(configs[0]) is not None:
        # members the batch cannot compute exactly (the build-time probe finds them) train alone meanwhile
        return wide_bytes(configs) + max(map(run_bytes, configs))
    return batched_bytes(configs)


def sweep_bytes(configs: Sequence[Config]) -> int:
    """Peak bytes of a sweep: its largest group, plus the data and losses kept for every member."""
    kept = sum(_history_bytes(c) for c in configs)
    data = sum(_data_bytes(c) for c in configs) if _distinct_data(configs) > 1 else _data_bytes(configs[0])
    peak = max(group_bytes([configs[k] for k in group]) for group in sweep_groups(configs))
    return kept + data + peak


# -- what the command line and the app ask -----------------------------------------------------------------
def estimate(config: Config, sweep: tuple[str, Sequence[Any]] | None = None) -> Estimate:
    """The run of ``config``, or the sweep ``(field, values)`` over it."""
    if sweep is None:
        return Estimate(run_bytes(config), seconds_per_epoch(config), config.epochs)
    param, values = sweep
    configs = [config.replace(**{param: v}) for v in values]
    return Estimate(
        sweep_bytes(configs), sum(map(seconds_per_epoch, configs)), max(c.epochs for c in configs), runs=len(configs)
    )


def over_budget(need: Estimate, budget: int) -> str | None:
    """The one-line refusal when ``need`` is over ``budget`` bytes, else None."""
    if need.bytes <= budget:
        return None
    return (
        f"{need.what} needs about {format_size(need.bytes)} of memory, over the budget of "
        f"{format_size(budget)} (fewer samples, hidden units, layers or sweep values need less; "
        f"--max-memory or ${MEMORY_ENV} sets the budget)"
    )


def held_here(need: Estimate, threads: int) -> int:
    """A request that skipped the app's checks (a class's torch server's stranger's), held to this
    process's limits: over its memory budget, ValueError (the one-line refusal); the threads it may
    use (at most the machine's cores)."""
    refusal = over_budget(need, memory_budget()[0])
    if refusal is not None:
        raise ValueError(refusal)
    return min(max(1, threads), os.cpu_count() or 1)


def slow_warning(need: Estimate) -> str | None:
    """One line when an epoch may take more than a minute, else None."""
    if need.seconds_per_epoch <= SLOW_EPOCH_SECONDS:
        return None
    total = need.seconds_per_epoch * need.epochs
    return (
        f"{need.what} may take about {format_duration(need.seconds_per_epoch)} an epoch "
        f"({format_duration(total)} for {need.epochs} epochs)"
    )


def format_duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{seconds:.0f} s"


def verdict(config: Config, sweep: tuple[str, Sequence[Any]] | None, budget: int) -> tuple[str | None, str | None]:
    """(refusal, slow warning) for the run of ``config`` or the sweep over it: each one line, or None."""
    need = estimate(config, sweep)
    return over_budget(need, budget), slow_warning(need)


def app_budget(given: int | None = None) -> int:
    """The budget the app enforces: the one the command line resolved, else the variable's, else the default."""
    if given is not None:
        return given
    try:
        return memory_budget()[0]
    except ValueError:  # a bad $QUADTUI_MAX_MEMORY: the command line refuses it; here, the default
        return default_budget()
