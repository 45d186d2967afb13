"""The app under stress: divergence, quitting at any moment, resizing, long runs,
errors inside a run and keys faster than the app can handle them.

Nothing a user types, no size of terminal and no timing of a key may crash the
app or lose a run.  Waits are bounded loops on a condition (``until``), never a
fixed sleep; time bounds are generous (they catch a hang, not a slow machine) —
the real figures are measured in a real terminal, outside the test suite.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import threading
import time

import pytest
from textual.widgets import Input, Static
from textual.worker import NoActiveWorker, get_current_worker

from quadtui.core import engine as engine_module
from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.tui import worker as worker_module
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.train import MIN
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.run_charts import LossChart
from quadtui.tui.widgets.status import loss_text, state_text
from tests.conftest import Notes, finish, notified, screen_of, send_keys, status_text, until

SIZE = (120, 40)
LONG = Config(epochs=10_000_000)
#: a pace at which a long run leaves the process idle between frames (Pilot waits for idle after a key)
CALM = 300


async def started(pilot, app: QuadApp, epochs: int = 1) -> None:
    screen = screen_of(app)
    await until(pilot, lambda: screen.last is not None and screen.last.epoch >= epochs, f"{epochs} epochs")


class Engines(list[Engine]):
    """Every Engine the app builds, in the order they were built, and the worker each was built in.

    A run's engine is built in its worker's thread, and a run cancelled by a newer one may build its
    engine after the newer run has built its own: the last one built need not be the current run's."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: list[object] = []

    def of(self, worker: object) -> Engine | None:
        """The engine ``worker`` (the screen's current one, say) built; None: not built yet."""
        return next((engine for engine, by in zip(self, self.workers) if by is worker), None)


