import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerMessage } from "../protocol/generated";
import type { TransportState } from "./transport";
import { WebSocketTransport } from "./websocket-transport";

/** Just enough of a WebSocket for the transport; the test plays the server. */
class FakeSocket {
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) { this.sent.push(data); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.(); }
  drop() { this.readyState = 3; this.onclose?.(); }
}

describe("WebSocketTransport", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reconnects with backoff after losses and decodes frames", () => {
    const sockets: FakeSocket[] = [];
    const t = new WebSocketTransport("ws://x/ws", { baseMs: 100, maxMs: 1000 }, (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s as unknown as WebSocket;
    });
    const states: TransportState[] = [];
    const msgs: ServerMessage[] = [];
    t.onState((s) => states.push(s));
    t.onMessage((m) => msgs.push(m));
    t.connect();
    expect(t.send({ type: "ping" })).toBe(false);
    sockets[0]!.open();
    expect(t.send({ type: "ping" })).toBe(true);
    expect(sockets[0]!.sent).toEqual(['{"type":"ping"}']);
    sockets[0]!.onmessage?.({ data: '{"type":"pong"}' });
    sockets[0]!.onmessage?.({ data: "garbage" });
    expect(msgs).toEqual([{ type: "pong" }]);

    sockets[0]!.drop();
    expect(t.state).toBe("reconnecting");
    expect(sockets.length).toBe(1); // never immediately: at least a tenth of baseMs
    vi.advanceTimersByTime(100);
    expect(sockets.length).toBe(2); // first retry within baseMs
    sockets[1]!.drop();
    vi.advanceTimersByTime(200);
    expect(sockets.length).toBe(3); // second within 2 x baseMs
    sockets[2]!.open();
    expect(states).toEqual(["open", "reconnecting", "open"]);

    t.close();
    expect(t.state).toBe("closed");
    vi.advanceTimersByTime(5000);
    expect(sockets.length).toBe(3);
  });
});
