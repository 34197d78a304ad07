import os
import subprocess
import sys

import pytest
from PIL import Image

from stylecore.cli import main

from .synthetic import REPO, draw_photo

SUBCOMMANDS = ["backbone", "presets", "stylize", "train", "release", "train-arbitrary", "release-arbitrary", "export"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "stylecore", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_it_shows_help_for_every_command():
    result = _run("--help")
    assert result.returncode == 0
    assert all(name in result.stdout for name in SUBCOMMANDS)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_it_shows_help_for_each_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"stylecore {command}" in capsys.readouterr().out


def test_it_stylizes_a_photo_from_the_command_line(tiny_weights, tmp_path):
    draw_photo((45, 37), seed=5).save(tmp_path / "photo.png")
    result = _run("stylize", str(tmp_path / "photo.png"), str(tmp_path / "out.png"), "--preset", "starry_night",
                  "--weights", str(tiny_weights), "--threads", "1")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (45, 37)


def test_it_exits_with_a_readable_message_for_an_unknown_preset(tiny_weights, tmp_path):
    draw_photo((45, 37), seed=5).save(tmp_path / "photo.png")
    result = _run("stylize", str(tmp_path / "photo.png"), str(tmp_path / "out.png"), "--preset", "mona_lisa",
                  "--weights", str(tiny_weights), "--threads", "1")
    assert result.returncode == 1
    assert "error: unknown preset 'mona_lisa'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()
