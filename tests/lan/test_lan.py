#!/usr/bin/python3
"""LAN discovery test bed: real parley-node processes on namespace LANs (run as root).

Every test builds its own LAN (namespaces named after this process, removed at the end even
on failure) and waits on the nodes' JSON-line events with timeouts; nothing sleeps.
Run: tests/lan/run.sh   (or: sudo /usr/bin/python3 tests/lan/test_lan.py -v)
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lanbed import Lab, Node, added, removed, updated  # noqa: E402

LIST_WITHIN = 3.0  # issue: each lists the others within 3 s
CRASH_WITHIN = 12.0  # issue: kill -9 removed within 12 s
LEAVE_WITHIN = 3.0


def three_hosts(lab: Lab, names=("Alice", "客厅的电脑", "Bob")) -> list:
    lab.switch("sw1")
    return [lab.host(f"h{i}", "sw1", i) for i in (1, 2, 3)]


def lists(*wanted: Node):
    ids = {n.id: n.name for n in wanted}
    return lambda node: all(node.peers.get(i, {}).get("name") == name for i, name in ids.items())


class ThreeHosts(unittest.TestCase):
    def test_each_lists_the_other_two_by_name_and_never_the_other_lan(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            lab.switch("sw2")
            h4 = lab.host("h4", "sw2", 4)
            far = h4.node("Dave on another LAN")
            nodes = [h1.node("Alice"), h2.node("客厅的电脑"), h3.node("Bob")]
            for node in nodes:
                others = [n for n in nodes if n is not node]
                node.wait_until("listing the other two", lists(*others), LIST_WITHIN)
                self.assertNotIn(node.id, node.peers, "a node never lists itself")
            # Addresses: IPv4 and the IPv6 ULA of the host, and the server's port.
            a, b = nodes[0], nodes[1]
            a.wait_until("knowing both of b's addresses",
                         lambda n: {h2.ipv4, h2.ipv6} <= set(n.peers[b.id]["addresses"]), LIST_WITHIN)
            peer = a.peers[b.id]
            self.assertEqual(peer["port"], b.port)
            self.assertTrue(peer["compatible"])
            self.assertEqual(peer["source"], "mdns")
            self.assertEqual(peer["os"], "linux")
            # Meanwhile the host on the other bridge saw nobody and nobody saw it.
            for node in nodes:
                self.assertFalse(node.ever_saw(far.id), f"{node.name} listed the other LAN's node")
            self.assertEqual(far.peers, {}, "the other LAN's node listed someone")

    def test_rename_and_new_addresses_propagate(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            nodes = [h1.node("Alice"), h2.node("Bert"), h3.node("Bob")]
            a, b, c = nodes
            for node, others in ((a, (b, c)), (c, (a, b))):
                node.wait_until("listing the others", lists(*others), LIST_WITHIN)
            since_a, since_c = a.mark(), c.mark()
            b.send({"cmd": "rename", "name": "小明的手机"})
            renamed = updated(b.id, lambda p: p["name"] == "小明的手机")
            a.wait_event("rename of b", renamed, LIST_WITHIN, since_a)
            c.wait_event("rename of b", renamed, LIST_WITHIN, since_c)
            # Its device endpoint says the same (what a manual add would read).
            since_a = a.mark()
            a.send({"cmd": "add", "addr": f"{h2.ipv4}:{b.port}"})
            _, reply = a.wait_event("manual add answer", lambda e: e.get("event") == "manual", 10, since_a)
            self.assertTrue(reply["ok"], reply)
            self.assertEqual(reply["peer"]["name"], "小明的手机")
            # A new address on b's interface reaches the others (interface changes are followed).
            h2.add_address("10.10.0.102/24")
            a.wait_event("b's new address", updated(b.id, lambda p: "10.10.0.102" in p["addresses"]), 10, since_a)


class Leaving(unittest.TestCase):
    def test_graceful_stop_and_kill_9_remove_the_peer(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            a, b, c = h1.node("Alice"), h2.node("Bert"), h3.node("Carla")
            a.wait_until("listing b and c", lists(b, c), LIST_WITHIN)
            b.wait_until("listing a and c", lists(a, c), LIST_WITHIN)

            since_a, since_b = a.mark(), b.mark()
            c.terminate()
            for node, since in ((a, since_a), (b, since_b)):
                # Goodbye packets or failed health checks, whichever comes first (under load a
                # health check may already have missed once); the loopback tests pin goodbye.
                node.wait_event("c removed", removed(c.id), LEAVE_WITHIN, since)
            self.assertEqual(c.wait_exit(), 0)
            c.wait_event("stopped line", lambda e: e.get("event") == "stopped", 5)

            since_a = a.mark()
            b.kill9()
            _, event = a.wait_event("b removed after kill -9", removed(b.id), CRASH_WITHIN, since_a)
            self.assertEqual(event["reason"], "unreachable")
            self.assertEqual(a.peers, {})

    def test_a_restarted_peer_is_listed_again_with_the_same_id(self):
        with Lab() as lab:
            h1, h2, _ = three_hosts(lab)
            a = h1.node("Alice")
            data = lab.tmp / "bert-data"
            b = h2.node("Bert", data_dir=data)
            a.wait_until("listing b", lists(b), LIST_WITHIN)
            first_id = b.id
            since = a.mark()
            b.kill9()
            a.wait_event("b removed", removed(first_id), CRASH_WITHIN, since)
            since = a.mark()
            b2 = h2.node("Bert", data_dir=data)
            self.assertEqual(b2.id, first_id, "the device id is persisted")
            a.wait_event("b listed again", added(first_id), LIST_WITHIN, since)


class LinkChanges(unittest.TestCase):
    def test_a_peer_whose_link_drops_goes_and_comes_back_with_the_link(self):
        with Lab() as lab:
            h1, h2, _ = three_hosts(lab)
            a, b = h1.node("Alice"), h2.node("Bert")
            a.wait_until("listing b", lists(b), LIST_WITHIN)
            since = a.mark()
            lab.exec("h2", "ip", "link", "set", "eth0", "down")
            _, event = a.wait_event("b removed while its link is down", removed(b.id), CRASH_WITHIN, since)
            self.assertEqual(event["reason"], "unreachable")
            since = a.mark()
            lab.exec("h2", "ip", "link", "set", "eth0", "up")
            # b's mDNS notices the interface again (checked every 2 s) and re-announces.
            a.wait_event("b listed again once its link is up", added(b.id), 10, since)


class MulticastBlocked(unittest.TestCase):
    def test_manual_add_by_address_works_where_multicast_is_dropped(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            h3.drop_multicast_dns()
            a, b = h1.node("Alice"), h2.node("Bert")
            walled = h3.node("Walled garden")
            a.wait_until("listing b", lists(b), LIST_WITHIN)

            since = walled.mark()
            walled.send({"cmd": "add", "addr": f"{h1.ipv4}:{a.port}"})
            _, reply = walled.wait_event("manual add answer", lambda e: e.get("event") == "manual", 10, since)
            self.assertTrue(reply["ok"], reply)
            _, event = walled.wait_event("a added", added(a.id), 10, since)
            self.assertEqual(event["peer"]["name"], "Alice")
            self.assertEqual(event["peer"]["source"], "manual")

            # And the other way round, over IPv6.
            since = a.mark()
            a.send({"cmd": "add", "addr": f"[{h3.ipv6}]:{walled.port}"})
            _, event = a.wait_event("walled added", added(walled.id), 10, since)
            self.assertEqual(event["peer"]["source"], "manual")
            self.assertEqual(event["peer"]["addresses"], [h3.ipv6])
            self.assertFalse(b.ever_saw(walled.id), "multicast was supposed to be dropped")

            # A manually added peer gets the same liveness: stopping it removes it.
            since = a.mark()
            walled.terminate()
            _, event = a.wait_event("walled removed", removed(walled.id), CRASH_WITHIN, since)
            self.assertEqual(event["reason"], "unreachable")

    def test_bad_manual_targets_are_reported(self):
        with Lab() as lab:
            h1, _, _ = three_hosts(lab)
            a = h1.node("Alice")
            since = a.mark()
            a.send({"cmd": "add", "addr": "10.10.0.77:9"})
            _, reply = a.wait_event("manual add answer", lambda e: e.get("event") == "manual", 10, since)
            self.assertFalse(reply["ok"])
            self.assertIn("no Parley device", reply["error"])


# Posts an introduction from this host; prints "<status> <body>". argv: url id port
INTRODUCE = """
import json, sys, urllib.error, urllib.request
url, peer_id, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = json.dumps({"id": peer_id, "port": port}).encode()
req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as answer:
        print(answer.status, answer.read().decode())
