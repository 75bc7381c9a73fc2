// NAT lab benchmark (docs/benchmarks.md "## NAT lab"): call setup time per scenario, RTT on the
// selected pair (relay overhead vs the srflx path), and recovery after a NAT rebinding.
// Usage (root): node tests/nat/bench.mjs [--runs 10]   (after `make build`)
import { click, marks, waitVisible } from "../../ui/e2e/lib/ui.mjs";
import { callStats, roomCall, waitPath, waitStallAndRecovery } from "./lib/calls.mjs";
import { Lab } from "./lib/lab.mjs";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;

/** @param {number[]} xs @param {number} q */
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
/** @param {number[]} xs */
const summary = (xs) => `p50 ${quantile(xs, 0.5)} · p90 ${quantile(xs, 0.9)} · min ${Math.min(...xs)} · max ${Math.max(...xs)}`;

/**
 * Reloads a page and waits for its signaling `welcome` (clicking before it would be refused).
 * @param {import("playwright-core").Page} page
 */
async function reloadOnline(page) {
  await page.reload();
  await page.waitForFunction(() => /** @type {any} */ (window).__natWelcomed === true, null, { timeout: 20_000, polling: 50 });
}

/**
 * One call: fresh pages, A makes a room, B joins; setup = B's click on "Join" until both show
 * "connected" (the probe's wall-clock marks, one machine, one clock).
 */
async function oneCall(a, b, path) {
  await Promise.all([reloadOnline(a.page), reloadOnline(b.page)]);
  await roomCall(a, b);
  const [ma, mb] = await Promise.all([marks(a.page), marks(b.page)]);
  const setupMs = Math.round(Math.max(ma["callState:connected"], mb["callState:connected"]) - mb["click:join"]);
  await Promise.all([waitPath(a.page, path), waitPath(b.page, path)]);
  const rtts = [];
  for (let i = 0; i < 5; i++) {
    const [sa, sb] = await Promise.all([callStats(a.page), callStats(b.page)]);
    for (const s of [sa, sb]) if (s && s.path === path && typeof s.rttMs === "number") rtts.push(s.rttMs);
    await a.page.waitForTimeout(1000); // RTT sampling period (getStats updates about once a second)
  }
  return { setupMs, rtts };
}

async function hangup(a, b) {
  await click(a.page, "hangup");
  await Promise.all([waitVisible(a.page, "call-ended"), waitVisible(b.page, "call-ended")]);
}

const scenarios = [
  { name: "1. both endpoint-independent NAT", path: "stun", start: { natA: "eim", natB: "eim" } },
  { name: "2. one symmetric NAT (TURN/UDP)", path: "relay", start: { natA: "symmetric", natB: "eim" } },
  { name: "3a. UDP blocked (TURN/TCP)", path: "relay", start: {}, setup: (lab) => lab.blockUdp("A") },
  { name: "3b. UDP + TCP 3478 blocked (TURN/TLS)", path: "relay", start: {}, setup: (lab) => lab.blockUdp("A", { tlsOnly: true }) },
];

const rows = [];
for (const sc of scenarios) {
  const lab = new Lab();
  try {
    await lab.start(sc.start);
    sc.setup?.(lab);
    const [a, b] = await Promise.all([lab.party("A"), lab.party("B")]);
    const setups = [];
    const rtts = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await oneCall(a, b, sc.path);
      setups.push(r.setupMs);
      rtts.push(...r.rtts);
      await hangup(a, b);
    }
    rows.push({ name: sc.name, setups, rtts });
    console.error(`${sc.name}: setup ${summary(setups)} ms; rtt p50 ${quantile(rtts, 0.5)} ms`);
  } finally {
    await lab.close();
  }
}

// NAT rebinding: A's public address flips between two addresses mid-call, one call per run.
const recoveries = [];
{
  const lab = new Lab();
  try {
    await lab.start({});
    const [a, b] = await Promise.all([lab.party("A"), lab.party("B")]);
    for (let i = 0; i < RUNS; i++) {
      await Promise.all([reloadOnline(a.page), reloadOnline(b.page)]);
      await roomCall(a, b);
      await Promise.all([waitPath(a.page, "stun"), waitPath(b.page, "stun")]);
      const t0 = Date.now();
      lab.changePublicAddress("A", i % 2 === 0 ? "10.77.0.21" : "10.77.0.11");
      const r = await waitStallAndRecovery([a.page, b.page], t0, { timeoutMs: 30_000 });
      recoveries.push(r.recoveryMs);
      console.error(`rebinding run ${i + 1}: video back after ${r.recoveryMs} ms`);
      await hangup(a, b);
    }
  } finally {
    await lab.close();
  }
}

const direct = rows[0] ? quantile(rows[0].rtts, 0.5) : null;
console.log(`NAT lab, ${RUNS} calls per scenario, ${new Date().toISOString().slice(0, 16)}Z\n`);
console.log("| scenario | selected path | call setup p50 (p90, min-max) | RTT p50 on the pair |");
console.log("| --- | --- | --- | --- |");
for (const r of rows) {
  const path = r.name.startsWith("1.") ? "srflx ↔ srflx" : "relay";
  const rtt = quantile(r.rtts, 0.5);
  const extra = direct !== null && !r.name.startsWith("1.") ? ` (+${rtt - direct} ms vs direct)` : "";
  console.log(`| ${r.name} | ${path} | ${quantile(r.setups, 0.5)} ms (${quantile(r.setups, 0.9)}, ${Math.min(...r.setups)}-${Math.max(...r.setups)}) | ${rtt} ms${extra} |`);
}
console.log(`\nNAT rebinding (A's public address changes mid-call), video back on both sides: ${summary(recoveries)} ms`);
