#!/usr/bin/env python3
"""Run a private, throwaway PostgreSQL server for the tests, without Docker.

Usage:
    scripts/postgres_server.py start    # prints LEADFLOW_TEST_DATABASE_URL=postgresql+psycopg://... on stdout
    scripts/postgres_server.py stop
    scripts/postgres_server.py status

Uses Debian's server binaries (/usr/lib/postgresql/<ver>/bin; apt-installs `postgresql` when missing and
running as root), a fresh cluster under .run/pg/ on a free 127.0.0.1 port with a private socket dir, and
durability switched off for speed. Only the URL line goes to stdout; everything else goes to stderr.
Stdlib only: this runs before any virtualenv exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# provision_common sits next to this file: importable however this module is run or imported.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import provision_common as common

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = REPO / ".run" / "pg"  # root-owned bookkeeping: state.json, env, lock
STATE_FILE = RUN_DIR / "state.json"
ENV_FILE = RUN_DIR / "env"

ENV_NAME = "LEADFLOW_TEST_DATABASE_URL"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
DB_NAME = "leadflow_test"
FALLBACK_OS_USER = "leadflow"
START_ATTEMPTS = 3  # a free port can be taken between probing it and the server binding it
# Unix socket paths are limited to 107 bytes; keep headroom for "/.s.PGSQL.<port>".
MAX_SOCKET_DIR_LEN = 80
SERVER_SETTINGS = [
    "listen_addresses=127.0.0.1",
    # Throwaway test data: durability only costs time.
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    # Parallel test workers plus connection pools add up.
    "max_connections=200",
]

LOGGER = common.Logger("postgres")
log = LOGGER.log
die = LOGGER.die


# ---------------------------------------------------------------------------------------------------
# Binaries and OS user
# ---------------------------------------------------------------------------------------------------


def find_bindir() -> Path | None:
    """Newest /usr/lib/postgresql/<ver>/bin with an initdb (not /usr/local/bin wrappers)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    numeric = [p for p in found if re.fullmatch(r"\d+(\.\d+)?", p.parent.name)]
    return max(numeric, key=lambda p: float(p.parent.name), default=None)


def ensure_bindir() -> Path:
    """Return the server bin dir, apt-installing PostgreSQL first when it is missing."""
    bindir = find_bindir()
    if bindir:
        return bindir
    common.apt_install(
        LOGGER,
        "postgresql",
        missing_msg="PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; "
        "install them (Debian/Ubuntu: sudo apt-get install postgresql) and retry",
        install_msg="PostgreSQL not installed; installing it with apt-get",
    )
    bindir = find_bindir()
    if not bindir:
        die("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb appeared")
    return bindir


def server_user() -> pwd.struct_passwd:
    """The OS user to run the server as: ourselves, or (as root, which initdb refuses) an unprivileged one."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in ("postgres", FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    log(f"creating system user {FALLBACK_OS_USER!r} to run PostgreSQL (initdb refuses root)")
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_OS_USER],
        stdout=sys.stderr,
        check=True,
    )
    return pwd.getpwnam(FALLBACK_OS_USER)


def run_as(user: pwd.struct_passwd, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command as the server user (dropping root when we have it), output captured."""
    if os.geteuid() == 0 and user.pw_uid != 0:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    env = {**os.environ, "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name}
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd="/", **kwargs)


# ---------------------------------------------------------------------------------------------------
# Cluster location
# ---------------------------------------------------------------------------------------------------


