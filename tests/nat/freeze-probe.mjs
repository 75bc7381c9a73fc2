#!/usr/bin/env node
// Diagnostic for a remote <video> that stops presenting frames after NAT rebinding while the
// receiver still decodes (tests/nat/README.md: crossed ICE restart offers; fixed). Not a test. For each run: a
// call, home A's public address changes, then for 25 s both pages are sampled every 250 ms:
// frames the <video> element got (getVideoPlaybackQuality) and the receiver's inbound-rtp
// stats, and at the end what each side's peer connection holds and how the m=video sections
// changed. Usage: sudo [PROBE_VERBOSE=1] [PROBE_TOGGLE=1] node tests/nat/freeze-probe.mjs
// [--runs 5] [--query k=v ...]
import { parseArgs } from "node:util";
import { roomCall, waitPath } from "./lib/calls.mjs";
import { Lab } from "./lib/lab.mjs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, query: { type: "string", multiple: true, default: [] } } });
const query = Object.fromEntries(values.query.map((kv) => kv.split("=")));

/** @param {import("playwright-core").Page} page */
function sample(page) {
  return page.evaluate(async () => {
    const v = /** @type {HTMLVideoElement | null} */ (document.querySelector('[data-testid="remote-video"]'));
    const q = v?.getVideoPlaybackQuality();
    const pcs = /** @type {any} */ (window).__e2e?.pcs ?? [];
    let rtp = null;
    const ssrcs = [];
    for (const pc of pcs) {
      (await pc.getStats()).forEach((/** @type {any} */ s) => {
        if (s.kind !== "video" || (s.type !== "inbound-rtp" && s.type !== "outbound-rtp")) return;
        if (s.type === "inbound-rtp") rtp = s;
        ssrcs.push(`${s.type[0]}${s.ssrc}:${s.framesDecoded ?? s.framesEncoded}`);
      });
    }
    return {
      ssrcs: ssrcs.join(" "),
      el: q ? q.totalVideoFrames : -1,
      dropped: q ? q.droppedVideoFrames : -1,
      t: v ? Number(v.currentTime.toFixed(2)) : -1,
      dec: rtp?.framesDecoded ?? -1,
      drop: rtp?.framesDropped ?? -1,
      jb: rtp && rtp.jitterBufferEmittedCount ? Math.round((1000 * rtp.jitterBufferDelay) / rtp.jitterBufferEmittedCount) : -1,
      jbTarget: rtp && rtp.jitterBufferEmittedCount ? Math.round((1000 * (rtp.jitterBufferTargetDelay ?? 0)) / rtp.jitterBufferEmittedCount) : -1,
      pause: rtp?.totalPausesDuration ?? -1,
      freeze: rtp?.freezeCount ?? -1,
    };
  });
}

// Keeps every RTCPeerConnection reachable for getStats.
const KEEP_PCS = `(() => { const PC = window.RTCPeerConnection; const list = [];
  window.RTCPeerConnection = class extends PC { constructor(...a) { super(...a); list.push(this); } };
  Object.defineProperty(window, "__e2e_pcs_list", { value: list });
  const wait = setInterval(() => { if (window.__e2e) { window.__e2e.pcs = list; clearInterval(wait); } }, 10); })();`;

/** What a page's call holds: shown tracks, peer connections, transceivers, video SSRC lines. */
const describe = (/** @type {import("playwright-core").Page} */ page) => page.evaluate(async () => {
  const v = /** @type {HTMLVideoElement | null} */ (document.querySelector('[data-testid="remote-video"]'));
  const shown = v?.srcObject instanceof MediaStream ? v.srcObject.getTracks().map((t) => `${t.kind}:${t.id.slice(0, 8)}:${t.readyState}`) : [];
  const pcs = /** @type {any} */ (window).__e2e?.pcs ?? [];
  const out = [];
  for (const pc of pcs) {
    const rtp = [];
    (await pc.getStats()).forEach((/** @type {any} */ s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") rtp.push(`ssrc=${s.ssrc} mid=${s.mid} track=${String(s.trackIdentifier).slice(0, 8)} dec=${s.framesDecoded}`);
    });
    out.push({
      state: pc.connectionState,
      transceivers: pc.getTransceivers().map((/** @type {any} */ t) => `${t.mid}:${t.receiver.track.kind}:${t.receiver.track.id.slice(0, 8)}:${t.currentDirection}`),
      rtp,
    });
  }
  const videoSsrcLines = (/** @type {string | undefined} */ sdp) => {
    const video = (sdp ?? "").split("m=video")[1] ?? "";
    return video.split("\r\n").filter((l) => /^a=(ssrc|msid|send|recv|inactive|ssrc-group)/.test(l)).map((l) => l.slice(0, 60));
  };
  const pc0 = pcs[0];
  return { shown, pcs: out, remoteType: pc0?.remoteDescription?.type, remoteSsrc: videoSsrcLines(pc0?.remoteDescription?.sdp), localType: pc0?.localDescription?.type, localSsrc: videoSsrcLines(pc0?.localDescription?.sdp) };
});