def engines(monkeypatch) -> Engines:
    """Every Engine the app builds from now on (see :class:`Engines`)."""
    made = Engines()
    real_init = Engine.__init__

    def init(self: Engine, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        try:
            worker: object = get_current_worker()
        except NoActiveWorker:
            worker = None
        made.append(self)
        made.workers.append(worker)

    monkeypatch.setattr(Engine, "__init__", init)
    return made


def threads_in_our_code() -> list[str]:
    """Threads (other than this one) whose stack is inside the engine or the app's worker code.

    Not the fork server's reader: it lives as long as the server, waiting for the server's news.
    """
    ours = ("quadtui/core/", "quadtui/tui/worker.py")
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    busy = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident() or names.get(ident) == "quadtui-forkserver":
            continue
        while frame is not None:
            if any(part in frame.f_code.co_filename.replace("\\", "/") for part in ours):
                busy.append(frame.f_code.co_filename)
                break
            frame = frame.f_back
    return busy


def wait_for_no_training_thread(seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while threads_in_our_code():
        assert time.monotonic() < deadline, f"threads still in our code: {threads_in_our_code()}"
        time.sleep(0.002)


# -- 2. divergence -----------------------------------------------------------------------------


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "child process"])
async def test_divergence_keeps_the_last_finite_state_and_a_new_run_starts_at_once(
    monkeypatch, in_process: bool
) -> None:
    monkeypatch.setattr(worker_module, "IN_PROCESS", in_process)
    config = Config(lr=5.0, epochs=2000)
    expected = Engine(config).run()  # the headless engine says when it diverges
    assert expected.status is Status.DIVERGED
    app = QuadApp(config, autorun=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await finish(pilot, app)
        assert screen.last.status is Status.DIVERGED and screen.last.epoch == expected.epoch
        assert status_text(app).startswith(f"diverged after epoch {expected.epoch}: lower the learning rate")
        assert "nan" not in status_text(app).lower()
        for chart in [chart for chart in app.query(Chart) if chart.region.area]:  # the network view is hidden
            assert chart.plain.strip() and "nan" not in chart.plain.lower(), chart.id
        await pilot.press("escape", "n")  # and the network view draws the diverged run's last state too
        network = app.query_one("#network-chart", Chart)
        await until(pilot, lambda: network.up_to_date, "the network view")
        assert network.plain.strip() and "nan" not in network.plain.lower()
        await pilot.press("n")
        box = app.query_one("#lr", Input)
        box.focus()
        box.value = ""
        await pilot.press(*"0.02", "enter")  # a lower learning rate, Enter: trains again at once
        await until(
            pilot, lambda: screen.last.run_id != expected.run_id and screen.last.config.lr == 0.02, "the new run"
        )
        await finish(pilot, app)
        assert screen.last.status is Status.DONE and screen.last.epoch == 2000
        assert status_text(app).startswith("done")


# -- 3. quitting at any moment -----------------------------------------------------------------


async def _quit_and_time(app: QuadApp, pilot) -> float:
    asked = time.monotonic()
    await pilot.press("ctrl+q")
    return asked


@pytest.mark.parametrize(
    "moment",
    ["before torch", "idle", "training", "paused", "mid big step", "finished", "help open", "export question", "sweep"],
)
async def test_quit_is_prompt_at_any_moment_and_leaves_no_training_thread(moment: str) -> None:
    config = Config(epochs=300) if moment == "finished" else LONG
    app = QuadApp(config, autorun=moment not in ("before torch", "idle"), speed=None)  # at full speed: the hardest
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        if moment == "idle":
            await until(pilot, lambda: screen.engine_loaded, "torch to load")
        elif moment == "finished":
            await finish(pilot, app)
        elif moment != "before torch":
            await started(pilot, app)
            if moment in ("paused", "mid big step"):
                screen.control.pause()
                await until(pilot, lambda: screen.last.status is Status.PAUSED, "the pause")
            if moment == "mid big step":
                screen.control.step(5_000_000)  # full speed for many seconds, inside one request
                await until(pilot, lambda: screen.last.epoch > 1000, "the big step to be under way")
            elif moment == "help open":
                await pilot.press("f1")
                await until(pilot, lambda: app.screen is not screen, "the help screen")
            elif moment == "export question":
                await pilot.press("ctrl+f")
                await until(pilot, lambda: app.screen is not screen, "the export dialog")
            elif moment == "sweep":
                screen.sweep_from_spec("hidden=2,4,8")  # three 10,000,000-epoch members
                await until(
                    pilot,
                    lambda: (
                        getattr(app.screen, "running", False)
                        and "training" in str(app.screen.query_one("#sweep-state", Static).render())
                    ),
                    "the sweep to be under way",
                )
        asked = await _quit_and_time(app, pilot)
    took = time.monotonic() - asked
    assert app.return_code in (0, None)
    assert took < 2.0, f"quitting took {took:.2f} s"  # real terminal: see the report (target 0.5 s)
    wait_for_no_training_thread()


@pytest.mark.parametrize("moment", ["training", "paused"])
async def test_quit_stops_a_run_in_a_child_process_too(monkeypatch, moment: str) -> None:
    """The real terminal's path: the run trains in a child process; quitting leaves no run behind."""
    from benchmarks.ptyrun import training_processes

    monkeypatch.setattr(worker_module, "IN_PROCESS", True)
    app = QuadApp(LONG, autorun=True, speed=None)  # at full speed: the hardest moment to quit
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await started(pilot, app)
        if moment == "paused":
            screen.control.pause()
            await until(pilot, lambda: screen.last.status is Status.PAUSED, "the pause")
        asked = await _quit_and_time(app, pilot)
    assert time.monotonic() - asked < 2.0
    deadline = time.monotonic() + 5
    while training_processes() or any(t.name == "quadtui-forward" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the training process or its forwarder outlived the app"
        time.sleep(0.01)
    wait_for_no_training_thread()


# -- 4. resizing while training ----------------------------------------------------------------


async def test_resizing_down_to_tiny_and_back_while_training_keeps_the_run() -> None:
    config = Config(epochs=3000)
    expected = Engine(config).run()
    app = QuadApp(config, autorun=True)
    app.train_screen.speed = 3000  # about a second of training: the resizes happen mid-run
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await started(pilot, app)
        run_id = screen.last.run_id
        for width, height in [
            (20, 6),
            (MIN[0] - 1, MIN[1]),
            (80, 24),
            (MIN[0], MIN[1]),
            (1, 1),
            (200, 60),
            (20, 6),
            SIZE,
        ]:
            before = screen.last.epoch
            await pilot.resize_terminal(width, height)
            await until(pilot, lambda: screen.size == (width, height), f"the {width}×{height} layout")
            small = width < MIN[0] or height < MIN[1]
            assert screen.has_class("-too-small") is small
            if small:
                assert "terminal too small" in str(app.query_one("#too-small", Static).render())
                assert f"{MIN[0]}×{MIN[1]}" in str(app.query_one("#too-small", Static).render())
            if not screen.last.finished:
                await until(pilot, lambda: screen.last.epoch > before or screen.last.finished, "training on")
        await finish(pilot, app)
        assert screen.last.run_id == run_id  # the same run, to its end
        assert screen.last.status is Status.DONE and screen.last.epoch == 3000
        assert screen.last.train_now == expected.train_now
        assert f"train {loss_text(expected.train_now)}" in status_text(app)


# -- 5. long runs ------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _page_size()


def _page_size() -> int:
    import os

    return os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
async def test_a_ten_million_epoch_run_keeps_memory_bounded_keys_responsive_and_quits() -> None:
    app = QuadApp(LONG, autorun=True, speed=None)  # full speed (--speed full): the hardest case for the UI
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await started(pilot, app, 20_000)  # past start-up allocations
        rss0, epoch0, elapsed0 = rss_bytes(), screen.last.epoch, screen.last.elapsed
        await until(pilot, lambda: screen.last.elapsed > elapsed0 + 3, "three seconds of training")
        rss1, epoch1 = rss_bytes(), screen.last.epoch
        per_epoch = (rss1 - rss0) / (epoch1 - epoch0)
        # the loss history takes 4 bytes an epoch as it fills; everything else is constant
        assert rss1 - rss0 < 4 * (epoch1 - epoch0) + 16 * 2**20, f"{per_epoch:.1f} bytes/epoch"

        latencies = []
        for _ in range(5):  # a key is handled promptly while the run trains at full speed
            neuron = screen.neuron
            key = "right_square_bracket" if neuron == 0 else "left_square_bracket"
            asked = time.monotonic()
            send_keys(app, key)
            await until(pilot, lambda: screen.neuron != neuron, "the neuron key")
            latencies.append(time.monotonic() - asked)
        assert max(latencies) < 1.0, f"key latencies {latencies}"  # a real terminal: 11-63 ms
        assert screen.running and screen.last.status is Status.TRAINING
        asked = await _quit_and_time(app, pilot)
    assert time.monotonic() - asked < 2.0
    wait_for_no_training_thread()


# -- 6. errors inside a run --------------------------------------------------------------------


async def test_an_error_mid_run_is_shown_keeps_the_run_on_screen_and_a_new_run_works(monkeypatch, notes: Notes) -> None:
    real_advance, failing = Engine.advance, [True]

    def advance(self: Engine, n: int) -> int:
        if failing[0] and self.epoch >= 120:
            raise FloatingPointError("the kernel fell over")
        return real_advance(self, min(n, 120 - self.epoch) if failing[0] else n)

    monkeypatch.setattr(Engine, "advance", advance)
    app = QuadApp(Config(epochs=400), autorun=True)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.error is not None, "the error")
        failed = screen.last
        assert failed.epoch == 120 and failed.status is Status.ERROR
        assert status_text(app).startswith("error: FloatingPointError: the kernel fell over")
        assert "epoch 120 of 400" in status_text(app)
        await notified(
            pilot, notes, lambda n: "the kernel fell over" in n.message and n.severity == "error", "the note"
        )
        charts = list(app.query(Chart))
        await until(pilot, lambda: all(c.up_to_date for c in charts if c.region.area), "the failed run drawn")
        for chart in charts:
            assert chart.snapshot is failed  # the failed run's state stays on screen
        assert "epoch 120/400" in app.query_one(LossChart).border_title
        failing[0] = False
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last.run_id != failed.run_id, "a new run")
        await finish(pilot, app)
        assert screen.error is None and screen.last.status is Status.DONE and screen.last.epoch == 400
        assert status_text(app).startswith("done")


