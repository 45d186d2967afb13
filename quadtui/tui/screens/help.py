"""F1: every control and what each chart shows, in plain words.

The key lists are made from the screens' own bindings when help opens, so they
cannot drift from the keys that work; the prose names its numbers from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from quadtui.charts.run_store import MAX_OVERLAYS, MAX_RUNS

CHARTS = """\
## What you are looking at

A small neural network is learning the function in the **target** field (y = x² unless you
change it). Each *epoch* it looks at all the training samples, measures how wrong it is, and
nudges its weights a little — how big a nudge is the **learning rate** (lr).

**Loss chart.** How wrong the network is, epoch by epoch: the mean squared error on the training
samples (*train*) and on a fine grid of x values it never trained on (*eval*). The y axis is
logarithmic: every grid line down means ten times better. A curve that flattens means learning has
slowed; a curve that shoots up means the learning rate is too high. Press **l** to put the epochs on
a log scale too: the first hundred epochs, where the loss falls fastest, then take half the width.

**Fit chart.** The network's prediction (the solid line, drawn on top), the target function (the
thin grey line) and the training samples (dim dots). Watch the prediction bend towards the samples
as the loss falls.

Each chart's title, in its top border, carries the live numbers (`loss · epoch 5,000 · 0.0632`); the
legend is in its bottom border.

**Neuron chart.** One hidden neuron, *i* of *N*: its output hᵢ(x) for every x. The network's
prediction is a weighted sum of these curves plus a bias, so press **c** to see this neuron's
share of the prediction, wᵢ·hᵢ(x), instead. Step through the neurons with **[** and **]**.

**Network view.** Press **n** (or choose tab 4) to see the whole network: every hidden unit of every
layer as a small tile of its output over the view, on its own scale (↑ its largest value) — blue when
the weight carrying it onward is positive, red when negative, grey and *dead* when it is zero on every
training sample. The dotted amber mark is where its input crosses zero: the kink of a ReLU. Between
the layers, the weights as a grid of cells (colour: sign, brightness: size). The arrow keys choose a
unit (the bottom line describes it), PgUp/PgDn page through a wide layer, and **Enter** opens the
unit big in the neuron chart, whatever its layer; there **c** shows what it adds to the output (for
an earlier layer: the prediction minus the prediction with the unit switched off). **e** sets the
selected unit's weights and bias by hand: type new values, Enter, and the run goes on from them (a
training run pauses while you type; an export's train.py replays the change).

**Time travel.** The run keeps checkpoints of its weights. Press **,** and **.** to see the network one
checkpoint earlier or later, **Home** for epoch 0, **End** to come back to now, and **p** to replay the
whole run. The fit, neuron and network charts then show the network as it was; the loss chart marks
that epoch, and a bar under the charts shows where you are. A running run keeps training meanwhile.

## The form

Each field is one setting of the next run (the same as the command-line flags). A value that is
not allowed is marked and explained under its field, and training will not start until it is
fixed. Press **Enter** in any field, or **ctrl+t**, to train with the form's values. You can change
the learning rate *while* a run trains: edit the lr field and press **ctrl+l**, or press **<** / **>**
to halve or double it.

Single-letter keys (space, s, c, [, ]…) type into a field while you are in one: press **Escape**
to leave the form, or use the ctrl/F-key of the same control.

## Taking a run with you

- **ctrl+g** shows the PyTorch script that trains the form's settings — the same run, number for
  number: it prints the same final loss. Press **ctrl+s** there to save it (quadtui_run.py).
- **ctrl+s** shows the `quadtui ...` command line that repeats the run, and saves the settings as
  a TOML file; **ctrl+o** loads such a file into the form. **y** copies the command or the script
  in terminals that let programs set the clipboard (most do, over SSH too; else select it with the
  mouse).
- **ctrl+f** exports the run on screen to a folder: its settings, its losses and fit as CSV, the
  trained weights (model.pt), its checkpoints (timeline.pt), the script and a screenshot of the app.
- **w** widens the view to twice the sample range, so that the next run shows how the network
  guesses outside the samples it learned from (press it again to go back).
- In a lesson, **ctrl+n** folds the lesson's text away or back. Fields the lesson locks are greyed
  out; the ones it does not need are not shown.

## Comparing runs

Every run that ends — done, diverged, or stopped by a new run — is kept for this session (the
last {max_runs}). Press **r** (or **ctrl+y**) for the runs table: each run is named by the settings it had
that differ from the run on screen (`lr=0.05, hidden=16`), or `run 3` if none do, with its final
and eval loss and how long it took. Up to {max_overlays} earlier runs are drawn dashed on the loss and fit
charts, so you can see which setting learned faster or fit better: in the table, **space** chooses
which (◆ marks them), and **o** hides or shows them all. **Enter** on a row puts that run's settings
back in the form, ready to train again or to change one thing.

## Sweeps

A sweep trains one run per value of a single setting and puts them side by side. Press **v**,
pick the setting, type its values — a list such as `1,2,4,8,16`, or `START:STOP:COUNT` such as
`0.001:0.1:5` (spaced evenly on a log scale when both ends are positive) — and press **Enter**.
The other settings come from the form. Each run gives exactly the loss it would give on its own.
The sweep screen shows the final loss for each value, the best run's fit (solid) with the others
dashed, and a table. **Esc** stops a sweep early (what finished is kept); **a** adds its runs to
the runs table; **Enter** on a row goes back with that run's settings in the form.
"""


def keys_list(bindings: Sequence[Binding], display: Callable[[str], str]) -> str:
    """One line per control: its keys, then what it does (a list: key names never wrap mid-name)."""
    rows = []
    for binding in bindings:
        keys = " / ".join(f"`{display(k)}`" for k in binding.key.split(",") if not k.startswith("shift+"))
        rows.append(f"- {keys} — {binding.tooltip or binding.description}")
    return "\n".join(rows)


def keys_text(sections: Sequence[tuple[str, Sequence[Binding]]], display: Callable[[str], str]) -> str:
    """``## Keys``, with a list for each screen: ``sections`` are (heading, that screen's bindings)."""
    return "## Keys\n\n" + "\n\n".join(f"**{title}**\n\n{keys_list(bindings, display)}" for title, bindings in sections)


def key_label(app: App[object], key: str) -> str:
    """``key`` as the app displays it, with its modifiers spelled out as the help's prose writes them.

    ``ctrl+t``, not the footer's ``^t``: the text around the list says ctrl+t.
    """
    modifiers, base = Binding(key, "").parse_key()
    return "+".join([*modifiers, app.get_key_display(Binding(base, ""))])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help", priority=True)]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; border-title-color: $text; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: Sequence[tuple[str, Sequence[Binding]]], shown: Callable[[str], str] = str) -> None:
        super().__init__()
        self.sections = sections
        self.shown = shown  # in a browser: the text names the keys a browser lets through

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "quadtui help  (Esc or F1 closes)"
            about = CHARTS.format(max_runs=MAX_RUNS, max_overlays=MAX_OVERLAYS)
            yield Markdown(self.shown(about) + "\n" + keys_text(self.sections, lambda key: key_label(self.app, key)))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # the arrow keys and PageUp/PageDown scroll it
