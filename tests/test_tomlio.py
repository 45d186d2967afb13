"""Share a config: TOML files and the command line that reproduces a run."""

from __future__ import annotations

import shlex
import tomllib

import pytest

from quadtui.cli import build_parser, parse_config
from quadtui.core.config import DEFAULT, FIELDS, Config
from quadtui.core.files import FileWriteError
from quadtui.core.tomlio import (
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
        ('target = "__import__(\'os\')"\n', ["target"]),
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
