// What a person sees, read through the data-testid contract (/work/ui-contract.md).
// Every wait is a condition wait with a timeout; nothing sleeps to synchronise.

/** Default time a condition may take on a loaded 2-core machine. */
export const WAIT_MS = 20_000;

/** @typedef {import("playwright-core").Page} Page */

/** @param {string} id */
export const sel = (id) => `[data-testid="${id}"]`;

/**
 * @param {Page} page
 * @param {string} id
 */
export const byId = (page, id) => page.locator(sel(id));

/**
 * Waits until an element with this test id is visible.
 * @param {Page} page
 * @param {string} id
 * @param {number} [timeout]
 */
export async function waitVisible(page, id, timeout = WAIT_MS) {
  await byId(page, id).first().waitFor({ state: "visible", timeout });
}

/**
 * Waits until no element with this test id is visible.
 * @param {Page} page
 * @param {string} id
 * @param {number} [timeout]
 */
export async function waitGone(page, id, timeout = WAIT_MS) {
  await byId(page, id).first().waitFor({ state: "hidden", timeout });
}

/**
 * Waits until the first element with test id `id` has attribute `attr` equal to one of `values`;
 * returns the value seen.
 * @param {Page} page
 * @param {string} id
 * @param {string} attr
 * @param {string | string[]} values
 * @param {number} [timeout]
 */
export async function waitAttr(page, id, attr, values, timeout = WAIT_MS) {
  const want = Array.isArray(values) ? values : [values];
  try {
    const handle = await page.waitForFunction(
      ({ s, attr, want }) => {
        const v = document.querySelector(s)?.getAttribute(attr);
        return v != null && want.includes(v) ? v : false;
      },
      { s: sel(id), attr, want },
      { timeout, polling: 50 },
    );
    return /** @type {string} */ (await handle.jsonValue());
  } catch (err) {
    const seen = await page
      .evaluate(({ s, attr }) => document.querySelector(s)?.getAttribute(attr) ?? "(no element)", {
        s: sel(id),
        attr,
      })
      .catch(() => "(page gone)");
    throw new Error(`${id}[${attr}] never became ${want.join("|")} (last: ${seen}): ${err}`);
  }
}

/**
 * @param {Page} page
 * @param {string} id
 */
export async function textOf(page, id) {
  return ((await byId(page, id).first().textContent()) ?? "").trim();
}

/**
 * @param {Page} page
 * @param {string} id
 */
export async function click(page, id) {
  await byId(page, id).first().click({ timeout: WAIT_MS });
}

// ---- flows -------------------------------------------------------------------------------

/**
 * Clicks "New room" and returns the code shown (XXXX-XXXX).
 * @param {Page} page
 */
export async function createRoom(page) {
  await click(page, "new-room");
  await waitVisible(page, "room-waiting");
  const handle = await page.waitForFunction(
    (s) => {
      const t = document.querySelector(s)?.textContent?.trim() ?? "";
      return /^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(t) ? t : false;
    },
    sel("room-code"),
    { timeout: WAIT_MS, polling: 50 },
  );
  return /** @type {string} */ (await handle.jsonValue());
}

/**
 * Types a room code on the home screen and clicks "Join".
 * @param {Page} page
 * @param {string} code
 */
export async function joinRoom(page, code) {
  await waitVisible(page, "join-code");
  await byId(page, "join-code").fill(code);
  await click(page, "join");
}

/**
 * Waits for the in-call screen and call-state=connected.
 * @param {Page} page
 * @param {number} [timeout]
 */
export async function waitConnected(page, timeout = WAIT_MS) {
  await waitVisible(page, "in-call", timeout);
  await waitAttr(page, "call-state", "data-state", "connected", timeout);
}

/**
 * A creates a room, B joins it by code; resolves when both are connected.
 * @param {Page} a
 * @param {Page} b
 */
export async function roomCall(a, b) {
  const code = await createRoom(a);
  await joinRoom(b, code);
  await Promise.all([waitConnected(a), waitConnected(b)]);
  return code;
}

// ---- media as the far side receives it ---------------------------------------------------

/**
 * Decoded frames of the remote <video> (what the person watches).
 * @param {Page} page
 */
export function remoteFrames(page) {
  return page.evaluate((s) => {
    const v = document.querySelector(s);
    return v instanceof HTMLVideoElement ? v.getVideoPlaybackQuality().totalVideoFrames : -1;
  }, sel("remote-video"));
}

/**
 * Waits until the remote video decoded `count` more frames than now.
 * @param {Page} page
 * @param {number} [count]
 * @param {number} [timeout]
 */
export async function waitFramesAdvance(page, count = 10, timeout = WAIT_MS) {
  const start = await remoteFrames(page);
  try {
    await page.waitForFunction(
      ({ s, target }) => {
        const v = document.querySelector(s);
        return v instanceof HTMLVideoElement && v.getVideoPlaybackQuality().totalVideoFrames >= target;
      },
      { s: sel("remote-video"), target: Math.max(start, 0) + count },
      { timeout, polling: 100 },
    );
  } catch (err) {
    throw new Error(`remote video stuck at ${await remoteFrames(page)} frames (from ${start}): ${err}`);
  }
}

