// The NAT lab: an "internet" namespace (bridge br0, parley-server and coturn on 10.77.0.1), two
// homes that NAT with nftables, and a client namespace behind each running headless Chromium.
//
//   clientA 192.168.1.2 -- homeA (NAT) 10.77.0.11 --+-- inet br0 10.77.0.1 (parley-server, coturn)
//   clientB 192.168.2.2 -- homeB (NAT) 10.77.0.12 --+
//
// Namespaces isolate addresses and ports, so fixed addresses and ports are parallel-safe; only
// namespace names must be unique (netns.mjs). coturn and parley-server run with the exact
// configuration shown in docs/deploy.md (config/*), placeholders filled in.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Namespaces, run } from "./netns.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
export const configDir = resolve(here, "../config");
const uiDist = process.env.PARLEY_UI_DIST ?? join(repoRoot, "ui/dist");
const chromiumPath = process.env.PARLEY_CHROMIUM ?? "/usr/bin/chromium";
// playwright-core lives in ui/node_modules (the e2e suite's dependency); resolve it from there.
const { chromium } = createRequire(join(repoRoot, "ui/package.json"))("playwright-core");
const probeSource = readFileSync(join(repoRoot, "ui/e2e/lib/probe.js"), "utf8");

/** The lab's public side. */
export const PUBLIC_IP = "10.77.0.1";
export const INTERNET = "10.77.0.0/24";
/** The lab-only coturn exception: its "internet" is a private range that deploy.md denies. */
export const LAB_ALLOWED_PEERS = "allowed-peer-ip=10.77.0.0-10.77.0.255";

/** Path of the parley-server binary (PARLEY_SERVER_BIN, else CARGO_TARGET_DIR/debug). */
export function serverBinary() {
  if (process.env.PARLEY_SERVER_BIN) return process.env.PARLEY_SERVER_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repoRoot, process.env.CARGO_TARGET_DIR) : join(repoRoot, "target");
  return join(target, "debug", "parley-server");
}

/**
 * Fills @NAME@ placeholders; throws if one is left (a config the lab would not really exercise).
 * @param {string} text
 * @param {Record<string, string>} vars
 */
export function fill(text, vars) {
  const out = text.replace(/@([A-Z_]+)@/g, (m, k) => (k in vars ? vars[k] : m));
  const left = out.match(/@[A-Z_]+@/);
  if (left) throw new Error(`placeholder ${left[0]} not filled`);
  return out;
}

/**
 * The ExecStart command of a unit file in config/, placeholders filled, split into argv.
 * @param {string} unit
 * @param {Record<string, string>} vars
 */
export function execStart(unit, vars) {
  const line = readFileSync(join(configDir, unit), "utf8").split("\n").find((l) => l.startsWith("ExecStart="));
  if (!line) throw new Error(`${unit}: no ExecStart`);
  return fill(line.slice("ExecStart=".length), vars).split(/\s+/).filter(Boolean);
}

/**
 * @typedef {"eim" | "symmetric"} NatKind  endpoint-independent mapping, or a new random port per flow
 * @typedef {{ role: string, client: string, wanIp: string, lanNet: number, nat: NatKind }} Home
 */

