// Starts real parley-server / parley-node processes on 127.0.0.1 and stops them for sure.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import { binary, tempDir, uiDist } from "./env.mjs";

/** @type {Set<import("node:child_process").ChildProcess>} */
const live = new Set();
// Last resort: a test process that dies must not leave servers behind.
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.once(sig, () => {
    for (const child of live) child.kill("SIGKILL");
    process.exit(130);
  });
}

// Generous limits so that parallel tests from one IP never trip parley-server's production
// rate limits (parley-node has no such flags: a device has one owner and few visitors).
const PERMISSIVE_LIMITS = [
  "--max-conns-per-ip", "1000",
  "--msg-rate", "10000",
  "--msg-burst", "10000",
  "--join-attempts", "10000",
  "--idle-timeout", "120",
];

/**
 * @typedef {object} ServerProcess
 * @property {string} origin   e.g. http://127.0.0.1:41234
 * @property {number} port
 * @property {string} wsUrl    e.g. ws://127.0.0.1:41234/ws
 * @property {string} [ownerToken] device mode only
 * @property {() => string} log  everything the process printed so far
 * @property {(signal?: NodeJS.Signals) => Promise<void>} stop
 */

/**
 * Spawns a server binary and resolves once it printed its address and /healthz answers.
 * @param {string} bin
 * @param {string[]} args
 * @param {{ timeoutMs?: number, env?: Record<string, string> }} [opts]
 * @returns {Promise<ServerProcess>}
 */
async function spawnServer(bin, args, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const child = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", RUST_LOG: process.env.RUST_LOG ?? "info", ...opts.env },
  });
  live.add(child);
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", (code, sig) => resolve({ code, sig })));
  child.once("exit", () => live.delete(child));

  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${bin} printed no address within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onLine = (/** @type {string} */ line) => {
      output += `${line}\n`;
      for (const m of line.matchAll(/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b/g)) {
        if (m[2] !== "0") {
          clearTimeout(timer);
          resolve({ host: m[1] === "0.0.0.0" ? "127.0.0.1" : m[1], port: Number(m[2]) });
          return;
        }
      }
    };
    createInterface({ input: /** @type {any} */ (child.stdout) }).on("line", onLine);
    createInterface({ input: /** @type {any} */ (child.stderr) }).on("line", onLine);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (${code ?? sig}) before listening:\n${output}`));
    });
  });

  const origin = `http://${addr.host}:${addr.port}`;
  await waitHealthy(origin, timeoutMs);
  let stopped = false;
  return {
    origin,
    port: addr.port,
    wsUrl: `ws://${addr.host}:${addr.port}/ws`,
    log: () => output,
    async stop(signal = "SIGTERM") {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Polls GET /healthz until it answers 200.
 * @param {string} origin
 * @param {number} timeoutMs
 */
async function waitHealthy(origin, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) return;
      lastErr = new Error(`healthz ${res.status}`);
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not synchronisation
  }
  throw new Error(`${origin}/healthz never answered: ${lastErr}`);
}

/**
 * Starts the public signaling server serving the built UI.
 * @param {{ port?: number, capacity?: number, extraArgs?: string[] }} [opts]
 */
export function startPublicServer(opts = {}) {
  const bin = binary("parley-server");
  const args = ["--bind", `127.0.0.1:${opts.port ?? 0}`, "--static-dir", uiDist, ...PERMISSIVE_LIMITS];
  if (opts.capacity) args.push("--capacity", String(opts.capacity));
  args.push(...(opts.extraArgs ?? []));
  return spawnServer(bin, args);
}

/**
 * Starts a device-mode server (the headless `parley-node`: embedded signaling server plus
 * discovery) with a known owner token, serving the UI itself (--static-dir) like a device on
 * a LAN does for a visiting phone.
 * @param {{ name?: string }} [opts]
 * @returns {Promise<ServerProcess>}
 */
export async function startDeviceServer(opts = {}) {
  const bin = binary("parley-node");
  const ownerToken = randomBytes(16).toString("hex");
  const data = tempDir("node");
  const args = [
    "--bind", "127.0.0.1",
    "--port", "0",
    "--name", opts.name ?? "E2E Device",
    "--owner-token", ownerToken,
    "--data-dir", data.path,
    // A private mDNS port keeps parallel test nodes from seeing each other or the LAN.
    "--mdns-port", String(20_000 + Math.floor(Math.random() * 20_000)),
  ];
  args.push("--static-dir", uiDist);
  let node;
  try {
    node = await spawnServer(bin, args);
  } catch (err) {
    data.remove();
    throw err;
  }
  const port = node.port;
  return {
    ...node,
    origin: `http://127.0.0.1:${port}`,
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    ownerToken,
    async stop(signal) {
      await node.stop(signal);
      data.remove();
    },
  };
}
