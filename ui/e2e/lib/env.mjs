// Where things are: the repository, the built UI, the Rust binaries, temp dirs.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (ui/e2e/lib -> ../../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The built UI that the servers serve (`make ui` / `make build`). */
export const uiDist = process.env.PARLEY_UI_DIST ?? join(repoRoot, "ui/dist");

/** Debian's Chromium; tests never download a browser. */
export const chromiumPath = process.env.PARLEY_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Path of a debug binary built by cargo, honouring CARGO_TARGET_DIR like cargo does.
 * PARLEY_SERVER_BIN / PARLEY_NODE_BIN override one binary each.
 * @param {"parley-server" | "parley-node"} name
 */
export function binary(name) {
  const override = process.env[name === "parley-server" ? "PARLEY_SERVER_BIN" : "PARLEY_NODE_BIN"];
  if (override) return override;
  const target = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : join(repoRoot, "target");
  return join(target, "debug", name);
}

/** @param {string} name */
export function hasBinary(name) {
  return existsSync(binary(/** @type {any} */ (name)));
}

/**
 * A fresh temp dir, removed by the returned function.
 * @param {string} prefix
 * @returns {{ path: string, remove: () => void }}
 */
export function tempDir(prefix) {
  const path = mkdtempSync(join(tmpdir(), `parley-e2e-${prefix}-`));
  liveDirs.add(path);
  return {
    path,
    remove: () => {
      liveDirs.delete(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Temp dirs not removed yet: an interrupted run (Ctrl-C, runner timeout) still removes them. */
const liveDirs = new Set();
process.on("exit", () => {
  for (const path of liveDirs) {
    try {
      rmSync(path, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // A browser still writing its profile: nothing more can be done while exiting.
    }
  }
});