/** Video m-section lines of an SDP that say what the stream is (for before/after diffs). */
const VIDEO_SECTION = (/** @type {import("playwright-core").Page} */ page) => page.evaluate(() => {
  const pc = /** @type {any} */ (window).__e2e?.pcs?.[0];
  const video = (/** @type {string | undefined} */ sdp) => ((sdp ?? "").split("m=video")[1] ?? "").split("\r\n").filter((l) => !/^a=(candidate|ice-|fingerprint|setup|end-of-candidates)/.test(l));
  return { local: video(pc?.localDescription?.sdp), remote: video(pc?.remoteDescription?.sdp), localType: pc?.localDescription?.type };
});

for (let run = 1; run <= Number(values.runs); run++) {
  const lab = new Lab();
  try {
    await lab.start({});
    const parties = await Promise.all([lab.party("A", { query }), lab.party("B", { query })]);
    for (const p of parties) {
      await p.context.addInitScript({ content: KEEP_PCS });
      await p.page.reload();
    }
    const [a, b] = parties;
    await roomCall(a, b);
    await Promise.all([waitPath(a.page, "stun"), waitPath(b.page, "stun")]);
    const before = await Promise.all([a.page, b.page].map(VIDEO_SECTION));
    const t0 = Date.now();
    lab.changePublicAddress("A", "10.77.0.21");
    /** @type {Record<string, any[]>} */
    const series = { A: [], B: [] };
    let toggled = false;
    while (Date.now() - t0 < 25_000) {
      // Experiment (PROBE_TOGGLE=1): at 12 s, a frozen side renegotiates its video receive
      // direction off and on again, to see whether a new receive pipeline brings frames back.
      if (process.env.PROBE_TOGGLE && !toggled && Date.now() - t0 > 12_000) {
        toggled = true;
        for (const [name, page] of /** @type {const} */ ([["A", a.page], ["B", b.page]])) {
          const s = series[name];
          const frozen = s.length > 8 && s.at(-1).el === s.at(-8).el;
          if (!frozen) continue;
          console.log(`run ${run} ${name}: frozen at 12 s, toggling its video direction`);
          await page.evaluate(async () => {
            const pc = /** @type {any} */ (window).__e2e.pcs[0];
            const t = pc.getTransceivers().find((/** @type {any} */ x) => x.receiver.track.kind === "video");
            t.direction = "sendonly";
            await new Promise((r) => setTimeout(r, 1500));
            t.direction = "sendrecv";
          });
        }
      }
      const [sa, sb] = await Promise.all([sample(a.page), sample(b.page)]);
      series.A.push({ ms: Date.now() - t0, ...sa });
      series.B.push({ ms: Date.now() - t0, ...sb });
      await new Promise((r) => setTimeout(r, 250)); // sampling period
    }
    const details = await Promise.all([a.page, b.page].map(describe));
    const afterSections = await Promise.all([a.page, b.page].map(VIDEO_SECTION));
    ["A", "B"].forEach((name, i) => {
      for (const side of /** @type {const} */ (["local", "remote"])) {
        const gone = before[i][side].filter((l) => !afterSections[i][side].includes(l));
        const added = afterSections[i][side].filter((l) => !before[i][side].includes(l));
        console.log(`run ${run} ${name} (${before[i].localType}->${afterSections[i].localType}) ${side} video section: -${JSON.stringify(gone)} +${JSON.stringify(added)}`);
      }
    });
    console.log(`run ${run} details A=${JSON.stringify(details[0])}`);
    console.log(`run ${run} details B=${JSON.stringify(details[1])}`);
    for (const [name, s] of Object.entries(series)) {
      const last = s.at(-1);
      const elAt20 = s.find((x) => x.ms >= 20_000);
      const frozen = last.el === elAt20?.el;
      console.log(`run ${run} ${name}: ${frozen ? "FROZEN" : "ok"} last=${JSON.stringify(last)}`);
      if (process.env.PROBE_VERBOSE) {
        for (const x of s.filter((_, i) => i % 4 === 0)) console.log(`  ${JSON.stringify(x)}`);
      }
    }
  } catch (err) {
    console.log(`run ${run}: error ${err instanceof Error ? err.message.split("\n")[0] : err}`);
  } finally {
    await lab.close();
  }
}
