import { describe, expect, it } from "vitest";
import type { ClientMessage, ServerMessage } from "../protocol/generated";
import { SignalingSession } from "./session";
import type { Transport, TransportState } from "./transport";

/** A transport whose far end is the test. */
class LoopTransport implements Transport {
  sent: ClientMessage[] = [];
  open = false;
  private onMsg: (m: ServerMessage) => void = () => {};
  private onSt: (s: TransportState) => void = () => {};
  connect() {}
  send(m: ClientMessage) {
    if (!this.open) return false;
    this.sent.push(m);
    return true;
  }
  close() { this.set("closed"); }
  restart() { this.set("reconnecting"); }
  onMessage(h: (m: ServerMessage) => void) { this.onMsg = h; return () => {}; }
  onState(h: (s: TransportState) => void) { this.onSt = h; return () => {}; }
  set(s: TransportState) { this.open = s === "open"; this.onSt(s); }
  deliver(m: ServerMessage) { this.onMsg(m); }
}

const welcome = (resumed: boolean): ServerMessage => ({
  type: "welcome", version: 1, server: "test", mode: "public", peerId: "p1", resumeToken: "tok",
  iceServers: [], owner: false, resumed,
});

describe("signaling session", () => {
  it("says hello with the owner token, then resumes with the last identity", () => {
    const t = new LoopTransport();
    const s = new SignalingSession(t, { ownerToken: "owner-secret", pingMs: 60_000 });
    const states: string[] = [];
    s.on("state", (x) => states.push(x));
    s.start();
    t.set("open");
    expect(t.sent).toEqual([{ type: "hello", version: 1, token: "owner-secret" }]);
    t.deliver(welcome(false));
    expect(s.peerId).toBe("p1");
    t.set("reconnecting");
    t.sent = [];
    t.set("open");
    expect(t.sent).toEqual([{ type: "hello", version: 1, token: "owner-secret", resume: { peerId: "p1", token: "tok" } }]);
    t.deliver(welcome(true));
    expect(states).toEqual(["online", "reconnecting", "online"]);
    s.close();
  });

  it("holds signals while the server is away and sends them after welcome", () => {
    const t = new LoopTransport();
    const s = new SignalingSession(t, { pingMs: 60_000 });
    s.start();
    t.set("open");
    t.deliver(welcome(false));
    t.set("reconnecting");
    s.signal("p2", { candidate: null });
    expect(s.create()).toBe(false);
    t.set("open");
    t.sent = [];
    t.deliver(welcome(true));
    expect(t.sent).toEqual([{ type: "signal", to: "p2", data: { candidate: null } }]);
    s.close();
  });

  it("answers pings, passes other messages on, and reports an unreachable server", () => {
    const t = new LoopTransport();
    const s = new SignalingSession(t, { pingMs: 60_000 });
    const seen: string[] = [];
    s.on("message", (m) => seen.push(m.type));
    s.on("unreachable", () => seen.push("unreachable"));
    s.start();
    t.set("reconnecting");
    t.set("open");
    t.deliver(welcome(false));
    t.sent = [];
    t.deliver({ type: "ping" });
    t.deliver({ type: "peer-joined", peer: "p2" });
    expect(t.sent).toEqual([{ type: "pong" }]);
    expect(seen).toEqual(["unreachable", "peer-joined"]);
    s.close();
  });
});
