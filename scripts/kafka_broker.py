#!/usr/bin/env python3
"""Run a real single-node Apache Kafka broker (KRaft) for the tests, without Docker.

Usage:
    scripts/kafka_broker.py start    # prints LEADFLOW_TEST_KAFKA_BOOTSTRAP=127.0.0.1:<port> on stdout
    scripts/kafka_broker.py stop
    scripts/kafka_broker.py status

The official Kafka jars come from Maven Central (scripts/kafka/pom.xml, fetched once into .kafka/lib);
the broker runs detached with its state in .run/kafka/. Only the bootstrap line goes to stdout, so
`eval`/`$(...)` callers get exactly that; progress and errors go to stderr.
Stdlib only: this runs before any virtualenv exists.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

# provision_common sits next to this file: importable however this module is run or imported.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import provision_common as common

REPO = Path(__file__).resolve().parent.parent
CONF_DIR = REPO / "scripts" / "kafka"
POM = CONF_DIR / "pom.xml"
KAFKA_HOME = REPO / ".kafka"
LIB_DIR = KAFKA_HOME / "lib"
STAMP = LIB_DIR / ".fetched.json"
RUN_DIR = REPO / ".run" / "kafka"
DATA_DIR = RUN_DIR / "data"
PROPS_FILE = RUN_DIR / "server.properties"
LOG_FILE = RUN_DIR / "broker.log"
PID_FILE = RUN_DIR / "broker.pid"
ENV_FILE = RUN_DIR / "env"

ENV_NAME = "LEADFLOW_TEST_KAFKA_BOOTSTRAP"
HOST = "127.0.0.1"
READY_LINE = "Kafka Server started"
READY_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30
# (maven profile, kafka version) in order of preference; the first that resolves wins.
CANDIDATES = [("kafka4", "4.3.1"), ("kafka3", "3.9.1")]
JVM_OPTS = ["-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]

LOGGER = common.Logger("kafka")
log = LOGGER.log


def die(msg: str) -> NoReturn:
    """LOGGER.die as a function of this module, so linters see that callers such as ensure_jars end there."""
    LOGGER.die(msg)


def which_or_install(tool: str, package: str) -> str:
    """Return the path of a tool, installing its Debian package when it is absent."""
    if tool == "java" and os.environ.get("JAVA_HOME"):
        candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    found = shutil.which(tool)
    if not found:
        common.apt_install(LOGGER, package)
        found = shutil.which(tool)
    if not found:
        die(f"'{tool}' not found even after installing {package}")
    return str(found)


def ensure_kcat() -> None:
    """Debian's kcat (librdkafka), another team's client the tests produce with; its absence fails only them."""
    if shutil.which("kcat"):
        return
    try:
        common.apt_install(LOGGER, "kcat")
    except (SystemExit, subprocess.CalledProcessError) as error:
        log(f"kcat could not be installed ({error}); tests/test_kcat_journey.py will fail saying so")


# ---------------------------------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------------------------------


def pom_digest() -> str:
    """Hash of the pom: when someone bumps a version there, the jars are fetched again."""
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def read_stamp() -> dict[str, str] | None:
    """What the last successful fetch installed into .kafka/lib, or None."""
    return common.read_json(STAMP)


def candidates() -> list[tuple[str, str]]:
    """Versions to try; LEADFLOW_KAFKA_VERSION=x.y.z forces one (profile picked by major version)."""
    forced = os.environ.get("LEADFLOW_KAFKA_VERSION")
    if forced:
        return [("kafka3" if forced.startswith("3.") else "kafka4", forced)]
    return CANDIDATES


def current_stamp() -> dict[str, str] | None:
    """The stamp when .kafka/lib holds a complete fetch for the current pom and requested version."""
    stamp = read_stamp()
    if not stamp or stamp.get("pom") != pom_digest():
        return None
    forced = os.environ.get("LEADFLOW_KAFKA_VERSION")
    return stamp if not forced or stamp.get("version") == forced else None


def fetch_jars(profile: str, version: str) -> bool:
    """Copy the broker's runtime classpath into a staging dir, then swap it in (no half-filled lib)."""
    staging = KAFKA_HOME / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        which_or_install("mvn", "maven"),
        "-q",
        "-B",
        "-f",
        str(POM),
        f"-P{profile}",
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    log(f"fetching Kafka {version} jars from Maven Central into {LIB_DIR} (once)")
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    # mvn -q prints its errors on stdout, plus stray ANSI resets even with -B: clean up, send to stderr.
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr).strip()
    if output:
        print(output, file=sys.stderr)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        return False
    stamp = {"profile": profile, "version": version, "pom": pom_digest()}
    (staging / STAMP.name).write_text(json.dumps(stamp) + "\n")
    shutil.rmtree(LIB_DIR, ignore_errors=True)
    staging.rename(LIB_DIR)
    return True


