"""Lessons: load, check, and apply; shipped lessons are valid and found by name."""

from __future__ import annotations

import pytest

from quadtui.core.config import FIELDS, Config
from quadtui.core.lesson import (
    MAX_EXPLANATION,
    MAX_LESSON_BYTES,
    MAX_TITLE,
    LessonError,
    find_lesson,
    lesson_from_mapping,
    load_lesson,
    shipped_lessons,
)

GOOD = '''
title = "  Try it  "
explanation = """
Line one.   
Line two.
"""
lock = ["lr", "epochs", "lr"]
hide = ["momentum"]

[config]
hidden = "3"
lr = 0.05
'''  # noqa: W291  (the trailing spaces are part of the test)


def write(tmp_path, text, name="lesson.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_lesson_file_loads_and_applies(tmp_path):
    lesson = load_lesson(write(tmp_path, GOOD))
    assert lesson.name == "lesson" and lesson.title == "Try it"
    assert lesson.explanation == "Line one.\nLine two."
    assert lesson.preset == {"hidden": 3, "lr": 0.05}
    assert lesson.lock == ("lr", "epochs") and lesson.hide == ("momentum",)
    assert lesson.config == Config(hidden=3, lr=0.05)
    assert lesson.apply(Config(epochs=7, lr=0.5)) == Config(epochs=7, hidden=3, lr=0.05)
    assert lesson.editable("hidden") and not lesson.editable("lr") and not lesson.editable("momentum")


def test_shipped_lessons_are_valid_and_found_by_name():
    shipped = shipped_lessons()
    assert {"how-many-neurons", "too-high-learning-rate"} <= set(shipped)
    for name in shipped:
        lesson = load_lesson(name)
        assert lesson.name == name and lesson.title and len(lesson.explanation) > 100
        assert set(lesson.lock) | set(lesson.hide) < set(FIELDS)
        assert find_lesson(name + ".toml") == find_lesson(name)
    neurons = load_lesson("how-many-neurons")
    assert neurons.editable("hidden") and not neurons.editable("lr") and neurons.config.hidden == 1
    rate = load_lesson("too-high-learning-rate")
    assert rate.editable("lr") and not rate.editable("hidden")


def test_too_high_learning_rate_lesson_tells_the_truth():
    """The lesson says 0.02 trains and 0.05 diverges within a few epochs: check it."""
    from quadtui.core.engine import Engine, Status

    lesson = load_lesson("too-high-learning-rate")
    assert "0.05" in lesson.explanation and "diverged" in lesson.explanation
    assert Engine(lesson.config.replace(epochs=200)).run().status is Status.DONE
    high = Engine(lesson.config.replace(lr=0.05)).run()
    assert high.status is Status.DIVERGED and high.diverged_at < 50


def test_a_file_path_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, GOOD, name="how-many-neurons")
    assert load_lesson("how-many-neurons").title == "Try it"


@pytest.mark.parametrize(
    "text,needles",
    [
        ('title = "x"\nexplanation = """\nunclosed\n', ["line 3", "not valid TOML", "end of the file"]),
        ('title = "x"\nlock = [lr]\n', ["line 2"]),
        ('title = "x"\ngoal = "y"\n', ["unknown key 'goal'", "title, explanation, config, lock, hide"]),
        ('explanation = "no title"\n', ["title must be a non-empty string"]),
        ('title = "x"\nexplanation = 3\n', ["explanation must be a string"]),
        ('title = "x"\nconfig = 3\n', ["config must be a table"]),
        ('title = "x"\n[config]\nlr = 50\n', ["[config]", "lr = 50", "<= 10"]),
        ('title = "x"\n[config]\nlrr = 5\n', ["[config]", "unknown key 'lrr'"]),
        ('title = "x"\nlock = ["learning_rate"]\n', ["lock names unknown field 'learning_rate'"]),
        ('title = "x"\nhide = "lr"\n', ["hide must be a list of field names"]),
    ],
)
def test_bad_lessons_give_one_line_naming_the_problem(tmp_path, text, needles):
    path = write(tmp_path, text)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for needle in needles:
        assert needle in message


