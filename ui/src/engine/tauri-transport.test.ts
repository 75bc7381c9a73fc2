import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerMessage } from "../protocol/generated";
import { orderedChannel, type AppIpc } from "./ipc";
import { TauriTransport, type BridgeEvent } from "./tauri-transport";
import type { TransportState } from "./transport";

/** Plays the app backend's transport commands; the test decides what each connection does. */
class FakeBackend implements Pick<AppIpc, "invoke" | "channel"> {
  calls: { command: string; args: Record<string, unknown> }[] = [];
  channels = new Map<string, (e: BridgeEvent) => void>();
  /** Per connection id: its channel. */
  conns: ((e: BridgeEvent) => void)[] = [];
  refuseOpen = false;
  /** Resolvers of pending `transport_send` calls, when holding them. */
  holdSends = false;
  held: (() => void)[] = [];

  channel<T>(handler: (message: T) => void): unknown {
    const key = `__CHANNEL__:${this.channels.size}`;
    this.channels.set(key, handler as (e: BridgeEvent) => void);
    return key;
  }

  invoke<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    this.calls.push({ command, args });
    if (command === "transport_open") {
      if (this.refuseOpen) return Promise.reject({ code: "invalid-url", message: "no" });
      this.conns.push(this.channels.get(args.channel as string)!);
      return Promise.resolve((this.conns.length - 1) as T);
    }
    if (command === "transport_send" && this.holdSends) {
      return new Promise((resolve) => this.held.push(() => resolve(undefined as T)));
    }
    return Promise.resolve(undefined as T);
  }

  sent(): unknown[] {
    return this.calls.filter((c) => c.command === "transport_send").map((c) => [c.args.id, c.args.text]);
  }
}

/** Lets queued promise callbacks run (fake timers do not run them by themselves). */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("TauriTransport", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("relays frames through the backend and reconnects with backoff after losses", async () => {
    const backend = new FakeBackend();
    const t = new TauriTransport("ws://192.168.1.23:7878/ws", backend, { baseMs: 100, maxMs: 1000 });
    const states: TransportState[] = [];
    const msgs: ServerMessage[] = [];
    t.onState((s) => states.push(s));
    t.onMessage((m) => msgs.push(m));

    t.connect();
    await settle();
    expect(backend.calls[0]).toMatchObject({ command: "transport_open", args: { url: "ws://192.168.1.23:7878/ws" } });
    expect(t.send({ type: "ping" })).toBe(false); // not open yet: nothing queued
    backend.conns[0]!({ kind: "open" });
    expect(t.state).toBe("open");
    expect(t.send({ type: "ping" })).toBe(true);
    await settle();
    expect(backend.sent()).toEqual([[0, '{"type":"ping"}']]);
    backend.conns[0]!({ kind: "text", text: '{"type":"pong"}' });
    backend.conns[0]!({ kind: "text", text: "garbage" });
    expect(msgs).toEqual([{ type: "pong" }]);

    backend.conns[0]!({ kind: "closed", reason: "connection lost" });
    expect(t.state).toBe("reconnecting");
    expect(backend.conns.length).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(backend.conns.length).toBe(2); // first retry within baseMs
    backend.conns[1]!({ kind: "closed", reason: "cannot connect" });
    await vi.advanceTimersByTimeAsync(200);
    expect(backend.conns.length).toBe(3); // second within 2 x baseMs
    backend.conns[2]!({ kind: "open" });
    expect(states).toEqual(["open", "reconnecting", "open"]);

    t.close();
    await settle();
    expect(backend.calls.at(-1)).toEqual({ command: "transport_close", args: { id: 2 } });
    expect(t.state).toBe("closed");
    await vi.advanceTimersByTimeAsync(5000);
    expect(backend.conns.length).toBe(3);
    backend.conns[2]!({ kind: "text", text: '{"type":"pong"}' });
    expect(msgs.length).toBe(1); // nothing after close
  });

  it("retries when the backend refuses to open", async () => {
    const backend = new FakeBackend();
    backend.refuseOpen = true;
    const t = new TauriTransport("ws://x/ws", backend, { baseMs: 100, maxMs: 1000 });
    t.connect();
    await settle();
    expect(t.state).toBe("reconnecting");
    backend.refuseOpen = false;
    await vi.advanceTimersByTimeAsync(100);
    backend.conns[0]!({ kind: "open" });
    expect(t.state).toBe("open");
  });

  it("sends one frame at a time, in order, and closes after the last", async () => {
    const backend = new FakeBackend();
    backend.holdSends = true;
    const t = new TauriTransport("ws://x/ws", backend);
    t.connect();
    await settle();
    backend.conns[0]!({ kind: "open" });
    t.send({ type: "ping" });
    t.send({ type: "pong" });
    t.close();
    await settle();
    expect(backend.sent()).toEqual([[0, '{"type":"ping"}']]);
    backend.held.shift()!();
    await settle();
    expect(backend.sent()).toEqual([[0, '{"type":"ping"}'], [0, '{"type":"pong"}']]);
    expect(backend.calls.some((c) => c.command === "transport_close")).toBe(false);
    backend.held.shift()!();
    await settle();
    expect(backend.calls.at(-1)?.command).toBe("transport_close");
  });
});

describe("orderedChannel", () => {
  it("delivers numbered messages in order and ignores the end marker", () => {
    const got: string[] = [];
    const deliver = orderedChannel<string>((m) => got.push(m));
    deliver({ index: 1, message: "candidate" });
    expect(got).toEqual([]);
    deliver({ index: 0, message: "offer" });
    deliver({ index: 2, message: "more" });
    deliver({ end: true, index: 3 });
    expect(got).toEqual(["offer", "candidate", "more"]);
  });
});