except urllib.error.HTTPError as answer:
    print(answer.code, answer.read().decode())
"""

# An HTTP server that is not a Parley device (501 to every GET); prints "ready" once bound.
NOT_PARLEY = """
import http.server
server = http.server.HTTPServer(("0.0.0.0", 8000), http.server.BaseHTTPRequestHandler)
print("ready", flush=True)
server.serve_forever()
"""


def from_introduction(peer_id: str):
    return lambda e: (e.get("event") == "added" and e["peer"]["id"] == peer_id
                      and e["peer"]["source"] == "introduced")


class Introductions(unittest.TestCase):
    def test_a_newcomer_whose_announcements_are_dropped_is_listed_by_its_introduction(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            a, c = h1.node("Alice"), h3.node("Carla")
            # c lists a from mDNS, so a's records are out and a answers queries.
            c.wait_until("listing a", lists(a), LIST_WITHIN)
            a.wait_until("listing c", lists(c), LIST_WITHIN)
            # The newcomer's queries go out, its answers and announcements never do:
            # only its introductions can make it known.
            h2.drop_mdns_answers()
            since_a, since_c = a.mark(), c.mark()
            b = h2.node("Bert 安静")
            for node, since in ((a, since_a), (c, since_c)):
                _, event = node.wait_event("b introduced", from_introduction(b.id), LIST_WITHIN, since)
                self.assertEqual(event["peer"]["name"], "Bert 安静")
                self.assertEqual(event["peer"]["port"], b.port)
                # Listed at the address the introduction came from (IPv4 or IPv6, whichever of
                # the peer's addresses b knew first).
                self.assertIn(event["peer"]["addresses"], ([h2.ipv4], [h2.ipv6]))
            b.wait_until("listing a and c", lists(a, c), LIST_WITHIN)
            # Liveness keeps it listed while it runs and removes it when it crashes.
            since = a.mark()
            b.kill9()
            _, event = a.wait_event("b removed after kill -9", removed(b.id), CRASH_WITHIN, since)
            self.assertEqual(event["reason"], "unreachable")
            self.assertEqual(event["peer"]["source"], "introduced", "mDNS never confirmed it")

    def test_forged_introductions_are_refused(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            a, b = h1.node("Alice"), h2.node("Bert")
            a.wait_until("listing b", lists(b), LIST_WITHIN)
            web = Node(lab.spawn("h3", ["/usr/bin/python3", "-c", NOT_PARLEY], "not-parley"), "web",
                       parse=lambda raw: {"event": raw.decode().strip()})
            web.wait_event("web server ready", lambda e: e.get("event") == "ready", 10)
            url = f"http://{h1.ipv4}:{a.port}/introduce"
            since = a.mark()
            # From h3, which runs no Parley device: claiming b's id (and port), or any id at the
            # port of a web server that is not Parley. Only h3 is ever checked, so both fail.
            for claimed_id, port in ((b.id, b.port), ("forged-1", 8000)):
                out = lab.exec("h3", "/usr/bin/python3", "-c", INTRODUCE, url, claimed_id, str(port)).stdout
                status, _, reason = out.strip().partition(" ")
                self.assertEqual(status, "422", out)
                self.assertIn(f"no Parley device answers at {h3.ipv4}:{port}", reason)
            # A real device's introduction still works (b, already listed, stays as mDNS lists it).
            out = lab.exec("h2", "/usr/bin/python3", "-c", INTRODUCE, url, b.id, str(b.port)).stdout
            self.assertTrue(out.startswith("204"), out)
            self.assertFalse(a.ever_saw("forged-1"))
            # No listing came or went (b's mDNS records may still add addresses meanwhile).
            changes = [e for _, e in a.events[since:] if e.get("event") in ("added", "removed")]
            self.assertEqual(changes, [])
            self.assertEqual(a.peers[b.id]["port"], b.port)
            self.assertEqual(a.peers[b.id]["source"], "mdns")


class Interop(unittest.TestCase):
    def test_python_zeroconf_sees_us_and_we_see_it(self):
        with Lab() as lab:
            h1, h2, h3 = three_hosts(lab)
            a = h1.node("Ålice 愛麗絲")
            helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zeroconf_peer.py")
            proc = lab.spawn("h2", ["/usr/bin/python3", helper, "--name", "Zeroconf 東京",
                                    "--id", "zc-interop-1", "--ip", h2.ipv4], "zeroconf")
            zc = Node(proc, "zeroconf")
            try:
                zc.wait_event("zeroconf ready", lambda e: e.get("event") == "ready", 10)
                _, found = zc.wait_event(
                    "our service", lambda e: e.get("event") == "found" and e["txt"].get("id") == a.id, 10)
            except AssertionError:
                print(lab.log("zeroconf"), file=sys.stderr)
                raise
            self.assertEqual(found["txt"]["name"], "Ålice 愛麗絲")
            self.assertEqual(found["txt"]["v"], "1")
            self.assertEqual(found["txt"]["os"], "linux")
            self.assertTrue(found["txt"]["app"])
            self.assertEqual(found["port"], a.port)
            self.assertIn(h1.ipv4, found["addresses"])

            _, event = a.wait_event("zeroconf's service", added("zc-interop-1"), 10)
            self.assertEqual(event["peer"]["name"], "Zeroconf 東京")
            self.assertTrue(event["peer"]["compatible"])
            self.assertEqual(event["peer"]["addresses"], [h2.ipv4])

            since = a.mark()
            zc.terminate()
            _, event = a.wait_event("zeroconf's goodbye", removed("zc-interop-1"), LEAVE_WITHIN, since)
            self.assertEqual(event["reason"], "goodbye")


def avahi_unescape(text: bytes) -> str:
    """avahi-browse -p escapes bytes as \\DDD (decimal) and other characters as \\C."""
    out = re.sub(rb"\\(\d{3}|.)", lambda m: bytes([int(m[1])]) if m[1].isdigit() else m[1], text)
    return out.decode()


def avahi_line(raw: bytes) -> dict:
    """One line of avahi_peer.sh: `ready PORT`, or an avahi-browse -rpk record."""
    raw = raw.rstrip(b"\n")
    if raw.startswith(b"ready "):
        return {"event": "ready", "port": int(raw.split()[1])}
    fields = raw.split(b";")
    if fields[0] != b"=" or len(fields) < 10:
        return {"event": "browse", "line": raw.decode(errors="replace")}
    txt = {}
    for item in re.findall(rb'"((?:[^"\\]|\\.)*)"', fields[9]):
        key, _, value = avahi_unescape(item).partition("=")
        txt[key] = value
    return {"event": "found", "name": avahi_unescape(fields[3]), "address": fields[7].decode(),
            "port": int(fields[8]), "txt": txt}


class Avahi(unittest.TestCase):
    def test_avahi_sees_us_and_we_see_what_avahi_publishes(self):
        with Lab() as lab:
            h1, h2, _ = three_hosts(lab)
            a = h1.node("Ålice 愛麗絲")
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "avahi_peer.sh")
            proc = lab.spawn("h2", [script, "Avahi 大阪", "avahi-interop-1", h2.ipv4], "avahi")
            avahi = Node(proc, "avahi", parse=avahi_line)
            try:
                _, ready = avahi.wait_event("avahi ready", lambda e: e.get("event") == "ready", 15)
                _, found = avahi.wait_event(
                    "our service", lambda e: e.get("event") == "found" and e["txt"].get("id") == a.id, 10)
            except AssertionError:
                print(lab.log("avahi"), file=sys.stderr)
                raise
            self.assertEqual(found["name"], "Ålice 愛麗絲")
            self.assertEqual(found["txt"]["name"], "Ålice 愛麗絲")
            self.assertEqual(found["txt"]["v"], "1")
            self.assertEqual(found["txt"]["os"], "linux")
            self.assertEqual(found["port"], a.port)

            _, event = a.wait_event("avahi's service", added("avahi-interop-1"), 10)
            self.assertEqual(event["peer"]["name"], "Avahi 大阪")
            self.assertEqual(event["peer"]["port"], ready["port"])
            self.assertTrue(event["peer"]["compatible"])
            # Avahi announces A and AAAA records separately: the IPv4 address may come second.
            a.wait_until("knowing avahi's IPv4 address",
                         lambda n: h2.ipv4 in n.peers.get("avahi-interop-1", {}).get("addresses", []), 5)

            since = a.mark()
            avahi.terminate()
            _, event = a.wait_event("avahi's goodbye", removed("avahi-interop-1"), LEAVE_WITHIN, since)
            self.assertEqual(event["reason"], "goodbye")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("tests/lan needs root (network namespaces)")
    unittest.main()
