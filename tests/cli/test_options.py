"""Every numeric option of every command, generated from the parser: each is a checked number
(never a bare int or float), and each refuses what a user could mistype (NaN, infinities, a
number too large for a float, a word, and a zero or negative rate or size) with one line that
names the option and exit 2, before any work."""

from __future__ import annotations

import argparse

import pytest

from vlanet.cli import build_parser, main


def numeric_options(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield from numeric_options(sub, (*prefix, name))
        elif a.option_strings and (a.type in (int, float) or hasattr(a.type, "bound")):
            yield prefix, a


OPTIONS = list(numeric_options(build_parser()))


def bad_values(action: argparse.Action) -> list[str]:
    values = ["nan", "inf", "-inf", "1e400", "twelve"]
    low, strict = action.type.bound
    if low is not None:
        values.append(f"{low:g}" if strict else f"{low - 1:g}")
    return values


def test_every_numeric_option_is_a_checked_number():
    raw = [" ".join((*path, a.option_strings[0])) for path, a in OPTIONS if not hasattr(a.type, "bound")]
    assert raw == [], f"use cli.common.number for these options: {raw}"
    assert len(OPTIONS) >= 30  # the walk reaches every subcommand


@pytest.mark.parametrize("path,action", OPTIONS, ids=[" ".join((*p, a.option_strings[0])) for p, a in OPTIONS])
def test_a_mistyped_number_is_one_line_exit_2(path, action, capsys):
    option = action.option_strings[0]
    for value in bad_values(action):
        with pytest.raises(SystemExit) as e:
            main([*path, f"{option}={value}"])  # the = form: argparse takes "-inf" as an option otherwise
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2, (option, value, err)
        assert "\n" not in err and "Traceback" not in err and option in err and repr(value) in err, err