def ensure_jars() -> dict[str, str]:
    """Make sure .kafka/lib holds the broker jars; skip Maven entirely when it already does."""
    if stamp := current_stamp():
        return stamp
    with common.file_lock(KAFKA_HOME / ".fetch.lock"):
        if stamp := current_stamp():  # another process may have fetched while we waited
            return stamp
        for profile, version in candidates():
            if fetch_jars(profile, version) and (stamp := current_stamp()):
                return stamp
            log(f"could not fetch Kafka {version}; trying the next candidate")
    die("could not fetch any Kafka version from Maven Central (see the mvn output above)")


# ---------------------------------------------------------------------------------------------------
# Process helpers
# ---------------------------------------------------------------------------------------------------


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on HOST:port."""
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def is_our_broker(pid: int) -> bool:
    """True when pid is alive and is a kafka.Kafka JVM (guards against pid reuse)."""
    if not common.pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): trust the pid file
    return b"kafka.Kafka" in cmdline


def read_pid() -> int | None:
    """The broker pid recorded by the last start, or None."""
    try:
        return int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None


def log_tail(lines: int = 40) -> str:
    """Last lines of the broker log, for error messages."""
    try:
        return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no broker log)"


def terminate(pid: int, timeout_s: float) -> None:
    """SIGTERM (graceful: Kafka flushes and closes its logs), then SIGKILL after timeout_s."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not common.pid_alive(pid):
            return
        time.sleep(0.2)
    log(f"broker pid {pid} did not exit after {timeout_s:.0f}s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while common.pid_alive(pid):
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------------
# Broker
# ---------------------------------------------------------------------------------------------------


def cluster_id() -> str:
    """Random KRaft cluster id: 16 bytes, base64url, no padding (22 chars), like Uuid.randomUuid()."""
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):  # a leading '-' would be parsed as a CLI option by StorageTool
            return cid


def server_properties(port: int, cport: int, kafka_major: int) -> str:
    """Single-node KRaft config tuned for tests on a small machine."""
    if kafka_major >= 4:
        quorum = f"controller.quorum.bootstrap.servers={HOST}:{cport}"
    else:  # 3.9 formats without --standalone, so it needs the static voter set
        quorum = f"controller.quorum.voters=1@{HOST}:{cport}"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            quorum,
            f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            f"advertised.listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={DATA_DIR}",
            # One broker: every internal topic must live with replication factor 1.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Else the first consumer group join creates 50 partitions (slow on 2 cores).
            "offsets.topic.num.partitions=1",
            # Tests join groups constantly; do not wait 3 s for more members.
            "group.initial.rebalance.delay.ms=0",
            # The 128 MiB default is allocated at start and can exhaust a 512 MiB heap.
            "log.cleaner.dedupe.buffer.size=16777216",
            "auto.create.topics.enable=true",
            "num.partitions=1",
            "",
        ]
    )


def java_cmd(java: str, kafka_major: int) -> list[str]:
    """java + JVM options + logging config + classpath, without the main class."""
    if kafka_major >= 4:
        logging = f"-Dlog4j2.configurationFile={CONF_DIR / 'log4j2.properties'}"
    else:
        logging = f"-Dlog4j.configuration=file:{CONF_DIR / 'log4j.properties'}"
    return [java, *JVM_OPTS, logging, "-cp", f"{LIB_DIR}/*"]


