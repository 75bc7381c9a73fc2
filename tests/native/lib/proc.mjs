// What the benchmarks read from the command line and /proc (tests/native/bench.mjs,
// tests/app/bench-tile.mjs).
import { readFileSync, readdirSync } from "node:fs";

const TICK = 100; // clock ticks per second in /proc/<pid>/stat

/** The value after `--name` on the command line, else `dflt`. @param {string} name @param {string} dflt */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};

/** CPU seconds used so far by these pids (all their threads). @param {number[]} pids */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* exited */
    }
  }
  return ticks / TICK;
}

/** Pids whose command line mentions `needle` (a Chromium profile dir: all its processes). */
export function pidsWith(/** @type {string} */ needle) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The 1, 5 and 15 minute load averages. */
export const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
