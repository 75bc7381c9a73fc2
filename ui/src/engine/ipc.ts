/**
 * The app's IPC as the UI uses it (app mode, join links, the native engine): commands, ordered
 * channels and backend events, over the webview's Tauri internals directly, so the UI needs no
 * extra package; tests pass a fake.
 */

/** The part of `window.__TAURI_INTERNALS__` the UI uses. */
export interface TauriInternals {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  transformCallback(cb: (message: unknown) => void, once?: boolean): number;
}

/** The webview's Tauri IPC internals, or `null` outside the app (the one place that detects it). */
export function internals(): TauriInternals | null {
  const w = globalThis as unknown as { __TAURI_INTERNALS__?: Partial<TauriInternals> };
  const t = w.__TAURI_INTERNALS__;
  return t && typeof t.invoke === "function" && typeof t.transformCallback === "function" ? (t as TauriInternals) : null;
}

/** Commands, channels and events of the app's backend. */
export interface AppIpc {
  invoke<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** A channel argument whose messages reach `handler` in the order the backend sent them. */
  channel<T>(handler: (message: T) => void): unknown;
  /** Listens to a backend event; resolves to the function that stops listening. */
  listen<T>(event: string, handler: (payload: T) => void): Promise<() => void>;
}

/**
 * Puts a Tauri channel's messages back in order. Tauri numbers them (`{ index, message }`):
 * small ones are evaluated directly, large ones fetched, so a large SDP can arrive after the
 * candidate sent behind it. `{ end: true }` marks the backend dropping the channel.
 */
export function orderedChannel<T>(handler: (message: T) => void): (raw: unknown) => void {
  let next = 0;
  const waiting = new Map<number, T>();
  return (raw) => {
    const r = raw as { index?: unknown; message?: T; end?: boolean };
    if (typeof r !== "object" || r === null || typeof r.index !== "number") {
      handler(raw as T); // An older Tauri's unnumbered message.
      return;
    }
    if (r.end) return;
    waiting.set(r.index, r.message as T);
    while (waiting.has(next)) {
      const message = waiting.get(next) as T;
      waiting.delete(next++);
      handler(message);
    }
  };
}

/** The IPC over Tauri's internals. */
export function ipcFrom(t: TauriInternals): AppIpc {
  return {
    invoke: (command, args) => t.invoke(command, args),
    channel(handler) {
      return `__CHANNEL__:${t.transformCallback(orderedChannel(handler))}`;
    },
    async listen<T>(event: string, handler: (payload: T) => void) {
      const callback = t.transformCallback((raw) => handler((raw as { payload: T }).payload));
      const eventId = await t.invoke<number>("plugin:event|listen", { event, target: { kind: "Any" }, handler: callback });
      return () => void t.invoke("plugin:event|unlisten", { event, eventId }).catch(() => {});
    },
  };
}

/** The app's IPC, or `null` in a browser. */
export function appIpc(): AppIpc | null {
  const t = internals();
  return t ? ipcFrom(t) : null;
}