def format_storage(base_cmd: list[str], kafka_major: int) -> None:
    """Write the KRaft meta.properties/bootstrap checkpoint into the fresh data dir."""
    cmd = [
        *base_cmd,
        "kafka.tools.StorageTool",
        "format",
        "--ignore-formatted",
        "-t",
        cluster_id(),
        "-c",
        str(PROPS_FILE),
    ]
    if kafka_major >= 4:
        cmd.insert(cmd.index("--ignore-formatted"), "--standalone")
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        die(f"formatting the Kafka storage failed:\n{result.stdout}{result.stderr}")


def launch(base_cmd: list[str]) -> subprocess.Popen[bytes]:
    """Start the broker detached: own session, output to the log file, so it outlives this script."""
    with LOG_FILE.open("wb") as out:  # truncate: readiness is read from this run's log only
        proc = subprocess.Popen(
            [*base_cmd, "kafka.Kafka", str(PROPS_FILE)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=RUN_DIR,
        )
    PID_FILE.write_text(f"{proc.pid}\n")
    return proc


def wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    """Block until the log says started and the port accepts connections; kill and fail otherwise."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"the broker exited with code {proc.returncode}; log tail ({LOG_FILE}):\n{log_tail()}")
        if READY_LINE in LOG_FILE.read_text(errors="replace") and port_open(port):
            return
        time.sleep(0.2)
    terminate(proc.pid, 5)
    die(f"the broker was not ready after {READY_TIMEOUT_S}s; log tail ({LOG_FILE}):\n{log_tail()}")


def running_line() -> str | None:
    """The env line of a broker from a previous start that is still up, or None."""
    pid = read_pid()
    if pid is None or not is_our_broker(pid):
        return None
    try:
        line = ENV_FILE.read_text().strip()
    except OSError:
        return None  # started but never became ready: treat as stale
    port = int(line.rsplit(":", 1)[1])
    return line if port_open(port) else None


def clean_state() -> None:
    """Kill a leftover broker (if any) and remove the previous run's files."""
    pid = read_pid()
    if pid is not None and is_our_broker(pid):
        log(f"stopping broker pid {pid}")
        terminate(pid, STOP_TIMEOUT_S)
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    for path in (PID_FILE, ENV_FILE, PROPS_FILE):
        path.unlink(missing_ok=True)


def start() -> None:
    """Start (or reuse) the broker and print its bootstrap line on stdout."""
    with common.file_lock(RUN_DIR / ".lock"):
        line = running_line()
        if line:
            log(f"reusing the running broker (pid {read_pid()})")
            print(line, flush=True)
            return
        clean_state()
        java = which_or_install("java", "openjdk-17-jre-headless")
        ensure_kcat()
        jars = ensure_jars()
        major = int(jars["version"].split(".")[0])
        port, cport = common.free_ports(HOST, 2)
        DATA_DIR.mkdir(parents=True)
        PROPS_FILE.write_text(server_properties(port, cport, major))
        base_cmd = java_cmd(java, major)
        t0 = time.monotonic()
        format_storage(base_cmd, major)
        proc = launch(base_cmd)
        log(f"started Kafka {jars['version']} (pid {proc.pid}) on {HOST}:{port}; waiting until ready")
        wait_ready(proc, port)
        log(f"ready after {time.monotonic() - t0:.1f}s (log: {LOG_FILE})")
        common.publish_env_line(ENV_FILE, f"{ENV_NAME}={HOST}:{port}")


def stop() -> None:
    """Stop the broker (SIGTERM, then SIGKILL after 30 s) and remove its data."""
    with common.file_lock(RUN_DIR / ".lock"):
        pid = read_pid()
        if pid is None or not is_our_broker(pid):
            log("no broker running")
        clean_state()
        log("stopped")


def status() -> int:
    """Print whether the broker runs; exit 0 if it does, 3 if not (like LSB init scripts)."""
    line = running_line()
    return common.report_status("kafka", f"(pid {read_pid()}) {line}" if line else None)


if __name__ == "__main__":
    sys.exit(common.run_cli(sys.argv, __doc__, {"start": start, "stop": stop, "status": status}))