async def test_a_killed_training_process_is_an_error_and_the_app_stays_usable(monkeypatch, notes: Notes) -> None:
    from benchmarks.ptyrun import training_processes

    monkeypatch.setattr(worker_module, "IN_PROCESS", True)
    app = QuadApp(LONG, autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = screen_of(app)
        await started(pilot, app, 30)
        (child,) = training_processes()
        os.kill(child, signal.SIGKILL)  # as the kernel's OOM killer would
        await until(pilot, lambda: screen.error is not None, "the error")
        failed = screen.last
        assert status_text(app).startswith("error: the training process ended unexpectedly")
        assert failed.epoch >= 30 and f"epoch {failed.epoch} of" in status_text(app)  # its state stays
        await notified(pilot, notes, lambda n: "ended unexpectedly" in n.message, "the note")
        app.query_one("#epochs", Input).value = "300"
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last.run_id != failed.run_id, "a new run")
        await finish(pilot, app)
        assert screen.error is None and screen.last.status is Status.DONE and screen.last.epoch == 300


async def test_a_killed_fork_server_is_an_error_and_the_next_run_starts_a_new_one(monkeypatch) -> None:
    from benchmarks.ptyrun import alive, children, cmdline, training_processes

    monkeypatch.setattr(worker_module, "IN_PROCESS", True)
    app = QuadApp(LONG, autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await started(pilot, app, 30)
        [run] = training_processes()
        [server] = [pid for pid in children().get(os.getpid(), []) if "quadtui.core.forkserver" in cmdline(pid)]
        os.kill(server, signal.SIGKILL)  # as the kernel's OOM killer would
        await until(pilot, lambda: screen.error is not None, "the error")
        assert status_text(app).startswith("error: the training process ended unexpectedly (its fork server is gone)")
        assert not alive(run)  # the run went with its server
        app.query_one("#epochs", Input).value = "300"
        await pilot.press("ctrl+t")  # a new server for the new run
        await finish(pilot, app)
        assert screen.error is None and screen.last.status is Status.DONE and screen.last.epoch == 300


@pytest.mark.parametrize("where", ["building the engine", "taking a snapshot"])
async def test_an_error_before_any_state_exists_is_shown_and_the_app_stays_usable(
    monkeypatch, where: str, notes: Notes
) -> None:
    broken = [True]
    if where == "building the engine":
        real = engine_module.make_dataset

        def fake(config):
            if broken[0]:
                raise MemoryError("no room for the samples")
            return real(config)

        monkeypatch.setattr(engine_module, "make_dataset", fake)
        message = "MemoryError: no room for the samples"
    else:
        real = Engine.snapshot

        def fake(self):
            if broken[0]:
                raise ValueError("cannot draw this")
            return real(self)

        monkeypatch.setattr(Engine, "snapshot", fake)
        message = "ValueError: cannot draw this"
    app = QuadApp(Config(epochs=300), autorun=True)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.error is not None, "the error")
        assert status_text(app).startswith(f"error: {message}")
        await notified(pilot, notes, lambda n: message in n.message, "the note")
        await until(pilot, lambda: not screen.running, "the failed run's worker to end")  # posts, then returns
        broken[0] = False
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        assert screen.error is None and screen.last.status is Status.DONE
        assert status_text(app).startswith("done")