/** Resolves when `check()` is true; polls (condition wait with timeout, not a sleep). */
export async function waitFor(check, what, timeoutMs = 20_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One lab run. Always `await lab.close()` (tests register it with t.after). */
export class Lab {
  /**
   * @param {{ serverSecret?: string, turnSecret?: string, turn?: boolean }} [opts]  a different
   *   serverSecret makes parley-server mint credentials coturn rejects; `turn: false` gives
   *   clients STUN only (no relay at all)
   */
  constructor(opts = {}) {
    this.ns = new Namespaces();
    this.tmp = mkdtempSync(join(tmpdir(), "parley-nat-"));
    this.turnSecret = opts.turnSecret ?? `lab-${Math.random().toString(36).slice(2)}`;
    this.serverSecret = opts.serverSecret ?? this.turnSecret;
    this.offerTurn = opts.turn ?? true;
    /** @type {import("node:child_process").ChildProcess[]} */
    this.children = [];
    /** @type {Map<string, string>} */
    this.logs = new Map();
    /** @type {Array<() => Promise<void>>} */
    this.closers = [];
    /** @type {Record<string, Home>} */
    this.homes = {};
    this.origin = `https://${PUBLIC_IP}`;
  }

  /** Builds the internet, both homes, starts coturn and parley-server. */
  async start(/** @type {{ natA?: NatKind, natB?: NatKind }} */ opts = {}) {
    const ns = this.ns;
    ns.add("inet");
    ns.exec("inet", ["ip", "link", "add", "br0", "type", "bridge"]);
    ns.exec("inet", ["ip", "addr", "add", `${PUBLIC_IP}/24`, "dev", "br0"]);
    ns.exec("inet", ["ip", "link", "set", "br0", "up"]);
    this.addHome("A", "10.77.0.11", 1, opts.natA ?? "eim");
    this.addHome("B", "10.77.0.12", 2, opts.natB ?? "eim");
    this.makeCert();
    await this.startCoturn();
    await this.startServer();
    return this;
  }

  /**
   * @param {string} name  "A" or "B"
   * @param {string} wanIp
   * @param {number} lanNet  192.168.<lanNet>.0/24
   * @param {NatKind} nat
   */
  addHome(name, wanIp, lanNet, nat) {
    const ns = this.ns;
    const role = `home${name}`;
    const client = `client${name}`;
    ns.add(role);
    ns.add(client);
    // IPv4 only: an IPv6 link-local address appearing a moment after link-up (DAD) makes a
    // freshly started Chromium abort its navigation with ERR_NETWORK_CHANGED.
    for (const r of [role, client]) ns.exec(r, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    ns.link(role, "wan0", "inet", `p${name}`);
    ns.exec("inet", ["ip", "link", "set", `p${name}`, "master", "br0", "up"]);
    ns.exec(role, ["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.promote_secondaries=1"]);
    ns.exec(role, ["ip", "addr", "add", `${wanIp}/24`, "dev", "wan0"]);
    ns.exec(role, ["ip", "link", "set", "wan0", "up"]);
    ns.link(role, "lan0", client, "eth0");
    ns.exec(role, ["ip", "addr", "add", `192.168.${lanNet}.1/24`, "dev", "lan0"]);
    ns.exec(role, ["ip", "link", "set", "lan0", "up"]);
    ns.exec(client, ["ip", "addr", "add", `192.168.${lanNet}.2/24`, "dev", "eth0"]);
    ns.exec(client, ["ip", "link", "set", "eth0", "up"]);
    ns.exec(client, ["ip", "route", "add", "default", "via", `192.168.${lanNet}.1`]);
    this.homes[name] = { role, client, wanIp, lanNet, nat };
    this.setNat(name, nat);
  }

  /**
   * NAT on the home's WAN side. `eim`: Linux masquerade keeps the source port when it can, so
   * one inside socket maps to one outside port whatever the destination (hole punching
   * works). `symmetric`: every new flow gets a random outside port (`fully-random`), so the
   * port learnt via STUN is useless towards the peer.
   * @param {string} name
   * @param {NatKind} nat
   */
  setNat(name, nat) {
    const home = this.homes[name];
    home.nat = nat;
    this.ns.nft(home.role, [
      "table ip parley_nat",
      "delete table ip parley_nat",
      "table ip parley_nat {",
      "  chain post { type nat hook postrouting priority srcnat; policy accept;",
      `    oifname "wan0" masquerade${nat === "symmetric" ? " fully-random" : ""}`,
      "  }",
      // Like a home router: unsolicited packets from outside are dropped before conntrack
      // confirms them. Otherwise a peer's early check would leave an inbound entry that clashes
      // with our own later outbound flow, and masquerade would pick another port for it.
      "  chain in { type filter hook input priority filter; policy accept;",
      '    iifname "wan0" ct state new drop',
      "  }",
      "}",
    ].join("\n"));
  }

  /**
   * Firewall in a home: drop all UDP from its LAN (STUN, TURN/UDP, media), and with
   * `tlsOnly` also plain TCP to port 3478, so only TURN over TLS gets out; with `noTls` TCP to
   * 5349, so only plain TURN over TCP does.
   * @param {string} name
   * @param {{ tlsOnly?: boolean, noTls?: boolean }} [opts]
   */
  blockUdp(name, opts = {}) {
    const home = this.homes[name];
    this.ns.nft(home.role, [
      "table inet parley_fw {",
      "  chain forward_lan { type filter hook forward priority filter; policy accept;",
      '    iifname "lan0" meta l4proto udp drop',
      opts.tlsOnly ? '    iifname "lan0" tcp dport 3478 drop' : "",
      opts.noTls ? '    iifname "lan0" tcp dport 5349 drop' : "",
      "  }",
      "}",
    ].join("\n"));
  }

  /**
   * The home's public address changes (a new lease, a CGNAT rebinding): the new address is
   * added, the old one removed. Masquerade forgets the old flows with the old address, so every
   * mapping the peers knew is gone; nothing inside the home notices.
   * @param {string} name
   * @param {string} newIp
   */
  changePublicAddress(name, newIp) {
    const home = this.homes[name];
    this.ns.exec(home.role, ["ip", "addr", "add", `${newIp}/24`, "dev", "wan0"]);
    this.ns.exec(home.role, ["ip", "addr", "del", `${home.wanIp}/24`, "dev", "wan0"]);
    home.wanIp = newIp;
    // Flows that outlived the address (conntrack entries) must not keep the old mapping.
    if (run("which", ["conntrack"], { check: false }).status === 0) {
      this.ns.exec(home.role, ["conntrack", "-F"], { check: false });
    }
  }

  makeCert() {
    this.cert = join(this.tmp, "cert.pem");
    this.key = join(this.tmp, "key.pem");
    run("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", this.key, "-out", this.cert, "-days", "2", "-subj", "/CN=parley-nat-lab",
      "-addext", `subjectAltName=IP:${PUBLIC_IP}`,
    ]);
    // Chromium trusts exactly this key (no CA install): base64 SHA-256 of the SPKI.
    const spki = run("sh", ["-c", `openssl x509 -in '${this.cert}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`]);
    this.spkiHash = spki.stdout.trim();
  }

  /**
   * Spawns a command inside a namespace, its output kept as a named log.
   * @param {string} role
   * @param {string[]} argv
   * @param {string} logName
   * @param {Record<string, string>} [env]
   */
  spawnIn(role, argv, logName, env = {}) {
    const child = spawn("ip", ["netns", "exec", this.ns.name(role), ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    this.children.push(child);
    this.logs.set(logName, "");
    const add = (/** @type {Buffer} */ d) => this.logs.set(logName, (this.logs.get(logName) ?? "") + d.toString());
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    return child;
  }

  /** coturn with config/turnserver.conf (plus the lab's allowed-peer-ip exception). */
  async startCoturn() {
    this.turnLog = join(this.tmp, "turnserver.log");
    const conf = fill(readFileSync(join(configDir, "turnserver.conf"), "utf8"), {
      PUBLIC_IP,
      REALM: "parley-lab",
      SECRET: this.turnSecret,
      CERT: this.cert ?? "",
      KEY: this.key ?? "",
      LOG_FILE: this.turnLog,
      PID_FILE: join(this.tmp, "turnserver.pid"),
    });
    const path = join(this.tmp, "turnserver.conf");
    // Lab only: its "internet" is a private range; verbose logs name each accepted allocation.
    writeFileSync(path, `${conf}\n# NAT lab only\n${LAB_ALLOWED_PEERS}\nverbose\n`);
    const argv = execStart("coturn.service", { CONFIG: path });
    this.spawnIn("inet", argv, "coturn");
    await waitFor(() => /Total General servers|Total auth threads/.test(this.coturnLog()), "coturn to start", 15_000);
    await waitFor(() => this.listening("inet", 3478) && this.listening("inet", 5349), "coturn listening", 15_000);
  }

  /** Everything coturn logged so far. */
  coturnLog() {
    try {
      return readFileSync(this.turnLog ?? "", "utf8");
    } catch {
      return this.logs.get("coturn") ?? "";
    }
  }

  /**
   * @param {string} role
   * @param {number} port
   */
  listening(role, port) {
    const out = this.ns.exec(role, ["ss", "-Hltn", `sport = :${port}`], { check: false }).stdout;
    return out.trim().length > 0;
  }

  /** parley-server with config/parley-server.service's command line. */
  async startServer() {
    const argv = execStart("parley-server.service", {
      BIN_DIR: dirname(serverBinary()),
      PUBLIC_IP,
      PUBLIC_HOST: PUBLIC_IP,
      UI_DIR: uiDist,
      CERT: this.cert ?? "",
      KEY: this.key ?? "",
    });
    if (!this.offerTurn) {
      for (let i = argv.indexOf("--turn"); i >= 0; i = argv.indexOf("--turn")) argv.splice(i, 2);
    }
    // Generous limits: the benchmark makes many rooms from the same two addresses.
    argv.push("--join-attempts", "10000", "--max-conns-per-ip", "1000");
    const env = this.offerTurn ? { PARLEY_TURN_SECRET: this.serverSecret } : {};
    this.spawnIn("inet", argv, "server", { ...env, RUST_LOG: "info" });
    await waitFor(() => this.listening("inet", 443), "parley-server listening on 443", 20_000);
  }

  /**
   * A call party: headless Chromium inside home `name`'s client namespace, on the UI served by
   * parley-server. Playwright talks to it over the DevTools pipe, which `ip netns exec` keeps.
   * @param {string} name
   * @param {{ query?: Record<string, string> }} [opts]
   */
  async party(name, opts = {}) {
    const home = this.homes[name];
    const wrapper = join(this.tmp, `chromium-${name}.sh`);
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${this.ns.name(home.client)} ${chromiumPath} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const profile = mkdtempSync(join(this.tmp, `profile-${name}-`));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: wrapper,
      headless: true,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        `--ignore-certificate-errors-spki-list=${this.spkiHash}`,
        // Diagnostics, e.g. NAT_CHROMIUM_ARGS="--enable-logging=stderr --vmodule=*/webrtc/*=1"
        // (shown with DEBUG=pw:browser).
        ...(process.env.NAT_CHROMIUM_ARGS ?? "").split(" ").filter(Boolean),
      ],
      viewport: { width: 960, height: 640 },
      locale: "en-US",
      timeout: 30_000,
    });
    this.closers.push(() => context.close().catch(() => {}));
    await context.addInitScript({ content: probeSource });
    // Marks the page once its signaling session got `welcome` (the bench clicks only after it).
    await context.addInitScript({
      content: `(() => { const WS = window.WebSocket; window.WebSocket = class extends WS {
        constructor(...a) { super(...a); this.addEventListener("message", (e) => {
          if (typeof e.data === "string" && e.data.includes('"welcome"')) window.__natWelcomed = true; }); } }; })();`,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    /** @type {string[]} */
    const lines = [];
    page.on("console", (m) => {
      lines.push(`${m.type()}: ${m.text()}`);
      if (process.env.NAT_DEBUG) console.error(`[${name}] ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => lines.push(`pageerror: ${e.message}`));
    const url = new URL("/", this.origin);
    url.searchParams.set("lang", "en");
    // The UI's default STUN servers are public; the lab uses only what `welcome` names.
    url.searchParams.set("stun", "");
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    // A Chromium just started may still see its network settle and abort the first navigation
    // (ERR_NETWORK_CHANGED); that is not what the lab tests, so the load is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        await page.goto(url.toString());
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    return { name, context, page, consoleLog: () => lines.join("\n") };
  }

  /** What went on, for a failure message. */
  diagnostics() {
    return [
      `--- parley-server\n${(this.logs.get("server") ?? "").slice(-4000)}`,
      `--- coturn\n${this.coturnLog().slice(-6000)}`,
    ].join("\n");
  }

  /** Stops browsers and processes, deletes the namespaces and temp files. */
  async close() {
    for (const c of this.closers.reverse()) await c();
    for (const child of this.children) if (child.exitCode === null) child.kill("SIGTERM");
    this.ns.removeAll();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
