// Cleanup that runs even when a test fails: every resource registers its own undo.

/** Runs deferred cleanups in reverse order; one failing cleanup does not skip the others. */
export class Scope {
  /** @type {Array<() => unknown>} */
  #cleanups = [];

  /** @param {() => unknown} fn */
  defer(fn) {
    this.#cleanups.push(fn);
  }

  async close() {
    while (this.#cleanups.length > 0) {
      const fn = /** @type {() => unknown} */ (this.#cleanups.pop());
      try {
        await fn();
      } catch (err) {
        console.error("cleanup failed:", err);
      }
    }
  }
}

/**
 * A scope closed when the node:test test `t` ends, pass or fail.
 * @param {import("node:test").TestContext} t
 */
export function scopeFor(t) {
  const scope = new Scope();
  t.after(() => scope.close());
  return scope;
}