def test_an_unknown_lesson_lists_the_shipped_ones(tmp_path):
    with pytest.raises(LessonError) as info:
        load_lesson(tmp_path / "nope")
    assert "how-many-neurons" in str(info.value) and "\n" not in str(info.value)


# -- a lesson is a shared file: its text cannot reach the terminal as anything but text ------------
HOSTILE_TEXT = {
    "ESC": "\x1b",
    "CSI clear screen": "\x1b[2J\x1b[H",
    "CSI bare C1": "\x9b2J",
    "OSC 52 clipboard": "\x1b]52;c;ZWNobyBvd25lZA==\x07",
    "OSC title, ST end": "\x1b]0;owned\x1b\\",
    "OSC in C1": "\x9d0;owned\x9c",
    "alternate screen": "\x1b[?1049l",
    "C0": "\x00\x01\x07\x08\x0b\x0c\r",
    "DEL": "\x7f",
    "C1": "".join(chr(c) for c in range(0x80, 0xA0)),
    "bidi overrides": "\u202a\u202b\u202c\u202d\u202e",
    "bidi isolates": "\u2066\u2067\u2068\u2069",
    "marks": "\u200e\u200f\u061c",
}
ALLOWED_CONTROL = {"\n", "\t"}


def no_control(text: str) -> bool:
    import unicodedata

    return all(c in ALLOWED_CONTROL or unicodedata.category(c) not in ("Cc", "Cf") for c in text)


@pytest.mark.parametrize("bad", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_title_and_explanation_lose_every_control_character(tmp_path, bad):
    data = {"title": f"Fit{bad} a line", "explanation": f"First{bad} line.\n\tSecond line{bad}."}
    for lesson in (lesson_from_mapping(data, name="x"), load_lesson(write(tmp_path, _toml(data)))):
        assert no_control(lesson.title) and "\n" not in lesson.title and "\t" not in lesson.title
        assert no_control(lesson.explanation)
        assert lesson.title.startswith("Fit") and lesson.title.endswith("a line")
        assert lesson.explanation.startswith("First") and "\n\tSecond line" in lesson.explanation


def test_line_separators_become_newlines_and_plain_text_is_kept():
    data = {"title": "Ünïcode ≠ ASCII 🙂", "explanation": "a\u2028b\u2029c\x85d"}
    lesson = lesson_from_mapping(data, name="x")
    assert lesson.title == "Ünïcode ≠ ASCII 🙂" and lesson.explanation == "a\nb\nc\nd"


def test_a_title_of_only_control_characters_is_no_title():
    with pytest.raises(LessonError, match="title must be a non-empty string"):
        lesson_from_mapping({"title": "\x1b\u202e\x9b"}, name="x")


def test_the_lesson_name_from_a_hostile_file_name_is_clean(tmp_path):
    lesson = load_lesson(write(tmp_path, 'title = "t"\n', name="a\x1b]0;x\x07b.toml"))
    assert no_control(lesson.name) and lesson.name.startswith("a") and lesson.name.endswith("b")


@pytest.mark.parametrize(
    "text,needle",
    [
        ('title = "' + "t" * (MAX_TITLE + 1) + '"\n', f"title is longer than {MAX_TITLE}"),
        ('title = "t"\nexplanation = "' + "e" * (MAX_EXPLANATION + 1) + '"\n', "explanation is longer than"),
        ('title = "t"\n' + "# padding\n" * (MAX_LESSON_BYTES // 10), "larger than 64 KB"),
    ],
    ids=["title", "explanation", "file"],
)
def test_a_lesson_has_a_size_limit(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_lesson_that_is_no_regular_file_is_refused_at_once(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for ref in (fifo, tmp_path, "/dev/zero"):
        with pytest.raises(LessonError, match="not a regular file"):
            load_lesson(ref)


def _toml(data: dict) -> str:
    import tomli_w

    return tomli_w.dumps(data)
