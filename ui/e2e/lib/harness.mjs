// The test wrapper: servers and browsers that are always cleaned up, and failures that carry
// the server log, each browser's console and a screenshot of every party.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launchParty, uiUrl } from "./browser.mjs";
import { repoRoot } from "./env.mjs";
import { Scope } from "./scope.mjs";
import { startDeviceServer, startPublicServer } from "./server.mjs";
import { disallowedIceHosts } from "./ui.mjs";

/** @param {string} host */
const isLoopback = (host) => host === "localhost" || host === "::1" || /^127\./.test(host);

/** @param {string} text */
const tail = (text, lines = 60) => text.split("\n").slice(-lines).join("\n");

/**
 * @typedef {object} E2E
 * @property {import("node:test").TestContext} t
 * @property {Scope} scope
 * @property {(opts?: Parameters<typeof startPublicServer>[0]) => Promise<import("./server.mjs").ServerProcess>} publicServer
 * @property {(opts?: Parameters<typeof startDeviceServer>[0]) => Promise<import("./server.mjs").ServerProcess>} deviceServer
 * @property {(name: string, opts?: Parameters<typeof launchParty>[2]) => Promise<import("./browser.mjs").Party>} party
 * @property {typeof uiUrl} url
 */

/**
 * Declares one end-to-end test.
 * @param {string} name
 * @param {(e: E2E) => Promise<void>} fn
 * @param {{ timeout?: number }} [opts]
 */
export function e2e(name, fn, opts = {}) {
  test(name, { timeout: opts.timeout ?? 180_000 }, async (t) => {
    const scope = new Scope();
    /** @type {Array<() => string>} */
    const diagnostics = [];
    /** @type {import("./browser.mjs").Party[]} */
    const parties = [];
    /** @type {E2E} */
    const ctx = {
      t,
      scope,
      async publicServer(opts) {
        const s = await startPublicServer(opts);
        scope.defer(() => s.stop());
        diagnostics.push(() => `--- parley-server ${s.origin} ---\n${tail(s.log())}`);
        return s;
      },
      async deviceServer(opts) {
        const s = await startDeviceServer(opts);
        scope.defer(() => s.stop());
        diagnostics.push(() => `--- parley-node ${s.origin} ---\n${tail(s.log())}`);
        return s;
      },
      async party(name, opts) {
        const p = await launchParty(scope, name, opts);
        parties.push(p);
        diagnostics.push(() => `--- browser ${name} console ---\n${tail(p.consoleLog())}`);
        return p;
      },
      url: uiUrl,
    };
    try {
      await fn(ctx);
      for (const p of parties) {
        const hosts = await disallowedIceHosts(p.page, isLoopback);
        if (hosts.length) throw new Error(`${p.name}'s calls were given public ICE servers: ${hosts.join(", ")} (use url(), which sets ?stun=)`);
      }
    } catch (err) {
      const dir = join(repoRoot, ".artifacts/e2e", name.replace(/[^\w.-]+/g, "_"));
      mkdirSync(dir, { recursive: true });
      for (const p of parties) {
        await p.page
          .screenshot({ path: join(dir, `${p.name}.png`), fullPage: true, timeout: 5_000 })
          .catch(() => {});
      }
      const detail = `${diagnostics.map((d) => d()).join("\n")}\n(screenshots in ${dir})`;
      if (err instanceof Error) err.message += `\n${detail}`;
      throw err;
    } finally {
      await scope.close();
    }
  });
}
