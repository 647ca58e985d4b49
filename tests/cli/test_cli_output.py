"""What the commands print is copied from the terminal: paths come out whole, on one line, as written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from objectix_edge.cli.app import app


def test_paths_print_whole_on_one_line_with_their_brackets(tmp_path: Path) -> None:
    """A path longer than the terminal's 80 columns, with brackets in it, prints unbroken and literal."""
    out = tmp_path / ("long-folder-name-" * 6) / "[run 1]"
    result = CliRunner().invoke(app, ["data", "synth", str(out), "--images", "2", "--size", "64x64"])
    assert result.exit_code == 0, result.output
    line = f"wrote 2 images to {out / 'images'} and annotations {out / 'annotations' / 'instances.json'}"
    assert len(line) > 80 and line in result.output.splitlines()
