#!/usr/bin/env node
// Call-setup benchmark on loopback (docs/benchmarks.md, "Call setup"). Not a test: it measures.
//
//   node ui/e2e/bench.mjs [--runs 20] [--mode room|device|both] [--media video|audio]
//
// Room mode: A has created a room and waits; the clock starts when B clicks "Join" and stops
// when each side's call-state first reads "connected" and when each side's remote <video>
// presents its first frame (requestVideoFrameCallback). Device mode: B has knocked, the clock
// starts when A clicks "Accept". Times come from both browsers' wall clocks
// (performance.timeOrigin + now) on the same machine, so they are comparable.
import { parseArgs } from "node:util";
import { launchParty, uiUrl } from "./lib/browser.mjs";
import { hasBinary } from "./lib/env.mjs";
import { Scope } from "./lib/scope.mjs";
import { startDeviceServer, startPublicServer } from "./lib/server.mjs";
import { click, createRoom, joinRoom, marks, waitAttr, waitConnected, waitVisible } from "./lib/ui.mjs";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    mode: { type: "string", default: "both" },
    media: { type: "string", default: "video" },
  },
});
const runs = Number(values.runs);

/** @param {import("playwright-core").Page} page */
async function firstFrame(page) {
  await page.waitForFunction(() => "firstRemoteFrame" in (/** @type {any} */ (window).__e2e.marks), null, {
    timeout: 20_000,
  });
}

/**
 * Nearest-rank percentile.
 * @param {number[]} xs
 * @param {number} p
 */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? NaN;
}

/**
 * One setup: returns ms from the starting click to each milestone.
 * @param {import("playwright-core").Page} starter  the page whose click starts the clock
 * @param {string} clickId
 * @param {import("playwright-core").Page} a
 * @param {import("playwright-core").Page} b
 * @param {boolean} video
 */
async function measure(starter, clickId, a, b, video) {
  await Promise.all([waitConnected(a), waitConnected(b)]);
  if (video) await Promise.all([firstFrame(a), firstFrame(b)]);
  const [ma, mb, ms] = await Promise.all([marks(a), marks(b), marks(starter)]);
  const t0 = ms[`click:${clickId}`];
  if (t0 === undefined) throw new Error(`no click:${clickId} mark`);
  return {
    connectedA: ma["callState:connected"] - t0,
    connectedB: mb["callState:connected"] - t0,
    frameA: video ? ma.firstRemoteFrame - t0 : NaN,
    frameB: video ? mb.firstRemoteFrame - t0 : NaN,
  };
}

/** A setup that did not reach connected + first frame within the wait. */
function failed(/** @type {unknown} */ err) {
  console.error(`  setup failed: ${String(err).split("\n")[0]}`);
  return null;
}

/**
 * `from` hangs up; returns ms from its click until `other` shows the call ended.
 * @param {import("playwright-core").Page} from
 * @param {import("playwright-core").Page} other
 */
async function hangUp(from, other) {
  await click(from, "hangup");
  await Promise.all([waitVisible(from, "call-ended"), waitVisible(other, "call-ended")]);
  const [mf, mo] = await Promise.all([marks(from), marks(other)]);
  return mo.callEnded - mf["click:hangup"];
}

/**
 * @param {Scope} scope
 * @param {boolean} video
 */
async function benchRoom(scope, video) {
  const server = await startPublicServer();
  scope.defer(() => server.stop());
  const home = uiUrl(server.origin, { lang: "en", media: video ? undefined : "audio" });
  const [a, b] = await Promise.all([launchParty(scope, "A"), launchParty(scope, "B")]);
  const results = [];
  for (let i = 0; i < runs + 1; i++) {
    await Promise.all([a.page.goto(home), b.page.goto(home)]);
    const code = await createRoom(a.page);
    await waitVisible(b.page, "join-code");
    await joinRoom(b.page, code);
    // run 0 warms caches (first getUserMedia, codecs); a setup that never connects is counted.
    const r = await measure(b.page, "join", a.page, b.page, video).catch(failed);
    if (r) r.hangupOther = await hangUp(a.page, b.page);
    if (i > 0) results.push(r);
  }
  return results;
}

/**
 * @param {Scope} scope
 * @param {boolean} video
 */
async function benchDevice(scope, video) {
  const server = await startDeviceServer({ name: "Bench Device" });
  scope.defer(() => server.stop());
  const query = { lang: "en", media: video ? undefined : "audio" };
  const ownerUrl = uiUrl(server.origin, query, `owner=${server.ownerToken}`);
  const visitorUrl = uiUrl(server.origin, query);
  const [a, b] = await Promise.all([launchParty(scope, "A-owner"), launchParty(scope, "B-visitor")]);
  const results = [];
  for (let i = 0; i < runs + 1; i++) {
    // The owner URL differs only by its #owner= hash: leave the page first so it really reloads.
    await a.page.goto("about:blank");
    await Promise.all([a.page.goto(ownerUrl), b.page.goto(visitorUrl)]);
    // The owner must be online to ring; the visitor must see the device to knock.
    await waitAttr(a.page, "signaling-state", "data-state", "online");
    await waitVisible(b.page, "knock");
    await click(b.page, "knock");
    await waitVisible(a.page, "incoming-call");
    await click(a.page, "accept");
    const r = await measure(a.page, "accept", a.page, b.page, video).catch(failed);
    if (r) r.hangupOther = await hangUp(b.page, a.page);
    if (i > 0) results.push(r);
  }
  return results;
}

/**
 * @param {string} title
 * @param {Array<Record<string, number> | null>} all  null: a setup that never connected
 */
function report(title, all) {
  const results = /** @type {Array<Record<string, number>>} */ (all.filter((r) => r !== null));
  const rows = [
    ["connected, B", "connectedB"],
    ["connected, A", "connectedA"],
    ["first remote frame, B", "frameB"],
    ["first remote frame, A", "frameA"],
    ["hang-up shown on the other side", "hangupOther"],
  ];
  const failures = all.length - results.length;
  console.log(`\n${title}: ${all.length} runs, ${failures} did not connect within 20 s; ms from click\n`);
  console.log("| milestone | p50 | p95 | min | max |\n|---|---:|---:|---:|---:|");
  for (const [label, key] of rows) {
    const xs = results.map((r) => r[key]).filter((x) => Number.isFinite(x));
    if (xs.length === 0) continue;
    const f = (/** @type {number} */ x) => x.toFixed(0);
    console.log(`| ${label} | ${f(pct(xs, 0.5))} | ${f(pct(xs, 0.95))} | ${f(Math.min(...xs))} | ${f(Math.max(...xs))} |`);
  }
}

const scope = new Scope();
try {
  const video = values.media !== "audio";
  if (values.mode === "room" || values.mode === "both") {
    report("Room call: B clicks Join (A waiting in the room)", await benchRoom(scope, video));
  }
  if ((values.mode === "device" || values.mode === "both") && hasBinary("parley-node")) {
    report("Device call: A clicks Accept (B has knocked)", await benchDevice(scope, video));
  }
} finally {
  await scope.close();
}
