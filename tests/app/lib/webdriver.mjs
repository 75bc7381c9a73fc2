// A small W3C WebDriver client: just the endpoints the app tests use. The app suite reaches
// tauri-driver over a Unix socket: the driver listens on 127.0.0.1 inside the app's network
// namespace, which the test process (in the root namespace) cannot reach over TCP; a forwarder
// in that namespace (forward.mjs) exposes it as a socket file, and files are shared across
// network namespaces. The deep-link test, without namespaces, uses loopback TCP.
import { request } from "node:http";

/** How long waits for UI conditions last unless told otherwise. */
export const WAIT_MS = 20_000;
/** Longest a driver request may take (a new session starts the app, which can be slow). */
const REQUEST_MS = 90_000;

/** An error answered by the WebDriver server (`error` is its code, e.g. "no such element"). */
export class WebDriverError extends Error {
  /**
   * @param {string} error
   * @param {string} message
   */
  constructor(error, message) {
    super(`${error}: ${message}`);
    this.error = error;
  }
}

/**
 * Where the driver listens: a socket file, or a TCP port.
 * @typedef {{ socketPath: string } | { host: string, port: number }} Endpoint
 */

/**
 * One HTTP exchange with the driver; resolves with the response's `value`.
 * @param {Endpoint} endpoint
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
function call(endpoint, method, path, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...endpoint,
        method,
        path,
        headers: payload === undefined ? {} : { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks = /** @type {Buffer[]} */ ([]);
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
            return;
          }
          const value = json?.value;
          if ((res.statusCode ?? 500) >= 400 || (value && typeof value === "object" && "error" in value)) {
            reject(new WebDriverError(value?.error ?? `HTTP ${res.statusCode}`, value?.message ?? text.slice(0, 300)));
          } else {
            resolve(value);
          }
        });
      },
    );
    req.setTimeout(REQUEST_MS, () => req.destroy(new Error(`${method} ${path}: no answer from the driver within ${REQUEST_MS} ms`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * Polls `probe` until it returns a truthy value (returned), or fails after `timeoutMs` with
 * `what` and the last value or error seen. Errors thrown by `probe` count as "not yet".
 * @template T
 * @param {string} what
 * @param {() => Promise<T> | T} probe
 * @param {number} [timeoutMs]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(what, probe, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return /** @type {NonNullable<T>} */ (value);
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200)); // polling interval of the condition above
  }
}

/** The driver at an endpoint. */
export class WebDriver {
  /** @param {Endpoint} endpoint */
  constructor(endpoint) {
    this.endpoint = endpoint;
  }

  /** `GET /status`: true once the driver accepts new sessions. */
  async ready() {
    const status = await call(this.endpoint, "GET", "/status");
    return Boolean(status?.ready);
  }

  /**
   * Starts the app (a new session launches the binary named in `tauri:options`).
   * @param {string} application
   * @param {string[]} [args]  the app's command line
   */
  async launch(application, args) {
    const options = args === undefined ? { application } : { application, args };
    const value = await call(this.endpoint, "POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": options } },
    });
    return new Session(this.endpoint, value.sessionId);
  }
}

/** One running app, found by `data-testid` as the UI contract says. */
export class Session {
  /**
   * @param {Endpoint} endpoint
   * @param {string} id
   */
  constructor(endpoint, id) {
    this.endpoint = endpoint;
    this.id = id;
  }

  /**
   * @param {string} method
   * @param {string} path  below /session/<id>
   * @param {unknown} [body]
   */
  cmd(method, path, body) {
    return call(this.endpoint, method, `/session/${this.id}${path}`, body);
  }

  /**
   * Element ids of every `[data-testid=<testId>]` (plus an optional CSS suffix).
   * @param {string} testId
   * @param {string} [suffix]
   * @returns {Promise<string[]>}
   */
  async all(testId, suffix = "") {
    const found = await this.cmd("POST", "/elements", { using: "css selector", value: `[data-testid="${testId}"]${suffix}` });
    return found.map((/** @type {Record<string, string>} */ e) => Object.values(e)[0]);
  }

  /**
   * The first visible `[data-testid=<testId>]` now, or null.
   * @param {string} testId
   * @returns {Promise<string | null>}
   */
  async firstDisplayed(testId) {
    for (const el of await this.all(testId)) {
      if (await this.cmd("GET", `/element/${el}/displayed`)) return el;
    }
    return null;
  }

  /**
   * The first visible `[data-testid=<testId>]`, waiting for it.
   * @param {string} testId
   * @param {number} [timeoutMs]
   */
  async visible(testId, timeoutMs = WAIT_MS) {
    return waitFor(`${testId} visible`, () => this.firstDisplayed(testId), timeoutMs);
  }

  /**
   * @param {string} el
   * @param {string} name
   * @returns {Promise<string | null>}
   */
  attribute(el, name) {
    return this.cmd("GET", `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  /**
   * A DOM property, e.g. an input's current `value`.
   * @param {string} el
   * @param {string} name
   */
  property(el, name) {
    return this.cmd("GET", `/element/${el}/property/${encodeURIComponent(name)}`);
  }

  /** @param {string} el @returns {Promise<string>} */
  text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }

  /** @param {string} el */
  click(el) {
    return this.cmd("POST", `/element/${el}/click`, {});
  }

  /**
   * Empties an input and types `text` into it, as keystrokes.
   * @param {string} el
   * @param {string} text
   */
  async replaceText(el, text) {
    await this.cmd("POST", `/element/${el}/clear`, {});
    await this.cmd("POST", `/element/${el}/value`, { text });
  }

  /** Resolves once the page has produced two more frames (the screen shows the DOM as is). */
  painted() {
    return this.cmd("POST", "/execute/async", {
      script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
      args: [],
    });
  }

  /** Ends the session, which closes the app. */
  async close() {
    await call(this.endpoint, "DELETE", `/session/${this.id}`);
  }
}