/**
 * The live remote audio track, looked up in the remote <audio> or <video> element's stream.
 * @param {Page} page
 */
export function remoteAudioTrackState(page) {
  return page.evaluate(
    ({ audioSel, videoSel }) => {
      for (const s of [audioSel, videoSel]) {
        const el = document.querySelector(s);
        const stream = el instanceof HTMLMediaElement ? el.srcObject : null;
        if (stream instanceof MediaStream) {
          const track = stream.getAudioTracks()[0];
          if (track) return { readyState: track.readyState, muted: track.muted, enabled: track.enabled };
        }
      }
      return null;
    },
    { audioSel: sel("remote-audio"), videoSel: sel("remote-video") },
  );
}

/**
 * The page's own stats hook (window.parley.stats()), from the contract.
 * @param {Page} page
 * @returns {Promise<Record<string, any> | null>}
 */
export function callStats(page) {
  return page.evaluate(async () => {
    const p = /** @type {any} */ (window).parley;
    return p && typeof p.stats === "function" ? await p.stats() : null;
  });
}

/**
 * Polls the stats hook until `pred` holds; returns the stats that satisfied it.
 * @param {Page} page
 * @param {(s: Record<string, any>) => boolean} pred
 * @param {string} what  description for the error
 * @param {number} [timeout]
 */
export async function waitStats(page, pred, what, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last = null;
  while (Date.now() < deadline) {
    last = await callStats(page);
    if (last && pred(last)) return last;
    await page.waitForTimeout(200); // poll interval of a condition wait
  }
  throw new Error(`stats never showed ${what}; last: ${JSON.stringify(last)}`);
}

/**
 * Mean colour [r, g, b] (0..255) of the frame the remote <video> currently shows; null if none.
 * @param {Page} page
 * @returns {Promise<[number, number, number] | null>}
 */
export function remoteRgb(page) {
  return page.evaluate((s) => {
    const v = document.querySelector(s);
    if (!(v instanceof HTMLVideoElement) || v.videoWidth === 0) return null;
    const c = document.createElement("canvas");
    c.width = 64;
    c.height = 48;
    const g = c.getContext("2d", { willReadFrequently: true });
    if (!g) return null;
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < px.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += px[i + k];
    const n = px.length / 4;
    return /** @type {[number, number, number]} */ (sum.map((x) => x / n));
  }, sel("remote-video"));
}

/**
 * Mean brightness (0..255) of the frame the remote <video> currently shows; -1 if none.
 * @param {Page} page
 */
export async function remoteBrightness(page) {
  const rgb = await remoteRgb(page);
  return rgb ? (rgb[0] + rgb[1] + rgb[2]) / 3 : -1;
}

/**
 * Size of the remote video as displayed.
 * @param {Page} page
 */
export function remoteVideoSize(page) {
  return page.evaluate((s) => {
    const v = document.querySelector(s);
    return v instanceof HTMLVideoElement ? { width: v.videoWidth, height: v.videoHeight } : null;
  }, sel("remote-video"));
}

/**
 * Marks recorded by probe.js (epoch ms).
 * @param {Page} page
 * @returns {Promise<Record<string, number>>}
 */
export function marks(page) {
  return page.evaluate(() => ({ .../** @type {any} */ (window).__e2e.marks }));
}

/**
 * ICE server lists the page's RTCPeerConnections were created with.
 * @param {Page} page
 * @returns {Promise<Array<{iceServers: unknown[]}>>}
 */
export function pcConfigs(page) {
  return page.evaluate(() => /** @type {any} */ (window).__e2e.pcConfigs);
}

/**
 * The host of a `stun:`/`turn:` URL (`turn:10.0.0.1:3478?transport=tcp` -> `10.0.0.1`).
 * @param {string} url
 */
export function iceUrlHost(url) {
  const rest = url.replace(/^[a-z]+:(\/\/)?/i, "").replace(/[?/].*$/, "").replace(/^[^@]*@/, "");
  return rest.startsWith("[") ? rest.slice(1, rest.indexOf("]")) : rest.split(":")[0];
}

/**
 * Hosts of ICE servers the page's calls were given that `allowed` rejects. Tests run without
 * internet and must never send STUN/TURN to a public address (e.g. the UI's default servers),
 * so every suite checks its parties with this after a test.
 * @param {Page} page
 * @param {(host: string) => boolean} allowed
 * @returns {Promise<string[]>}
 */
export async function disallowedIceHosts(page, allowed) {
  const configs = await pcConfigs(page).catch(() => []); // A page closed by the test has none left.
  const urls = configs.flatMap((c) => c.iceServers.flatMap((s) => [/** @type {any} */ (s).urls].flat()));
  return urls.map((u) => iceUrlHost(String(u))).filter((h) => !allowed(h));
}
