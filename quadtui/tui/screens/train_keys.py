"""The main screen's run controls: its keys (train, pause, step, speed, lr, charts) and the speed ladder.

Kept apart from :mod:`quadtui.tui.screens.train` so that the screen reads as what it does; the
help screen, the footer and the palette list these bindings from the screen's ``key_bindings()``.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from quadtui.core.control import DEFAULT_SPEED, Control

SPEEDS = Control.SPEEDS
BIG_STEP = 100


def next_speed(speed: float | None, delta: int) -> float | None:
    """The speed ``delta`` steps up or down :data:`SPEEDS` from ``speed`` (which may be off the ladder)."""
    if speed in SPEEDS:
        return SPEEDS[max(0, min(len(SPEEDS) - 1, SPEEDS.index(speed) + delta))]
    assert speed is not None
    rates = [rate for rate in SPEEDS if rate is not None]
    if delta > 0:  # e.g. --speed 50, then +: 100
        faster = [*(rate for rate in rates if rate > speed), None]
        return faster[min(delta, len(faster)) - 1]
    if delta < 0:
        slower = [rate for rate in rates if rate < speed]
        return slower[max(0, len(slower) + delta)] if slower else rates[0]
    return speed


CONTROLS: list[BindingType] = [
    Binding(
        "ctrl+t,f5",
        "train",
        "Train",
        id="train",
        tooltip="Train from scratch with the form's values (Enter in a field does the same)",
    ),
    Binding("space,f6", "pause", "Pause", id="pause", tooltip="Pause or resume the run"),
    Binding("s,f7", "step(1)", "Step", id="step", tooltip="Train one epoch, then pause"),
    Binding(
        "S,shift+s,f8",
        f"step({BIG_STEP})",
        f"Step {BIG_STEP}",
        id="step-big",
        tooltip=f"Train {BIG_STEP} epochs, then pause",
        show=False,
    ),
    Binding(
        "ctrl+r",
        "reset",
        "Reset",
        id="reset",
        tooltip="Back to epoch 0 with the form's values, paused (then step or resume)",
    ),
    Binding(
        "left_square_bracket",
        "neuron(-1)",
        "Neuron-",
        id="neuron-prev",
        tooltip="Show the previous hidden neuron",
        show=False,
    ),
    Binding("right_square_bracket", "neuron(1)", "Neuron+", id="neuron-next", tooltip="Show the next hidden neuron"),
    Binding(
        "c",
        "contribution",
        "w·h",
        id="contribution",
        tooltip="Neuron chart: switch between hᵢ(x) and its contribution wᵢ·hᵢ(x) to the output",
    ),
    Binding(
        "l",
        "log_x",
        "Log x",
        id="log-x",
        show=False,
        tooltip="Loss chart: epochs on a log scale (room for the first epochs) or a linear one",
    ),
    Binding("minus", "speed(-1)", "Slower", id="slower", tooltip="Fewer epochs per second", show=False),
    Binding("plus,equals_sign", "speed(1)", "Faster", id="faster", tooltip="More epochs per second", show=False),
    Binding(
        "f",
        "full_speed",
        "Full speed",
        id="full-speed",
        show=False,
        tooltip=f"Train as fast as the computer can, or back to the pace before (default {DEFAULT_SPEED:,}/s)",
    ),
    Binding("less_than_sign", "lr(0.5)", "lr÷2", id="lr-down", tooltip="Halve the learning rate, live", show=False),
    Binding("greater_than_sign", "lr(2)", "lr×2", id="lr-up", tooltip="Double the learning rate, live", show=False),
    Binding(
        "ctrl+l",
        "apply_lr",
        "Apply lr",
        id="lr-apply",
        show=False,
        tooltip="Use the lr field's value in the running run, without a reset",
    ),
    Binding("ctrl+b,f2", "toggle_form", "Form", id="form", tooltip="Hide or show the settings form"),
    Binding(
        "escape", "leave_field", "Leave field", show=False, tooltip="Leave the form so that single-letter keys work"
    ),
    Binding(
        "1", "chart('loss')", "Loss chart", id="chart-loss", show=False, tooltip="Small terminals: show the loss chart"
    ),
    Binding(
        "2", "chart('fit')", "Fit chart", id="chart-fit", show=False, tooltip="Small terminals: show the fit chart"
    ),
    Binding(
        "3",
        "chart('neuron')",
        "Neuron chart",
        id="chart-neuron",
        show=False,
        tooltip="Small terminals: show the neuron chart",
    ),
]
