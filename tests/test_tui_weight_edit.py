"""Pilot tests of a weight by hand: `e` in the network view, the dialog, the run going on from the edit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from quadtui.core.config import Config
from quadtui.core.data import make_dataset
from quadtui.core.hand_edit import unit_parameters
from quadtui.core.snapshot import Status
from quadtui.tui import worker
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.code import CodeScreen
from quadtui.tui.screens.weight_edit import WeightEditScreen, listed
from quadtui.tui.widgets.network import NetworkChart
from tests.conftest import CALM, Notes, finish, notified, until

LONG = Config(epochs=10_000_000)


async def paused_in_network_view(pilot, app: QuadApp) -> None:
    """Train a little, pause, and show the network view (the chart area focused: letter keys work)."""
    screen = app.train_screen
    await until(pilot, lambda: screen.last is not None and screen.last.epoch > 20, "some epochs")
    await pilot.press("space")
    await until(pilot, lambda: screen.last.status is Status.PAUSED, "the pause")
    await pilot.press("n")
    await until(pilot, lambda: screen.network_shown, "the network view")


async def open_dialog(pilot, app: QuadApp) -> WeightEditScreen:
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, WeightEditScreen), "the dialog")
    dialog = app.screen
    assert isinstance(dialog, WeightEditScreen)
    await until(pilot, lambda: dialog.query("#weight-0") and dialog.focused is dialog.inputs[0], "its first field")
    return dialog


def loss_with(config: Config, weights: tuple[np.ndarray, ...]) -> np.float32:
    """The full-batch training loss of the script's model holding ``weights``."""
    from quadtui.core.model import build_model

    model = build_model(config)
    data = make_dataset(config)
    with torch.no_grad():
        for param, value in zip(model.parameters(), weights):
            param.copy_(torch.from_numpy(value))
        return F.mse_loss(model(data.x_train), data.y_train).numpy()


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "child-process"])
async def test_a_hand_edit_changes_the_weight_shown_and_the_run_goes_on_from_it(
    in_child, monkeypatch, notes: Notes
) -> None:
    monkeypatch.setattr(worker, "IN_PROCESS", in_child)  # the child: the edit travels as an "edit" message
    app = QuadApp(LONG, autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        screen = app.train_screen
        await paused_in_network_view(pilot, app)
        net = app.query_one(NetworkChart)
        await pilot.press("down", "down")  # layer 1, neuron 2
        paused = screen.last
        dialog = await open_dialog(pilot, app)
        assert [box.value for box in dialog.inputs] == [
            str(paused.weights[0][2, 0]),
            str(paused.weights[1][2]),
            str(paused.weights[2][0, 2]),
        ]
        assert "layer 1 · neuron 2 · epoch" in str(dialog.query_one("#weight-dialog").border_title)
        await pilot.press("0", ".", "5", "enter")  # the field's text is selected: typing replaces it
        await until(pilot, lambda: screen.last.weight_edits, "the edit to reach the run")
        edited = screen.last
        assert not isinstance(app.screen, WeightEditScreen)
        assert edited.status is Status.PAUSED and edited.epoch == paused.epoch  # applied to the paused run
        assert edited.weights[0][2, 0] == np.float32(0.5) and edited.weights[1][2] == paused.weights[1][2]
        (edit,) = edited.weight_edits
        assert (edit.epoch, edit.parameter, edit.old, edit.new) == (
            paused.epoch,
            "0.weight[2, 0]",
            float(paused.weights[0][2, 0]),
            0.5,
        )
        await until(pilot, lambda: net.up_to_date and net.snapshot is edited, "the network view redrawn")
        assert "w +0.5 " in net.plain.splitlines()[-1]  # the selected unit's weight, as shown
        await notified(
            pilot, notes, lambda n: n.title == "Set by hand" and "weight from x = 0.5" in n.message, "the notification"
        )
        await pilot.press("s")  # one more epoch: trained from the edited network
        await until(pilot, lambda: screen.last.epoch == paused.epoch + 1, "one step")
        assert screen.last.train_loss[-1] == loss_with(LONG, edited.weights)
        await pilot.press("ctrl+g")  # the code for this run replays the edit
        await until(pilot, lambda: isinstance(app.screen, CodeScreen), "the code")
        assert f'({paused.epoch}, "0.weight", (2, 0), 0.5),  # was {str(paused.weights[0][2, 0])}' in app.screen.script


async def test_a_bad_value_is_refused_in_one_line_and_escape_sets_nothing() -> None:
    app = QuadApp(Config(epochs=10_000_000, hidden=4, layers=2), autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.train_screen
        await paused_in_network_view(pilot, app)
        dialog = await open_dialog(pilot, app)  # layer 2, unit 0: 4 incoming weights, a bias, the output weight
        assert len(dialog.inputs) == 6
        await pilot.press("down", "down", "d", "enter")
        error = dialog.query_one("#weight-error")
        await until(pilot, lambda: error.region.area, "the message")
        assert str(error.render()) == "weight from l1_h2 = 'd' is not allowed: a number from -1000 to 1000"
        assert dialog.focused is dialog.inputs[2] and dialog.inputs[2].has_class("-invalid")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, WeightEditScreen), "the dialog closed")
        epoch = screen.last.epoch
        await pilot.press("s")
        await until(pilot, lambda: screen.last.epoch == epoch + 1, "one step")
        assert screen.last.weight_edits == ()


