// Network namespaces of one lab run: creation, commands inside them, and sure removal.
// Every namespace of a run is named `pnat-<pid>-<rand>-<role>`; a run's leftovers (its pid is
// gone) are removed by the next run, so parallel runs never collide and a crash leaks nothing
// for long.
import { execFileSync, spawnSync } from "node:child_process";

export const PREFIX = "pnat-";

/**
 * Runs a command, throwing with its stderr on failure.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ input?: string, check?: boolean }} [opts]
 */
export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: "utf8", input: opts.input });
  if ((opts.check ?? true) && res.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}): ${res.stderr || res.stdout}`);
  }
  return res;
}

/** Names of all namespaces. */
export function listNamespaces() {
  const out = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  return out.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === "EPERM";
  }
}

/** Kills everything still running in `ns`, then deletes it (retried: a dying process holds it). */
export function deleteNamespace(ns) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = run("ip", ["netns", "pids", ns], { check: false }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    run("ip", ["netns", "del", ns], { check: false });
    if (!listNamespaces().includes(ns)) return;
    // Cleanup retry pacing (not test synchronisation): wait for killed processes to exit.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  console.error(`natlab: could not delete namespace ${ns}`);
}

/**
 * Deletes namespaces of earlier runs whose process is gone.
 * @param {string} [prefix]  the kind of run (this lab's by default)
 */
export function removeStaleNamespaces(prefix = PREFIX) {
  for (const ns of listNamespaces()) {
    if (!ns.startsWith(prefix)) continue;
    const pid = Number(ns.slice(prefix.length).split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) deleteNamespace(ns);
  }
}

/** The namespaces of one run. */
export class Namespaces {
  /** @param {string} [prefix]  names are `<prefix><pid>-<rand>-<role>` */
  constructor(prefix = PREFIX) {
    removeStaleNamespaces(prefix);
    this.tag = `${prefix}${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    /** @type {string[]} */
    this.created = [];
  }

  /** @param {string} role */
  name(role) {
    return `${this.tag}-${role}`;
  }

  /**
   * Creates a namespace with loopback up.
   * @param {string} role
   */
  add(role) {
    const ns = this.name(role);
    run("ip", ["netns", "add", ns]);
    this.created.push(ns);
    this.exec(role, ["ip", "link", "set", "lo", "up"]);
    return ns;
  }

  /**
   * Runs a command inside a namespace.
   * @param {string} role
   * @param {string[]} cmd
   * @param {{ input?: string, check?: boolean }} [opts]
   */
  exec(role, cmd, opts) {
    return run("ip", ["netns", "exec", this.name(role), ...cmd], opts);
  }

  /**
   * Loads an nftables ruleset into a namespace.
   * @param {string} role
   * @param {string} ruleset
   */
  nft(role, ruleset) {
    this.exec(role, ["nft", "-f", "-"], { input: ruleset });
  }

  /**
   * A veth pair between two namespaces.
   * @param {string} roleA
   * @param {string} ifA
   * @param {string} roleB
   * @param {string} ifB
   */
  link(roleA, ifA, roleB, ifB) {
    run("ip", ["link", "add", ifA, "netns", this.name(roleA), "type", "veth", "peer", "name", ifB, "netns", this.name(roleB)]);
  }

  /** Deletes every namespace of this run (and whatever still runs inside). */
  removeAll() {
    for (const ns of this.created.reverse()) deleteNamespace(ns);
    this.created = [];
  }
}
