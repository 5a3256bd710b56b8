"""Helpers shared by the test-server provisioning scripts (kafka_broker.py, postgres_server.py).

Stdlib only: these scripts run before any virtualenv exists. Progress and errors go to stderr, so the
scripts' stdout stays machine-readable (only their `VAR=value` line).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn


class Logger:
    """Progress and error messages on stderr, each line tagged with the script's prefix, e.g. "[kafka]"."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def log(self, msg: str) -> None:
        """Progress message for humans: stderr, so stdout stays machine-readable."""
        print(f"[{self.prefix}] {msg}", file=sys.stderr, flush=True)

    def die(self, msg: str) -> NoReturn:
        """Print an error to stderr and exit non-zero."""
        self.log(f"ERROR: {msg}")
        sys.exit(1)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock (creating its directory) so parallel start/stop calls do not race each other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def apt_install(
    logger: Logger, package: str, *, missing_msg: str | None = None, install_msg: str | None = None
) -> None:
    """Install a Debian package (root only), for fresh CI machines; die with missing_msg when we cannot."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        logger.die(missing_msg or f"'{package}' is missing; install it (e.g. apt-get install {package}) and retry")
    logger.log(install_msg or f"installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], stdout=sys.stderr, env=env, check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", package], stdout=sys.stderr, env=env, check=True)


def free_ports(host: str, count: int) -> list[int]:
    """Ask the kernel for distinct free TCP ports on host (all sockets open at once, so no duplicates)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in socks:
            s.bind((host, 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host: str) -> int:
    """Ask the kernel for a free TCP port on host."""
    return free_ports(host, 1)[0]


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie (a non-reaping PID 1 leaves zombies around)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object a previous run stored in path, or None when it is missing or unreadable."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def publish_env_line(env_file: Path, line: str) -> None:
    """Record the VAR=value line in env_file (scripts/test-services reads it) and print it: start's only stdout."""
    env_file.write_text(line + "\n")
    print(line, flush=True)


def report_status(name: str, running: str | None) -> int:
    """Print "<name>: running <running>" or "<name>: not running"; return 0 or 3 (like LSB init scripts)."""
    if running:
        print(f"{name}: running {running}")
        return 0
    print(f"{name}: not running")
    return 3


def run_cli(argv: list[str], usage: str | None, commands: dict[str, Callable[[], int | None]]) -> int:
    """Run the subcommand named by argv[1] and return its exit code; usage on stderr and 2 for anything else."""
    if len(argv) != 2 or argv[1] not in commands:
        print(usage, file=sys.stderr)
        return 2
    return commands[argv[1]]() or 0