def make_owned_dir(path: Path, user: pwd.struct_passwd) -> None:
    """Create a fresh, empty directory owned by the server user, private (initdb requires 0700/0750)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)


def user_can_write(user: pwd.struct_passwd, path: Path) -> bool:
    """True when the server user can reach and write path (every parent must be traversable)."""
    return run_as(user, ["test", "-w", str(path), "-a", "-x", str(path)]).returncode == 0


def pick_base_dir(user: pwd.struct_passwd) -> Path:
    """Cluster home: .run/pg/cluster in the repo, or a /tmp dir if the user cannot reach it there."""
    preferred = RUN_DIR / "cluster"
    if len(str(preferred / "sock")) <= MAX_SOCKET_DIR_LEN:
        make_owned_dir(preferred, user)
        if user_can_write(user, preferred):
            return preferred
        log(f"{user.pw_name} cannot reach {preferred}; using a directory under /tmp")
        shutil.rmtree(preferred, ignore_errors=True)
    else:
        log(f"{preferred} is too long for a unix socket path; using a directory under /tmp")
    repo_hash = hashlib.sha1(str(REPO).encode()).hexdigest()[:10]
    fallback = Path(tempfile.gettempdir()) / f"leadflow-pg-{repo_hash}"
    make_owned_dir(fallback, user)
    return fallback


# ---------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------


def load_state() -> dict[str, Any] | None:
    """Where the last start put the cluster, or None."""
    return common.read_json(STATE_FILE)


def database_url(port: int) -> str:
    """The SQLAlchemy URL the tests use."""
    return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{port}/{DB_NAME}"


def is_ready(bindir: Path, port: int) -> bool:
    """True when the server accepts connections on HOST:port."""
    cmd = [str(bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER, "-d", "postgres"]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True).returncode == 0


def is_running(state: dict[str, Any]) -> bool:
    """True when the cluster recorded in state is up (pg_ctl status) and accepting connections."""
    user = pwd.getpwnam(state["user"])
    status = run_as(user, [str(Path(state["bindir"]) / "pg_ctl"), "status", "-D", state["data"]])
    return status.returncode == 0 and is_ready(Path(state["bindir"]), state["port"])


def initdb(bindir: Path, user: pwd.struct_passwd, data: Path) -> None:
    """Create the cluster: trust auth (local test server), superuser postgres, UTF8, C locale."""
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        SUPERUSER,
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]  # no-sync: nothing to protect, saves seconds
    result = run_as(user, cmd)
    if result.returncode != 0:
        die(f"initdb failed:\n{result.stdout}{result.stderr}")


def pg_ctl_start(bindir: Path, user: pwd.struct_passwd, base: Path, port: int) -> bool:
    """Start the server on port with a private socket dir; False (log shown) if it did not come up."""
    settings = " ".join(f"-c {shlex.quote(s)}" for s in SERVER_SETTINGS)
    # pg_ctl hands -o to a shell, hence the quoting.
    opts = f"-p {port} -k {shlex.quote(str(base / 'sock'))} {settings}"
    cmd = [
        str(bindir / "pg_ctl"),
        "start",
        "-D",
        str(base / "data"),
        "-l",
        str(base / "postgres.log"),
        "-w",
        "-t",
        "60",
        "-o",
        opts,
    ]
    # -l sends the postmaster's output to the log, so it does not hold our stdout (a $(...) would hang).
    result = run_as(user, cmd)
    if result.returncode == 0:
        return True
    log(f"pg_ctl start failed on port {port}:\n{result.stdout}{result.stderr}{log_tail(base)}")
    return False


def log_tail(base: Path, lines: int = 20) -> str:
    """Last lines of the server log, for error messages."""
    with contextlib.suppress(OSError):
        return "\n".join((base / "postgres.log").read_text(errors="replace").splitlines()[-lines:])
    return "(no server log)"


def wait_ready(bindir: Path, port: int, timeout_s: float = 30) -> None:
    """pg_ctl -w already waited; double-check over TCP, which is what the tests use."""
    deadline = time.monotonic() + timeout_s
    while not is_ready(bindir, port):
        if time.monotonic() > deadline:
            die(f"PostgreSQL on port {port} not ready after {timeout_s:.0f}s")
        time.sleep(0.1)


def psql(bindir: Path, port: int, sql: str) -> str:
    """Run one SQL statement as the superuser over TCP and return its unaligned output."""
    cmd = [
        str(bindir / "psql"),
        "-X",
        "-q",
        "-tA",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        HOST,
        "-p",
        str(port),
        "-U",
        SUPERUSER,
        "-d",
        "postgres",
        "-c",
        sql,
    ]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        die(f"psql failed: {sql}\n{result.stderr}")
    return result.stdout.strip()


def ensure_database(bindir: Path, port: int) -> None:
    """Create the test database unless it exists (it does when a running server is reused)."""
    if psql(bindir, port, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") != "1":
        psql(bindir, port, f'CREATE DATABASE "{DB_NAME}"')


def postmaster_alive(data: str) -> bool:
    """True when the postmaster recorded in data/postmaster.pid still runs."""
    try:
        pid = int(Path(data, "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    return common.pid_alive(pid)


def stop_cluster(state: dict[str, Any]) -> None:
    """pg_ctl stop -m fast (immediate if that hangs), then delete the cluster directory."""
    user = pwd.getpwnam(state["user"])
    pg_ctl = str(Path(state["bindir"]) / "pg_ctl")
    # A killed postmaster leaves its pid file behind, and pg_ctl would then wait the full timeout
    # (twice) for it to vanish: only ask pg_ctl when the postmaster really runs.
    if postmaster_alive(state["data"]):
        result = run_as(user, [pg_ctl, "stop", "-D", state["data"], "-m", "fast", "-w", "-t", "30"])
        if result.returncode != 0:
            log(f"fast shutdown failed ({result.stderr.strip()}); trying immediate")
            run_as(user, [pg_ctl, "stop", "-D", state["data"], "-m", "immediate", "-w", "-t", "30"])
    shutil.rmtree(state["base"], ignore_errors=True)


def forget_state() -> None:
    """Remove the bookkeeping files of the previous run."""
    for path in (STATE_FILE, ENV_FILE):
        path.unlink(missing_ok=True)


def start_new_cluster() -> tuple[str, int]:
    """initdb + pg_ctl start a fresh cluster on a free port; return (url line, port)."""
    bindir = ensure_bindir()
    user = server_user()
    base = pick_base_dir(user)
    data = base / "data"
    t0 = time.monotonic()
    initdb(bindir, user, data)
    make_owned_dir(base / "sock", user)
    for _attempt in range(START_ATTEMPTS):
        port = common.free_port(HOST)
        state = {"bindir": str(bindir), "user": user.pw_name, "base": str(base), "data": str(data), "port": port}
        STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")  # written first so stop can clean up
        if pg_ctl_start(bindir, user, base, port):
            break
    else:
        die(f"PostgreSQL did not start after {START_ATTEMPTS} attempts")
    wait_ready(bindir, port)
    ensure_database(bindir, port)
    log(
        f"PostgreSQL {bindir.parent.name} ready on {HOST}:{port} as OS user {user.pw_name} "
        f"after {time.monotonic() - t0:.1f}s (data: {data})"
    )
    return f"{ENV_NAME}={database_url(port)}", port


def start() -> None:
    """Start (or reuse) the server and print the database URL line on stdout."""
    with common.file_lock(RUN_DIR / ".lock"):
        state = load_state()
        if state and is_running(state):
            log(f"reusing the running server on port {state['port']}")
            ensure_database(Path(state["bindir"]), state["port"])
            line = f"{ENV_NAME}={database_url(state['port'])}"
        else:
            if state:
                stop_cluster(state)  # leftovers of a crashed or half-finished run
            forget_state()
            line, _port = start_new_cluster()
        common.publish_env_line(ENV_FILE, line)


def stop() -> None:
    """Stop the server and delete its data directory."""
    with common.file_lock(RUN_DIR / ".lock"):
        state = load_state()
        if state:
            stop_cluster(state)
            log("stopped")
        else:
            log("no server running")
        forget_state()


def status() -> int:
    """Print whether the server runs; exit 0 if it does, 3 if not (like LSB init scripts)."""
    state = load_state()
    if state and is_running(state):
        return common.report_status("postgres", f"on port {state['port']} {ENV_NAME}={database_url(state['port'])}")
    return common.report_status("postgres", None)


if __name__ == "__main__":
    sys.exit(common.run_cli(sys.argv, __doc__, {"start": start, "stop": stop, "status": status}))
