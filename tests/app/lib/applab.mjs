// A two-host LAN of network namespaces for the app suite:
//
//   app  10.91.0.1 (Xvfb, tauri-driver -> WebKitWebDriver -> parley) --+-- lan: bridge br0
//   node 10.91.0.2 (parley-node, the knocking caller)                  --+
//
// Namespaces of a run are named `papp-<pid>-<rand>-<role>` and deleted at the end with
// everything still running in them, even on failure; a crashed run's leftovers (pid gone) are
// deleted by the next run. Nothing is created in the root namespace, so fixed addresses and
// ports are parallel-safe. Processes print lines; tests wait on those lines, never on time.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Namespaces, run } from "../../nat/lib/netns.mjs";
import { WAIT_MS, WebDriver, waitFor } from "./webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
const target = process.env.CARGO_TARGET_DIR ? resolve(repoRoot, process.env.CARGO_TARGET_DIR) : join(repoRoot, "target");
/** The app binary under test (PARLEY_APP_BIN, else the debug build). */
export const appBinary = process.env.PARLEY_APP_BIN ?? join(target, "debug", "parley");
const nodeBinary = process.env.PARLEY_NODE_BIN ?? join(target, "debug", "parley-node");
/** tauri-driver (TAURI_DRIVER, else the one scripts/install-deps.sh installs). */
export const tauriDriver = process.env.TAURI_DRIVER ?? join(repoRoot, ".tools", "bin", "tauri-driver");
/** The app's device server port (a fresh namespace has it free). */
export const APP_PORT = 7878;
export const HOSTS = /** @type {const} */ ({ app: "10.91.0.1", node: "10.91.0.2" });

/** A child process's stdout as lines, with waits on a line matching a predicate. */
export class Lines {
  /** @param {import("node:child_process").ChildProcess} child */
  constructor(child) {
    this.child = child;
    /** @type {string[]} */
    this.lines = [];
    /** @type {Array<() => void>} */
    this.listeners = [];
    let partial = "";
    child.stdout?.on("data", (/** @type {Buffer} */ chunk) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts.filter(Boolean));
      for (const l of [...this.listeners]) l();
    });
    child.on("exit", () => {
      for (const l of [...this.listeners]) l();
    });
  }

  /**
   * Resolves with the first JSON line (seen so far or later) that `match` accepts.
   * @param {string} what
   * @param {(line: any) => boolean} match
   * @param {{ timeoutMs?: number, from?: number }} [opts]  `from`: ignore lines before this index
   * @returns {Promise<any>}
   */
  async waitJson(what, match, opts = {}) {
    const line = await this.waitLine(what, (l) => {
      try {
        return match(JSON.parse(l));
      } catch {
        return false;
      }
    }, opts);
    return JSON.parse(line);
  }

  /**
   * Resolves with the first line (seen so far or later) that `match` accepts; fails when the
   * process exits first or after `timeoutMs`.
   * @param {string} what
   * @param {(line: string) => boolean} match
   * @param {{ timeoutMs?: number, from?: number }} [opts]  `from`: ignore lines before this index
   * @returns {Promise<string>}
   */
  waitLine(what, match, { timeoutMs = WAIT_MS, from = 0 } = {}) {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const hit = this.lines.slice(from).find(match);
        if (hit !== undefined) return done(() => resolvePromise(hit));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`${what}: the process exited (${this.child.exitCode ?? this.child.signalCode}); it printed:\n${this.lines.slice(-20).join("\n")}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; seen:\n${this.lines.slice(-20).join("\n")}`))), timeoutMs);
      const done = (/** @type {() => void} */ settle) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        settle();
      };
      this.listeners.push(check);
      check();
    });
  }
}

