"""One `stratgate up` per data directory, checked with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli.embedded import StackInfo, clear_stack, stack_file, write_stack
from cli.stack_lock import hold_data_dir
from tests.cli.support import refused, sg
from tests.cli.test_tour import free_ports, port_args

ROOT = Path(__file__).resolve().parents[2]
# Holds the data directory like `up` does, with a stack.json, until its stdin closes.
HOLDER = """
import os, sys
from pathlib import Path
from cli.embedded import StackInfo, clear_stack, write_stack
from cli.stack_lock import StackRunning, hold_data_dir

home = Path(sys.argv[1])
try:
    with hold_data_dir(home) as token:
        if sys.argv[2] == "with-stack":
            write_stack(home, info(os.getpid(), token))
        print("held", flush=True)
        sys.stdin.read()
        print("cleared" if clear_stack(home, token) else "kept", flush=True)
except StackRunning as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
"""
INFO = """
def info(pid, token):
    return StackInfo(
        temporal_address="127.0.0.1:7999",
        temporal_ui_url="http://127.0.0.1:8999",
        api_url="http://127.0.0.1:8998",
        task_queue="q",
        pid=pid,
        token=token,
    )
"""


def holder(home: Path, mode: str = "with-stack") -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", INFO + HOLDER, str(home), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if first != "held":
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"exit {process.returncode}: {err}")
    return process


def attempt(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", INFO + HOLDER, str(home), "with-stack"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def release(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(input="", timeout=30)
    return out.strip()


def test_a_second_holder_is_refused_naming_the_first_and_its_addresses(tmp_path: Path) -> None:
    first = holder(tmp_path)
    try:
        second = attempt(tmp_path)
        assert second.returncode == 3, second.stderr
        assert f"another `stratgate up` (pid {first.pid}) is running on {tmp_path}" in second.stderr
        for address in ("127.0.0.1:7999", "http://127.0.0.1:8999", "http://127.0.0.1:8998"):
            assert address in second.stderr, second.stderr
    finally:
        assert release(first) == "cleared"  # its own stack.json, so it deleted it
    assert not stack_file(tmp_path).exists()
    again = attempt(tmp_path)
    assert again.returncode == 0 and again.stdout.split() == ["held", "cleared"], again.stderr


def test_a_holder_still_starting_is_named_too(tmp_path: Path) -> None:
    first = holder(tmp_path, mode="no-stack")
    try:
        second = attempt(tmp_path)
        assert second.returncode == 3
        assert f"(pid {first.pid}) is starting on {tmp_path}" in second.stderr, second.stderr
    finally:
        release(first)


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    first = holder(tmp_path)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert stack_file(tmp_path).exists()  # left behind, as a crash leaves it
    # The kernel released the lock: the next one starts, and replaces the stale stack.json.
    again = attempt(tmp_path)
    assert again.returncode == 0 and again.stdout.split() == ["held", "cleared"], again.stderr


def test_stack_json_is_deleted_only_by_the_stack_that_wrote_it(tmp_path: Path) -> None:
    info = StackInfo(
        temporal_address="127.0.0.1:1", temporal_ui_url="x", task_queue="q", pid=1, token="mine"
    )
    write_stack(tmp_path, info)
    assert not clear_stack(tmp_path, "someone-else")
    assert stack_file(tmp_path).exists()
    assert clear_stack(tmp_path, "mine")
    assert not stack_file(tmp_path).exists()
    assert not clear_stack(tmp_path, "mine")  # already gone: nothing to do


def test_up_is_refused_before_it_starts_anything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ports = free_ports(3)
    with hold_data_dir(home) as token:
        running = StackInfo(
            temporal_address="127.0.0.1:7999",
            temporal_ui_url="http://127.0.0.1:8999",
            api_url="http://127.0.0.1:8998",
            task_queue="q",
            pid=os.getpid(),
            token=token,
        )
        write_stack(home, running)
        started = time.monotonic()
        up = sg(home, "up", *port_args(ports))
        elapsed = time.monotonic() - started
    refused(up, f"(pid {os.getpid()}) is running on {home}", "127.0.0.1:7999", "8998")
    # Nothing was started: no Temporal database or log, no store; the holder's files only.
    assert sorted(p.name for p in home.iterdir()) == ["stack.json", "stack.lock"]
    assert elapsed < 30, elapsed
