#!/usr/bin/python3
"""An independent mDNS implementation (python-zeroconf) acting as a Parley peer.

Run inside a test namespace. It serves /healthz and /device over HTTP, publishes that server
as a `_parley._tcp` service with Parley's TXT keys, browses `_parley._tcp`, and prints JSON
lines: {"event":"ready"}, then {"event":"found","name":..,"port":..,"txt":{..},"addresses":[..]}
for every service it resolves. SIGTERM unregisters (goodbye) and exits.

Usage: zeroconf_peer.py --name NAME --id ID --ip IPV4
"""

import argparse
import json
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zeroconf import ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

SERVICE = "_parley._tcp.local."


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--id", required=True)
    parser.add_argument("--ip", required=True)
    args = parser.parse_args()
    device = {"id": args.id, "name": args.name, "version": 1, "app": "zeroconf", "os": "python"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            if self.path == "/healthz":
                body, kind = b"ok", "text/plain"
            elif self.path == "/device":
                body, kind = json.dumps(device).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    http = ThreadingHTTPServer((args.ip, 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    port = http.server_address[1]

    zc = Zeroconf()
    info = ServiceInfo(
        SERVICE,
        f"{args.name}.{SERVICE}",
        port=port,
        properties={"id": args.id, "name": args.name, "v": "1", "app": "zeroconf", "os": "python"},
        server=f"zc-{args.id}.local.",
        addresses=[socket.inet_aton(args.ip)],
    )
    zc.register_service(info)

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            emit({"event": "lost", "name": name})
            return
        found = zeroconf.get_service_info(service_type, name, timeout=3000)
        if found is None:
            return
        txt = {k.decode(): (v.decode() if v is not None else None) for k, v in found.properties.items()}
        emit({"event": "found", "name": name, "port": found.port, "txt": txt,
              "addresses": found.parsed_addresses()})

    browser = ServiceBrowser(zc, SERVICE, handlers=[on_change])
    emit({"event": "ready", "port": port})

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    browser.cancel()
    zc.unregister_service(info)
    zc.close()
    http.shutdown()
    emit({"event": "stopped"})


if __name__ == "__main__":
    main()