# -- 7. keys faster than the app ---------------------------------------------------------------

MASH = [
    "space",
    "s",
    "S",
    "ctrl+r",
    "ctrl+t",
    "left_square_bracket",
    "right_square_bracket",
    "c",
    "minus",
    "plus",
    "less_than_sign",
    "greater_than_sign",
    "1",
    "2",
    "3",
    "d",
]


async def test_mashing_the_run_keys_leaves_a_consistent_state(monkeypatch) -> None:
    made = engines(monkeypatch)
    rng = random.Random(3)
    app = QuadApp(LONG.replace(hidden=6), autorun=True)
    app.train_screen.speed = 1000
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await started(pilot, app)
        await pilot.press("escape")  # the charts have focus: letters are controls
        for _ in range(20):  # 200 keys in bursts of 10, each burst queued at once
            send_keys(app, *(rng.choice(MASH) for _ in range(10)))
            await asyncio.sleep(0)
            await pilot.pause(0.01 * rng.random())
        await pilot.pause()
        # settle: pause the current run (or let a finished one be) and wait for its last word
        if screen.running:
            screen.control.pause()
            screen.control.set_speed(None)

        # the current worker's engine, looked for anew each time: a run the last keys started builds its engine in
        # its worker's thread, which on a busy machine may not have got that far yet (nor past a cancelled run's)
        def settled() -> bool:
            engine = made.of(screen.worker)
            return (
                engine is not None
                and screen.last is not None
                and screen.last.run_id == engine.run_id
                and (screen.last.status is Status.PAUSED or screen.last.finished)
            )

        await until(pilot, settled, "the run to settle")
        current = made.of(screen.worker)
        assert current is not None
        await until(pilot, lambda: screen.last.epoch == current.epoch, "the engine's epoch on screen")
        assert screen.last.status is current.status  # what the app holds is what the engine did
        assert f"epoch {current.epoch} of {LONG.epochs}" in status_text(app)
        assert status_text(app).startswith(state_text(screen.last))
        if current.finished:  # e.g. the lr key doubled the rate until the run diverged
            assert not screen.running and screen.worker.is_finished
        else:
            assert screen.running and screen.worker.state.name == "RUNNING"
            assert status_text(app).split()[0] == ("ready" if current.epoch == 0 else "paused")
        earlier = [engine for engine in made if engine is not current]  # every earlier run stops (once its thread
        await until(pilot, lambda: all(engine.finished for engine in earlier), "every earlier run to stop")  # runs)
        charts = [chart for chart in app.query(Chart) if chart.region.area]
        await until(pilot, lambda: all(chart.up_to_date for chart in charts), "the charts to be drawn")
        for chart in app.query(Chart):  # no chart holds or shows a snapshot of an old run
            assert chart.snapshot is None or chart.snapshot.run_id == current.run_id, chart.id
        assert 0 <= screen.neuron < 6 and screen.neuron_chart.neuron == screen.neuron
        # and the app still answers: a fresh paused run steps by exactly one epoch
        await pilot.press("ctrl+r", "s")
        await until(
            pilot,
            lambda: (
                (engine := made.of(screen.worker)) is not None
                and screen.last.run_id == engine.run_id
                and screen.last.epoch == 1
            ),
            "one step",
        )
