"""Share a config: TOML files and the command line that reproduces a run."""

from __future__ import annotations

import os
import shlex
import threading
import time

import pytest
import tomllib

from quadtui.cli import build_parser, parse_config
from quadtui.core.config import DEFAULT, FIELDS, Config
from quadtui.core.files import FileWriteError
from quadtui.core.tomlio import (
    MAX_FILE_BYTES,
    ConfigFileError,
    command_line,
    config_to_toml,
    load_config_file,
    save_config_file,
)

VARIED = [
    Config(),
    Config(lr=0.1, hidden=16, activation="tanh", optimizer="adam"),
    Config(batch_size=10, samples=50, noise=0.25, seed=2**40, weight_decay=1e-4),
    Config(target="sin(x)*x", x_min=-3, x_max=2.5, view_min=-6, view_max=6),
    Config(target="-x**2 + 1", momentum=0.5, optimizer="momentum", layers=3, epochs=123_456),
]


@pytest.mark.parametrize("config", VARIED)
def test_toml_round_trip(config, tmp_path):
    text = config_to_toml(config)
    data = tomllib.loads(text)
    assert set(data) == {k for k, v in config.to_dict().items() if v is not None}
    path = save_config_file(config, tmp_path / "run.toml")
    assert load_config_file(path) == config


@pytest.mark.parametrize("config", VARIED)
def test_command_line_reproduces_the_config(config):
    words = shlex.split(command_line(config))
    assert words[0] == "quadtui"
    args = build_parser().parse_args(words[1:])
    assert parse_config(args) == config
    given = {w.split("=")[0] for w in words[1:] if w.startswith("--")}
    assert given == {"--" + k.replace("_", "-") for k in config.diff(DEFAULT)}


def test_command_line_of_the_defaults_is_bare():
    assert command_line(Config()) == "quadtui"
    assert command_line(Config(x_min=-3.0, lr=0.05)) == "quadtui --lr 0.05 --x-min=-3"


def test_file_values_apply_over_base_and_missing_fields_keep_it(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('lr = 0.05\nbatch_size = "full"\nactivation = "Leaky-ReLU"\n')
    base = Config(hidden=3, batch_size=10)
    loaded = load_config_file(path, base=base)
    assert loaded == base.replace(lr=0.05, batch_size=None, activation="leaky_relu")


@pytest.mark.parametrize(
    "text,needles",
    [
        ("lr = 0.05\nhidden = \nepochs = 3\n", ["line 2", "not valid TOML"]),
        ("lr = 0.05\n[oops\n", ["line 2"]),
        ("lrr = 0.05\n", ["unknown key 'lrr'", "did you mean lr?"]),
        ("lr = -1\n", ["lr = -1", "> 0"]),
        ('activation = "swish"\n', ["activation", "relu, tanh"]),
        ("hidden = true\n", ["hidden"]),
        ("[lr]\nx = 1\n", ["lr must be a single value"]),
        ("x_min = 3\nx_max = 2\n", ["x_max", "greater than x_min"]),
        ("target = \"__import__('os')\"\n", ["target"]),
    ],
)
def test_bad_files_give_one_line_naming_the_problem(tmp_path, text, needles):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for needle in needles:
        assert needle in message


def test_error_names_the_field_for_a_form_to_point_at(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("hidden = 1000\n")
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    assert info.value.field == "hidden"


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config_file(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigFileError, match="UTF-8"):
        load_config_file(tmp_path / "bin.toml")


def test_saving_never_overwrites_unasked(tmp_path):
    path = save_config_file(Config(), tmp_path / "c.toml")
    with pytest.raises(FileWriteError):
        save_config_file(Config(lr=0.5), path)
    assert load_config_file(path) == Config()
    save_config_file(Config(lr=0.5), path, overwrite=True)
    assert load_config_file(path).lr == 0.5


def test_every_field_is_written():
    data = tomllib.loads(config_to_toml(Config(view_min=-1, view_max=1, batch_size=5)))
    assert list(data) == list(FIELDS)


# -- reading safely: regular files only, at most 1 MB, every failure one line -----------------------
@pytest.fixture
def fifo(tmp_path):
    """A named pipe with no writer: reading it would wait forever.

    If a reader does block on it anyway, a writer shows up after 10 s so the test fails instead of hanging."""
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)

    def unblock() -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader waiting: nothing to unblock
            pass

    timer = threading.Timer(10, unblock)
    timer.start()
    yield path
    timer.cancel()


def _one_line_refusal(path, *needles) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    message = str(info.value)
    assert time.monotonic() - started < 5, "refused at once, never read"
    assert "\n" not in message and len(message) < 300
    for needle in needles:
        assert needle in message, message


def test_a_fifo_is_refused_without_waiting_for_a_writer(fifo):
    _one_line_refusal(fifo, str(fifo), "not a regular file", "named pipe")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused_never_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    _one_line_refusal(device, device, "not a regular file", "device")


def test_a_folder_is_refused(tmp_path):
    _one_line_refusal(tmp_path, "not a regular file", "folder")


def test_files_over_1_mb_are_refused_and_1_mb_is_read(tmp_path):
    padding = "# " + "x" * 99 + "\n"  # 102 bytes a line
    body = "lr = 0.5\n"
    fits = tmp_path / "fits.toml"
    fits.write_text(body + padding * ((MAX_FILE_BYTES - len(body)) // len(padding)))
    assert fits.stat().st_size <= MAX_FILE_BYTES == 1_000_000
    assert load_config_file(fits).lr == 0.5
    big = tmp_path / "big.toml"
    big.write_text(body + padding * (MAX_FILE_BYTES // len(padding) + 1))
    _one_line_refusal(big, str(big), "larger than 1 MB")


DEEP = 100_000


@pytest.mark.parametrize(
    "text",
    [
        "lr = " + "[" * DEEP + "]" * DEEP,  # the crash: RecursionError in the parser
        "zz = " + "{a=" * DEEP + "1" + "}" * DEEP,
        "lr = " + "[" * 900 + "]" * 900,  # deep, yet parsed: refused as a value
        "zz = " + "[" * 900 + "]" * 900,  # parsed: an unknown key whose value is shown
    ],
    ids=["arrays 100000 deep", "tables 100000 deep", "arrays 900 deep", "unknown key 900 deep"],
)
def test_deep_nesting_is_one_line(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text + "\n")
    _one_line_refusal(path, str(path))


@pytest.mark.parametrize("data", [b"lr = 0.5\n\xff\n", b"lr = 0.5 # caf\xc3\x28\n", b'lr = "\xed\xa0\x80"\n'])
def test_bad_utf8_is_one_line_naming_the_offset(tmp_path, data):
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    _one_line_refusal(path, str(path), "not a text (UTF-8) file", "offset")


def test_a_path_with_control_characters_is_shown_escaped(tmp_path):
    path = tmp_path / "a\x1b]0;owned\x07.toml"
    path.write_text("lr = 5000\n")
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value) and str(info.value).isprintable()
