"""`objx-edge info` and the CLI's error handling."""

from __future__ import annotations

from typer.testing import CliRunner

from objectix_edge.cli.app import app


def test_info_prints_versions_and_providers() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    for key in ("python", "torch", "onnxruntime", "CPUExecutionProvider", "opencv", "tensorrt", "cuda devices"):
        assert key in result.output


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"{name} --help has no example"
