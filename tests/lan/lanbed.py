"""A throw-away LAN made of network namespaces, and parley-node processes running on it.

Every namespace of one run is named ``plan-<pid>-<role>``: switches hold a bridge ``br0``,
hosts hold ``eth0`` (a veth whose other end is a port of a switch's bridge). Nothing is
created in the root namespace, so deleting the run's namespaces removes everything, and
parallel runs never collide. Namespaces left by a crashed run (its pid is gone) are removed
by :func:`remove_stale_namespaces` before a new run starts.

Waiting is always on an event with a timeout (a condition variable fed by each node's
stdout reader), never a sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

PREFIX = "plan-"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def node_binary() -> str:
    """Path of parley-node: $PARLEY_NODE, else the cargo target dir's debug build."""
    if os.environ.get("PARLEY_NODE"):
        return os.environ["PARLEY_NODE"]
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    return str(Path(target) / "debug" / "parley-node")


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs a command, failing loudly with its stderr."""
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.strip()}")
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_namespaces() -> list[str]:
    out = sh("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def remove_stale_namespaces() -> None:
    """Deletes namespaces of earlier runs whose process no longer exists."""
    for ns in list_namespaces():
        if not ns.startswith(PREFIX):
            continue
        try:
            pid = int(ns[len(PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            _delete_namespace(ns)


def _delete_namespace(ns: str) -> None:
    """Kills what still runs in `ns`, waits for it to go, then deletes the namespace.

    `ip netns del` can fail while a process still holds the namespace (e.g. in a mount
    namespace of its own), so it is retried until the name is gone."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _kill_namespace_processes(ns)
        sh("ip", "netns", "del", ns, check=False)
        if ns not in list_namespaces():
            return
        time.sleep(0.1)  # cleanup retry pacing, not test synchronisation
    print(f"lanbed: could not delete namespace {ns}", flush=True)


def _kill_namespace_processes(ns: str) -> None:
    pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class Lab:
    """One run's namespaces and processes; use as a context manager so cleanup always runs."""

    def __init__(self) -> None:
        remove_stale_namespaces()
        self.tag = f"{os.getpid()}-{os.urandom(2).hex()}"
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="parley-lan-"))
        self.subnets: dict[str, int] = {}

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def ns(self, role: str) -> str:
        return f"{PREFIX}{self.tag}-{role}"

    def _add_ns(self, role: str) -> str:
        name = self.ns(role)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        self.exec(role, "ip", "link", "set", "lo", "up")
        return name

    def exec(self, role: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.ns(role), *cmd, check=check)

    def switch(self, role: str) -> None:
        """A LAN segment: a namespace holding bridge br0. Each switch gets its own subnet."""
        self._add_ns(role)
        self.exec(role, "ip", "link", "add", "br0", "type", "bridge")
        self.exec(role, "ip", "link", "set", "br0", "up")
        self.subnets[role] = 10 + len(self.subnets)

    def host(self, role: str, switch: str, index: int) -> "Host":
        """A host on `switch` with 10.<n>.0.<index>/24 and fd00:<n>::<index>/64 on eth0."""
        ns = self._add_ns(role)
        # No duplicate address detection: addresses are usable at once (assigned by us, unique).
        self.exec(role, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                  "net.ipv6.conf.default.accept_dad=0")
        port = f"p-{role}"[:15]
        sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth",
           "peer", "name", port, "netns", self.ns(switch))
        self.exec(switch, "ip", "link", "set", port, "master", "br0", "up")
        net = self.subnets[switch]
        ipv4, ipv6 = f"10.{net}.0.{index}", f"fd00:{net}::{index}"
        self.exec(role, "ip", "addr", "add", f"{ipv4}/24", "dev", "eth0")
        self.exec(role, "ip", "addr", "add", f"{ipv6}/64", "dev", "eth0", "nodad")
        self.exec(role, "ip", "link", "set", "eth0", "up")
        return Host(self, role, ipv4, ipv6)

    def spawn(self, role: str, cmd: list[str], log_name: str) -> subprocess.Popen:
        with open(self.tmp / f"{log_name}.log", "wb") as log:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(role), *cmd],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            )
        self.processes.append(proc)
        return proc

    def log(self, log_name: str) -> str:
        path = self.tmp / f"{log_name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        # SIGTERM first so helpers (avahi_peer.sh) stop their own children, then SIGKILL.
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 3
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass
        for ns in self.namespaces:
            _delete_namespace(ns)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Host:
    """A host namespace on some switch."""

    def __init__(self, lab: Lab, role: str, ipv4: str, ipv6: str) -> None:
        self.lab, self.role, self.ipv4, self.ipv6 = lab, role, ipv4, ipv6

    def _nft(self, name: str, table: str) -> None:
        """Loads an nftables ruleset into this host (`name` names its file in the lab's tmp)."""
        rules = self.lab.tmp / name
        rules.write_text(table)
        self.lab.exec(self.role, "nft", "-f", str(rules))

    def drop_multicast_dns(self) -> None:
        """nftables: drop all mDNS multicast in and out, like AP isolation or a strict firewall."""
        self._nft(f"{self.role}.nft", "table inet parley_lan {\n"
                  " chain in { type filter hook input priority 0; ip daddr 224.0.0.251 drop; ip6 daddr ff02::fb drop; }\n"
                  " chain out { type filter hook output priority 0; ip daddr 224.0.0.251 drop; ip6 daddr ff02::fb drop; }\n"
                  "}\n")

    def drop_mdns_answers(self) -> None:
        """nftables: drop this host's outgoing mDNS responses (DNS header QR bit set) but let
        its queries out, so others answer it while its own announcements never arrive."""
        self._nft(f"{self.role}-quiet.nft", "table inet parley_quiet {\n"
                  " chain out { type filter hook output priority 0; udp dport 5353 @th,80,1 1 drop; }\n"
                  "}\n")

    def add_address(self, ipv4_cidr: str) -> None:
        self.lab.exec(self.role, "ip", "addr", "add", ipv4_cidr, "dev", "eth0")

    def node(self, name: str, *extra: str, data_dir: Optional[Path] = None) -> "Node":
        data = data_dir or (self.lab.tmp / f"data-{self.role}-{os.urandom(3).hex()}")
        cmd = [node_binary(), "--name", name, "--data-dir", str(data), *extra]
        node = Node(self.lab.spawn(self.role, cmd, f"node-{self.role}-{name.encode().hex()[:16]}"), name)
        node.wait_listening()
        return node


