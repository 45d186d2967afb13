"""Lessons: load, check, and apply; shipped lessons are valid and found by name."""

from __future__ import annotations

import pytest

from quadtui.core.config import FIELDS, Config
from quadtui.core.lesson import LessonError, find_lesson, load_lesson, shipped_lessons

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
'''


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
