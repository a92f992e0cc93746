"""The CLI as a whole: every command documented, entry points work."""
from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from xfsheets.cli import main


def _commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help_text():
    commands = list(_commands(main))
    assert len(commands) >= 1
    for path, cmd in commands:
        assert cmd.help and cmd.help.strip(), f"command {' '.join(path)} has no help text"
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.help, f"option {param.opts} of {' '.join(path)} has no help text"


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "xfsheets", "--help"], capture_output=True, text=True, check=True)
    assert "xfsheets" in out.stdout and "inspect" in out.stdout


def test_unknown_option_is_exit_2():
    assert CliRunner().invoke(main, ["inspect", "--no-such-option"]).exit_code == 2


def test_public_api_names_resolve():
    import xfsheets

    for name in xfsheets.__all__:
        assert getattr(xfsheets, name) is not None, name
    assert callable(xfsheets.check) and callable(xfsheets.compute_deadlines) and callable(xfsheets.consolidate)
