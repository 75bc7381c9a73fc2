// Runs `parley-native-peer` (the native GStreamer engine as a headless call party) and lets a
// test wait on what it reports (JSON lines on stdout) and send it commands (JSON lines on stdin).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "../../../ui/e2e/lib/env.mjs";

/** Path of the driver binary, honouring CARGO_TARGET_DIR like cargo does. */
export function nativePeerBinary() {
  if (process.env.PARLEY_NATIVE_PEER_BIN) return process.env.PARLEY_NATIVE_PEER_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repoRoot, process.env.CARGO_TARGET_DIR) : join(repoRoot, "target");
  return join(target, "debug", "parley-native-peer");
}

export const hasNativePeer = () => existsSync(nativePeerBinary());

/**
 * @typedef {Record<string, any>} Report
 * @typedef {object} NativePeer
 * @property {Report[]} reports            everything reported so far
 * @property {(pred: (r: Report) => boolean, what: string, timeout?: number) => Promise<Report>} waitFor
 * @property {(cmd: Record<string, unknown>) => void} command
 * @property {Promise<number | null>} exited  resolves with the exit code
 * @property {() => string} log
 * @property {number | undefined} pid
 * @property {() => Promise<void>} stop
 */

/**
 * Starts the native party.
 * @param {import("../../../ui/e2e/lib/scope.mjs").Scope} scope  stops it at the end
 * @param {string[]} args
 * @returns {NativePeer}
 */
export function startNativePeer(scope, args) {
  const child = spawn(nativePeerBinary(), args, { stdio: ["pipe", "pipe", "pipe"] });
  /** @type {Report[]} */
  const reports = [];
  /** @type {string[]} */
  const lines = [];
  /** @type {Array<() => void>} */
  let waiters = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.includes('"status"')) lines.push(`out: ${line}`);
    try {
      reports.push(JSON.parse(line));
    } catch {
      /* not a report */
    }
    wake();
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    lines.push(`err: ${line}`);
    if (lines.length > 400) lines.shift();
  });
  /** @type {number | null | undefined} */
  let code;
  const exited = new Promise((res) => {
    child.on("exit", (c) => {
      code = c;
      wake();
      res(c);
    });
  });
  const stop = async () => {
    if (code === undefined) {
      child.kill("SIGTERM");
      await exited;
    }
  };
  scope.defer(stop);
  return {
    reports,
    exited,
    pid: child.pid,
    log: () => lines.slice(-120).join("\n"),
    stop,
    command(cmd) {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
    },
    waitFor(pred, what, timeout = 30_000) {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`native peer never reported ${what}\n${lines.slice(-40).join("\n")}`)), timeout);
        const check = () => {
          for (const r of reports) {
            if (pred(r)) {
              clearTimeout(timer);
              res(r);
              return;
            }
          }
          if (code !== undefined) {
            clearTimeout(timer);
            rej(new Error(`native peer exited (${code}) before ${what}\n${lines.slice(-40).join("\n")}`));
            return;
          }
          waiters.push(check);
        };
        check();
      });
    },
  };
}