/** The lab: namespaces, display, driver, node. Use `start()`, and always `close()`. */
export class AppLab {
  constructor() {
    this.namespaces = new Namespaces("papp-");
    this.tmp = mkdtempSync(join(tmpdir(), "parley-app-"));
    /** @type {import("node:child_process").ChildProcess[]} */
    this.children = [];
    /** @type {Map<string, string>} */
    this.logs = new Map();
    /** The app's data directory (XDG_DATA_HOME), kept across app restarts. */
    this.appHome = join(this.tmp, "app-home");
    this.driverSocket = join(this.tmp, "driver.sock");
    this.driver = new WebDriver({ socketPath: this.driverSocket });
    // Interrupted (Ctrl-C, a CI timeout): still delete the namespaces and what runs in them.
    for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
      process.once(signal, () => {
        this.closeNow();
        process.exit(130);
      });
    }
  }

  /** @param {string} role */
  ns(role) {
    return this.namespaces.name(role);
  }

  /**
   * @param {string} role
   * @param {string[]} cmd
   */
  exec(role, cmd) {
    return this.namespaces.exec(role, cmd);
  }

  /**
   * A host on the bridge: eth0 with `ip`/24 and a multicast route (mDNS), IPv6 off so no
   * address appears late (duplicate address detection) and changes what mDNS announces.
   * @param {"app" | "node"} role
   */
  addHost(role) {
    this.namespaces.add(role);
    this.exec(role, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    this.namespaces.link(role, "eth0", "lan", `p-${role}`);
    this.exec("lan", ["ip", "link", "set", `p-${role}`, "master", "br0", "up"]);
    this.exec(role, ["ip", "addr", "add", `${HOSTS[role]}/24`, "dev", "eth0"]);
    this.exec(role, ["ip", "link", "set", "eth0", "up"]);
    this.exec(role, ["ip", "route", "add", "224.0.0.0/4", "dev", "eth0"]);
  }

  /**
   * Spawns a command inside a namespace; stdout is watched as lines, stderr kept as a log.
   * @param {string} role
   * @param {string[]} argv
   * @param {string} logName
   * @param {{ env?: Record<string, string>, stdin?: boolean, fd3?: boolean }} [opts]
   */
  spawnIn(role, argv, logName, opts = {}) {
    /** @type {Array<"pipe" | "ignore">} */
    const stdio = [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"];
    if (opts.fd3) stdio.push("pipe");
    /** @type {import("node:child_process").ChildProcess} */
    const child = spawn("ip", ["netns", "exec", this.ns(role), ...argv], {
      stdio,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
    });
    this.children.push(child);
    this.logs.set(logName, "");
    const add = (/** @type {Buffer} */ d) => {
      const log = (this.logs.get(logName) ?? "") + d.toString();
      this.logs.set(logName, log.length > 200_000 ? log.slice(-100_000) : log);
    };
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    return { child, lines: new Lines(child) };
  }

  /** Builds the LAN, starts Xvfb and tauri-driver in the app's namespace. */
  async start() {
    for (const [what, path] of [["app", appBinary], ["parley-node", nodeBinary], ["tauri-driver", tauriDriver]]) {
      if (!existsSync(path)) throw new Error(`missing ${what}: ${path}`);
    }
    this.namespaces.add("lan");
    this.exec("lan", ["ip", "link", "add", "br0", "type", "bridge"]);
    this.exec("lan", ["ip", "link", "set", "br0", "up"]);
    this.addHost("app");
    this.addHost("node");

    // Xvfb picks a free display itself and writes its number to fd 3 once it accepts clients.
    const xvfb = this.spawnIn("app", ["Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], "xvfb", { fd3: true });
    this.display = await new Promise((resolveDisplay, reject) => {
      const fd3 = /** @type {import("node:stream").Readable} */ (xvfb.child.stdio[3]);
      let text = "";
      fd3.on("data", (d) => {
        text += d.toString();
        if (text.includes("\n")) resolveDisplay(`:${text.trim()}`);
      });
      xvfb.child.on("exit", (code) => reject(new Error(`Xvfb exited (${code}): ${this.logs.get("xvfb")}`)));
    });

    mkdirSync(this.appHome, { recursive: true });
    this.spawnIn("app", [tauriDriver, "--port", "4444", "--native-port", "4445", "--native-driver", "/usr/bin/WebKitWebDriver"], "app", {
      env: {
        DISPLAY: this.display,
        XDG_DATA_HOME: join(this.appHome, "data"),
        XDG_CONFIG_HOME: join(this.appHome, "config"),
        XDG_CACHE_HOME: join(this.appHome, "cache"),
        PARLEY_PORT: String(APP_PORT),
        PARLEY_SINGLE_INSTANCE: "0",
        PARLEY_MOCK_MEDIA: "1",
        RUST_LOG: process.env.RUST_LOG ?? "info", // e.g. parley_app::native_engine=debug when chasing a failure
        NO_AT_BRIDGE: "1",
      },
    });
    const forwarder = this.spawnIn("app", [process.execPath, join(here, "forward.mjs"), this.driverSocket, "4444"], "forward");
    await forwarder.lines.waitLine("the forwarder's socket", (l) => l === "listening", { timeoutMs: 10_000 });
    await waitFor("tauri-driver ready", () => this.driver.ready(), 30_000);
  }

  /** Launches the app through the driver; resolves once a session (and window) exists. */
  launchApp() {
    return this.driver.launch(appBinary);
  }

  /**
   * Quits the app the way the system does at logout (SIGTERM, which the app handles like
   * closing its window: goodbye on mDNS, server stopped), and waits until it has exited.
   * Ending a WebDriver session instead kills the app, which says no goodbye.
   */
  async quitApp() {
    const app = realpathSync(appBinary);
    const pids = run("ip", ["netns", "pids", this.ns("app")]).stdout.split(/\s+/).filter(Boolean).filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`) === app;
      } catch {
        return false; // exited meanwhile, or not ours to read
      }
    });
    if (pids.length === 0) throw new Error("the app is not running");
    for (const pid of pids) process.kill(Number(pid), "SIGTERM");
    await waitFor("the app to exit after SIGTERM", () => pids.every((pid) => !existsSync(`/proc/${pid}`)), 15_000);
  }

  /**
   * Saves a PNG of the app's X screen, what a user would see. (WebDriver's screenshot never
   * answers when WebKit's accelerated compositing is off, PARLEY_WEBKIT_COMPOSITING=0.)
   * @param {string} file
   * @returns {string} file
   */
  screenshot(file) {
    this.exec("app", ["import", "-display", this.display ?? "", "-window", "root", file]);
    return file;
  }

  /** The app's settings as saved on disk. */
  appSettings() {
    return JSON.parse(readFileSync(join(this.appHome, "data", "app.parley.desktop", "settings.json"), "utf8"));
  }

  /**
   * A parley-node named `name` on the node host; its stdout events as JSON lines, and its
   * `listening` event (port, owner token).
   * @param {string} name
   * @param {string[]} [extraArgs]  more parley-node options, e.g. `--static-dir`
   */
  async startNode(name, extraArgs = []) {
    const node = this.spawnIn("node", [nodeBinary, "--name", name, "--data-dir", join(this.tmp, "node-data"), ...extraArgs], "node", { stdin: true });
    const listening = await node.lines.waitJson("parley-node listening", (e) => e.event === "listening");
    return { ...node, listening };
  }

  /**
   * A caller on the node host knocking on the app's device server; its stdout is the server's
   * messages. Closing its stdin cancels the knock.
   * @param {string} callerName
   */
  knock(callerName) {
    const device = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
    return this.spawnIn("node", [process.execPath, "--experimental-websocket", "--no-warnings", join(here, "knock.mjs"), `ws://${HOSTS.app}:${APP_PORT}/ws`, callerName, device], "knock", { stdin: true });
  }

  /** The end of every log, for a failure message. */
  diagnostics() {
    return [...this.logs].map(([name, log]) => `--- ${name}\n${log.slice(-4000)}`).join("\n");
  }

  /** Stops everything, deletes the namespaces and temp files. */
  async close() {
    const running = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = Promise.all(running.map((c) => new Promise((r) => c.once("exit", r))));
    for (const child of running) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]); // bounded grace period
    this.closeNow();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]); // reap the killed ones
  }

  /** Deletes the namespaces, killing what still runs in them (also usable in a signal handler). */
  closeNow() {
    this.namespaces.removeAll();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
