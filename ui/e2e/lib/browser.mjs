// One call party = one Chromium instance with its own profile, fake camera and microphone.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { chromiumPath, tempDir } from "./env.mjs";

const probeSource = readFileSync(new URL("./probe.js", import.meta.url), "utf8");

/** Flags for headless Chromium with fake media and no network chatter. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  // getDisplayMedia in headless picks the (virtual) screen without a picker.
  "--auto-select-desktop-capture-source=Entire screen",
];

/** Desktop and phone-width viewports. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740 },
};

/**
 * @typedef {object} Party
 * @property {string} name
 * @property {import("playwright-core").BrowserContext} context
 * @property {import("playwright-core").Page} page
 * @property {() => string} consoleLog
 * @property {() => Promise<void>} close
 */

/**
 * Launches a separate Chromium (fresh --user-data-dir) and opens `url` in it.
 * @param {import("./scope.mjs").Scope} scope  closes the browser and removes the profile
 * @param {string} name  label used in diagnostics, e.g. "A"
 * @param {{ url?: string, viewport?: {width: number, height: number}, locale?: string, args?: string[] }} [opts]
 * @returns {Promise<Party>}
 */
export async function launchParty(scope, name, opts = {}) {
  const profile = tempDir(`profile-${name}`);
  scope.defer(() => profile.remove());
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: chromiumPath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    viewport: opts.viewport ?? VIEWPORTS.desktop,
    locale: opts.locale ?? "en-US",
    acceptDownloads: true,
    timeout: 30_000,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => {});
  };
  scope.defer(close);
  await context.addInitScript({ content: probeSource });
  const page = context.pages()[0] ?? (await context.newPage());
  /** @type {string[]} */
  const lines = [];
  const keep = (/** @type {string} */ line) => {
    lines.push(line);
    if (lines.length > 300) lines.shift();
    if (process.env.E2E_DEBUG) console.error(`[${name}] ${line}`);
  };
  const watch = (/** @type {import("playwright-core").Page} */ p) => {
    p.on("console", (msg) => keep(`${msg.type()}: ${msg.text()}`));
    p.on("pageerror", (err) => keep(`pageerror: ${err.message}`));
    // Signaling as this party saw it: the first thing to read when a call does not connect.
    p.on("websocket", (ws) => {
      const t0 = Date.now();
      const at = () => `+${Date.now() - t0}ms`;
      keep(`ws open ${ws.url()}`);
      ws.on("framesent", (f) => keep(`ws ${at()} > ${String(f.payload).slice(0, 240)}`));
      ws.on("framereceived", (f) => keep(`ws ${at()} < ${String(f.payload).slice(0, 240)}`));
      ws.on("close", () => keep(`ws ${at()} closed`));
    });
  };
  watch(page);
  context.on("page", watch);
  if (opts.url) await page.goto(opts.url);
  return { name, context, page, consoleLog: () => lines.join("\n"), close };
}

/**
 * URL of the UI on `origin` with query parameters from the contract (?lang=, ?media=, ...).
 * `?stun=` is empty unless given: the UI's default STUN servers are public, and tests have no
 * internet (the harness fails a test whose calls were given any public ICE server).
 * @param {string} origin
 * @param {Record<string, string | undefined>} [query]
 * @param {string} [hash]
 */
export function uiUrl(origin, query = {}, hash = "") {
  const url = new URL("/", origin);
  for (const [k, v] of Object.entries({ stun: "", ...query })) if (v !== undefined) url.searchParams.set(k, v);
  if (hash) url.hash = hash;
  return url.toString();
}
