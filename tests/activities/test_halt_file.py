"""The halt file as the gate's callers read it: only "no such file" means not halted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from activities.halt_file import look_at, read_kill_switch

ROOT = Path(__file__).resolve().parents[2]


def test_absent_means_running_and_present_means_halted(tmp_path: Path) -> None:
    halt = tmp_path / "HALT"
    assert not read_kill_switch({"EXECUTION_HALT_FILE": str(halt)}).engaged
    assert not read_kill_switch({}).engaged
    halt.write_text("")
    engaged = read_kill_switch({"EXECUTION_HALT_FILE": str(halt)})
    assert engaged.engaged and engaged.reason == f"halt file {halt} is present: nothing executes"
    assert read_kill_switch({"EXECUTION_HALTED": "0", "EXECUTION_HALT_FILE": str(halt)}).engaged
    assert read_kill_switch({"EXECUTION_HALTED": "1"}).engaged


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("{tmp}", "is a directory"),
        ("{tmp}/" + "x" * 5000, "File name too long"),
        ("{tmp}/a-file/HALT", "Not a directory"),
        ("{tmp}/nul\0byte", "embedded null byte"),
    ],
)
def test_any_error_looking_at_the_halt_file_halts_naming_it(
    tmp_path: Path, path: str, error: str
) -> None:
    (tmp_path / "a-file").write_text("")
    path = path.format(tmp=tmp_path)
    found = look_at(path)
    assert found.error == error and not found.present
    if "\0" not in path:  # an environment cannot hold a NUL byte
        engaged = read_kill_switch({"EXECUTION_HALT_FILE": path})
        assert engaged.engaged and engaged.reason is not None and f"({error})" in engaged.reason


def test_a_halt_file_behind_a_directory_we_may_not_enter_halts(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "HALT").write_text("")
    locked.chmod(0o000)
    # Root passes every permission check, so the look is made as nobody (euid only, in a child
    # process: the interpreter is already loaded when it drops the right).
    probe = (
        "import os, sys\n"
        "from activities.halt_file import read_kill_switch\n"
        "if os.geteuid() == 0:\n"
        "    os.seteuid(65534)\n"
        "print(read_kill_switch({'EXECUTION_HALT_FILE': sys.argv[1]}).model_dump_json())\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe, str(locked / "HALT")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        locked.chmod(0o700)
    assert result.returncode == 0, result.stderr
    assert '"engaged":true' in result.stdout and "(Permission denied)" in result.stdout
    assert os.stat(locked / "HALT")  # it is there: only looking at it failed