async def test_a_training_run_pauses_for_the_dialog_and_trains_on_after_it() -> None:
    app = QuadApp(LONG, autorun=True, view="network")
    app.train_screen.speed = CALM
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 20, "some epochs")
        await open_dialog(pilot, app)
        assert screen.control.paused and screen.last.status is Status.PAUSED
        held = screen.last.epoch
        await pilot.press("enter")  # nothing changed: no edit
        await until(
            pilot, lambda: screen.last.epoch > held + 5 and screen.last.status is Status.TRAINING, "training again"
        )
        assert screen.last.weight_edits == ()


async def test_the_key_is_offered_in_the_network_view_only_and_a_finished_run_is_refused(notes: Notes) -> None:
    app = QuadApp(Config(epochs=50, hidden=3), autorun=True)
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        screen = app.train_screen
        await finish(pilot, app)

        def offered() -> tuple[bool, bool]:
            footer = any(
                b.binding.action == "network_edit"
                for b in screen.active_bindings.values()
                if b.binding.show and screen.check_action("network_edit", ())
            )
            palette = any("by hand" in c.title for c in app.get_system_commands(app.screen))
            return footer, palette

        assert offered() == (False, False)
        await pilot.press("escape", "e")  # not the network view: the key does nothing
        await pilot.press("n")
        await until(pilot, lambda: screen.network_shown, "the network view")
        assert offered() == (True, True)
        await pilot.press("e")
        note = await notified(pilot, notes, lambda n: "has finished" in n.message, "the refusal")
        assert "\n" not in note.message and not isinstance(app.screen, WeightEditScreen)


def test_a_wide_units_dialog_lists_its_largest_weights_of_each_group() -> None:
    params = unit_parameters([(40, 1), (40,), (40, 40), (40,), (1, 40), (1,)], 2, 3)
    values = [float(v) for v in np.random.default_rng(1).normal(size=len(params))]
    kept, notes = listed(params, values)
    incoming = [i for i in kept if params[i].label.startswith("weight from")]
    assert len(incoming) == 16 and incoming == sorted(incoming)
    assert min(abs(values[i]) for i in incoming) >= max(abs(values[i]) for i in range(40) if i not in incoming)
    assert [params[i].label for i in kept[16:]] == ["bias", "weight to ŷ"]
    assert notes == ["The 16 largest of its 40 incoming weights are listed."]
    assert listed(params[:10], values[:10]) == (list(range(10)), [])


async def test_a_wide_deep_units_dialog_fits_80x24_and_its_fields_scroll() -> None:
    app = QuadApp(Config(epochs=10_000_000, hidden=40, layers=2), autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(80, 24)) as pilot:
        await paused_in_network_view(pilot, app)
        await pilot.press("left")  # layer 1, unit 0: its weight from x, its bias, 16 of its 40 outgoing weights
        dialog = await open_dialog(pilot, app)
        assert len(dialog.inputs) == 18 and dialog.notes == ["The 16 largest of its 40 outgoing weights are listed."]
        keys, box = dialog.query_one("#weight-keys").region, dialog.query_one("#weight-dialog").region
        assert keys.area and box.y >= 0 and box.bottom <= 24 and keys.bottom <= box.bottom
        await pilot.press("up")  # to the last field, scrolled into view
        last = dialog.inputs[-1]
        await until(
            pilot,
            lambda: (
                dialog.focused is last
                and last.region.area
                and dialog.query_one("#weight-rows").region.contains_region(last.region)
            ),
            "the last field shown",
        )
