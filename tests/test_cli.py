"""The CLI: options, clean errors, the closing summary."""

from __future__ import annotations

import json

import pyogrio
from click.testing import CliRunner

from spatial.cli import main
from tests.helpers import HEADER

GOOD = "A1,甲铸造厂,foundry,榆次区,permitted,yes,112.75,37.69"


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["screen", "--help"])
    assert result.exit_code == 0
    for option in [
        "--enterprises",
        "--crs",
        "--builtup",
        "--heat-sources",
        "--zones",
        "--policy",
        "--as-of",
        "--engine",
        "--scheduler",
        "--out",
    ]:
        assert option in result.output
    assert "gcj02" in result.output and "企业名称" in result.output


def test_screen_writes_gpkg_and_summary(csv_file, builtup_file, tmp_path):
    plants = csv_file([HEADER, GOOD, "A2,乙,foundry,榆次区,permitted,yes,abc,37.69"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["screen", "--enterprises", str(plants), "--builtup", str(builtup_file), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "读取 2 行 rows read, 1 行通过 accepted, 1 行未通过 rejected" in result.output
    assert "未通过 rejected — 不是有效数字 / not a number: 1" in result.output
    assert "not_a_number" not in result.output  # no raw reason code
    layers = dict(pyogrio.list_layers(out / "screening.gpkg"))
    assert layers["enterprises"] == "Point" and layers["rejected"] is None
    enterprises = pyogrio.read_dataframe(out / "screening.gpkg", layer="enterprises")
    assert enterprises["id"].tolist() == ["A1"] and enterprises["name"].tolist() == ["甲铸造厂"]
    rejected = pyogrio.read_dataframe(out / "screening.gpkg", layer="rejected")
    assert rejected["row"].tolist() == [3] and rejected["reason_code"].tolist() == ["not_a_number"]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["engine"] == "local"
    assert record["inputs"]["enterprises"]["path"] == str(plants)
    counts = record["counts"]
    assert (counts["rows_read"], counts["accepted"], counts["rejected"]) == (2, 1, 1)
    assert counts["rejected_by_reason"] == {"not_a_number": 1}
    assert record["outputs"]["screening"] == "screening.gpkg"
    assert f"screening: {out / 'screening.gpkg'}" in result.output  # the summary says where


def test_user_error_is_a_clean_exit_without_traceback(csv_file, builtup_file, tmp_path):
    plants = csv_file(["id,name", "A1,甲"])
    result = CliRunner().invoke(
        main,
        [
            "screen",
            "--enterprises",
            str(plants),
            "--builtup",
            str(builtup_file),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "no coordinate columns" in result.output and str(plants) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "screening.gpkg").exists()


def test_bad_crs_option_is_a_clean_exit(csv_file, builtup_file, tmp_path):
    plants = csv_file([HEADER, GOOD])
    result = CliRunner().invoke(
        main,
        [
            "screen",
            "--enterprises",
            str(plants),
            "--builtup",
            str(builtup_file),
            "--crs",
            "foo",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "foo" in result.output and "Traceback" not in result.output


def test_missing_input_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "screen",
            "--enterprises",
            str(tmp_path / "none.csv"),
            "--builtup",
            "x",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "does not exist" in result.output


def test_screen_on_a_terminal_draws_bars_and_finishes(csv_file, builtup_file, tmp_path):
    # the bars are drawn only on a terminal, which CliRunner and CI are not: a stage's
    # set_total reached tqdm, which has none, and `spatial screen` stopped on a terminal
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    from pathlib import Path

    plants = csv_file([HEADER, GOOD, "A2,乙,foundry,榆次区,permitted,yes,112.70,37.69"])
    out = tmp_path / "out"
    primary, secondary = pty.openpty()
    # a terminal of 100 columns (a new pseudo-terminal has 0, and the bars would be empty)
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    spatial = Path(sys.executable).with_name("spatial")
    command = [str(spatial), "screen", "--enterprises", str(plants)]
    command += ["--builtup", str(builtup_file), "--out", str(out)]
    done = subprocess.run(command, stdin=secondary, stdout=secondary, stderr=secondary, timeout=600)
    os.close(secondary)
    text = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: everything was read
            break
        if not chunk:
            break
        text += chunk
    os.close(primary)
    output = text.decode("utf-8", "replace")
    assert done.returncode == 0, output[-2000:]
    assert "Traceback" not in output
    assert "reading enterprises" in output and "2/2" in output  # a bar with its count
    assert (out / "run.json").exists()