Predicate = Callable[[dict], bool]


class Node:
    """A running parley-node: its JSON-line events, and its peer table as they describe it."""

    def __init__(self, proc: subprocess.Popen, name: str,
                 parse: Optional[Callable[[bytes], dict]] = None) -> None:
        self.proc, self.name = proc, name
        self.parse = parse or json.loads
        self.events: list[tuple[float, dict]] = []
        self.peers: dict[str, dict] = {}
        self.cond = threading.Condition()
        self.id = ""
        self.port = 0
        self.started = time.monotonic()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            now = time.monotonic()
            try:
                event = self.parse(raw)
            except ValueError:
                event = {"event": "garbage", "line": raw.decode(errors="replace")}
            with self.cond:
                self.events.append((now, event))
                kind = event.get("event")
                if kind in ("added", "updated"):
                    self.peers[event["peer"]["id"]] = event["peer"]
                elif kind == "removed":
                    self.peers.pop(event["peer"]["id"], None)
                self.cond.notify_all()
        with self.cond:
            self.events.append((time.monotonic(), {"event": "eof"}))
            self.cond.notify_all()

    def wait_event(self, what: str, pred: Predicate, timeout: float, since: int = 0) -> tuple[float, dict]:
        """The first event (at index >= since) matching `pred`, with its arrival time."""
        found: list[tuple[float, dict]] = []

        def check() -> bool:
            for t, event in self.events[since:]:
                if pred(event):
                    found.append((t, event))
                    return True
            return False

        with self.cond:
            if not self.cond.wait_for(check, timeout=timeout):
                raise AssertionError(f"{self.name}: no {what} within {timeout} s; events: "
                                     f"{[e for _, e in self.events]}")
        return found[0]

    def wait_until(self, what: str, cond: Callable[["Node"], bool], timeout: float) -> None:
        """Waits until `cond(self)` holds (re-checked on every event)."""
        with self.cond:
            if not self.cond.wait_for(lambda: cond(self), timeout=timeout):
                raise AssertionError(f"{self.name}: not {what} within {timeout} s; peers: {self.peers}")

    def wait_listening(self, timeout: float = 10) -> None:
        _, event = self.wait_event("listening line", lambda e: e.get("event") in ("listening", "eof", "error"), timeout)
        if event.get("event") != "listening":
            raise AssertionError(f"{self.name} did not start: {event}")
        self.id, self.port = event["id"], event["port"]

    def mark(self) -> int:
        """Index of the next event, for `wait_event(since=...)`."""
        with self.cond:
            return len(self.events)

    def send(self, command: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        self.proc.stdin.flush()

    def names(self) -> set[str]:
        return {p["name"] for p in self.peers.values()}

    def ever_saw(self, peer_id: str) -> bool:
        with self.cond:
            return any(e.get("peer", {}).get("id") == peer_id for _, e in self.events)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def kill9(self) -> None:
        self.proc.kill()

    def wait_exit(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout=timeout)


def added(peer_id: str) -> Predicate:
    return lambda e: e.get("event") == "added" and e["peer"]["id"] == peer_id


def removed(peer_id: str) -> Predicate:
    return lambda e: e.get("event") == "removed" and e["peer"]["id"] == peer_id


def updated(peer_id: str, check: Predicate) -> Predicate:
    return lambda e: e.get("event") == "updated" and e["peer"]["id"] == peer_id and check(e["peer"])
