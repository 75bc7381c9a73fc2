#!/usr/bin/env node
// Does an unreachable STUN server slow a call down on a network without internet? (issue 7:
// should LAN calls use the default STUN servers?) Not a test: it measures. Run it inside a
// namespace whose only way out is a black hole, so no packet can leave the machine:
//
//   sudo tests/nat/stun-offline-bench.sh [--runs 10]
//
// Two Chromiums and parley-server in that namespace make room calls; per STUN setting, the time
// from B's "Join" click to both sides "connected" and to both first remote frames, and when
// ICE gathering completed on B (the UI does not wait for it: candidates trickle).
import { parseArgs } from "node:util";
import { launchParty, uiUrl } from "../../ui/e2e/lib/browser.mjs";
import { Scope } from "../../ui/e2e/lib/scope.mjs";
import { startPublicServer } from "../../ui/e2e/lib/server.mjs";
import { createRoom, joinRoom, marks, waitConnected } from "../../ui/e2e/lib/ui.mjs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const runs = Number(values.runs);
const SETTINGS = {
  "none (?stun=)": "",
  "default (names, no DNS)": "stun:stun.l.google.com:19302, stun:stun.cloudflare.com:3478",
  "black-holed IP": "stun:192.0.2.1:3478",
};

/** Nearest-rank percentile. @param {number[]} xs @param {number} p */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? NaN;
}

// Records when each RTCPeerConnection finished gathering (page clock, comparable to marks).
const GATHER_PROBE = `(() => {
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...a) {
      super(...a);
      this.addEventListener("icegatheringstatechange", () => {
        if (this.iceGatheringState === "complete" && !window.__gathered) window.__gathered = performance.timeOrigin + performance.now();
      });
    }
  };
})();`;

const scope = new Scope();
try {
  const server = await startPublicServer();
  scope.defer(() => server.stop());
  /** @type {Record<string, {connected: number[], frame: number[], gathered: number[]}>} */
  const results = {};
  for (const [label, stun] of Object.entries(SETTINGS)) {
    const r = (results[label] = { connected: [], frame: [], gathered: [] });
    const home = uiUrl(server.origin, { lang: "en", stun });
    for (let i = 0; i < runs; i++) {
      const runScope = new Scope();
      try {
        const [a, b] = await Promise.all([launchParty(runScope, "A"), launchParty(runScope, "B")]);
        for (const p of [a, b]) await p.context.addInitScript({ content: GATHER_PROBE });
        await Promise.all([a.page.goto(home), b.page.goto(home)]);
        const code = await createRoom(a.page);
        await joinRoom(b.page, code);
        await Promise.all([waitConnected(a.page, 60_000), waitConnected(b.page, 60_000)]);
        for (const p of [a, b]) {
          await p.page.waitForFunction(() => "firstRemoteFrame" in /** @type {any} */ (window).__e2e.marks, null, { timeout: 60_000 });
        }
        const [ma, mb] = await Promise.all([marks(a.page), marks(b.page)]);
        const t0 = mb["click:join"];
        r.connected.push(Math.max(ma["callState:connected"], mb["callState:connected"]) - t0);
        r.frame.push(Math.max(ma.firstRemoteFrame, mb.firstRemoteFrame) - t0);
        const gathered = await b.page
          .waitForFunction(() => /** @type {any} */ (window).__gathered, null, { timeout: 60_000 })
          .then((h) => h.jsonValue())
          .catch(() => NaN);
        r.gathered.push(gathered - t0);
      } finally {
        await runScope.close();
      }
    }
    const fmt = (/** @type {number[]} */ xs) => `p50 ${pct(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(`${label}: both connected ${fmt(r.connected)}; both first frames ${fmt(r.frame)}; B's gathering complete ${fmt(r.gathered)} (n=${runs})`);
  }
} finally {
  await scope.close();
}
