import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Call, type CallState } from "./call";
import type { PeerConnectionLike } from "./peer";

/** Node has no MediaStream; the call only needs a track list. */
class FakeStream {
  private tracks: MediaStreamTrack[] = [];
  getTracks() { return [...this.tracks]; }
  addTrack(t: MediaStreamTrack) { this.tracks.push(t); }
  removeTrack(t: MediaStreamTrack) { this.tracks = this.tracks.filter((x) => x !== t); }
}

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = "connecting";
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = "blob";
  send() {}
  close() {}
}

const sdp = (fp: string) => `v=0\r\na=fingerprint:sha-256 ${fp}\r\n`;

/** Only the connection-state surface of a peer connection. */
class FakePc extends EventTarget {
  connectionState: RTCPeerConnectionState = "new";
  iceConnectionState: RTCIceConnectionState = "new";
  restarts = 0;
  closed = false;
  localDescription = { type: "offer", sdp: sdp("AA:BB") } as RTCSessionDescription;
  remoteDescription = { type: "answer", sdp: sdp("CC:DD") } as RTCSessionDescription;
  currentRemoteDescription = this.remoteDescription;
  createDataChannel() { return new FakeChannel(); }
  addTrack() { return {}; }
  restartIce() { this.restarts++; }
  close() { this.closed = true; }
  to(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

function makeCall(polite: boolean, iceServers: RTCIceServer[] = []) {
  const pc = new FakePc();
  const signals: unknown[] = [];
  const call = new Call({
    remote: "peer",
    polite,
    iceServers,
    factory: () => pc as unknown as PeerConnectionLike,
    signal: (data) => signals.push(data),
    stream: new FakeStream() as unknown as MediaStream,
    audio: null,
    video: null,
    restartAfterMs: 3000,
    politeExtraMs: 3000,
    giveUpAfterMs: 30_000,
    firstConnectMs: 12_000,
  });
  const states: CallState[] = [];
  call.on("state", (s) => states.push(s));
  return { pc, call, states, signals };
}

describe("call connection states", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("MediaStream", FakeStream);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("shows reconnecting and restarts ICE after a few seconds disconnected (impolite first)", () => {
    const impolite = makeCall(false);
    const polite = makeCall(true);
    for (const c of [impolite, polite]) {
      c.pc.to("connected");
      c.pc.to("disconnected");
    }
    expect(impolite.states).toEqual(["connected", "reconnecting"]);
    vi.advanceTimersByTime(3000);
    expect(impolite.pc.restarts).toBe(1);
    expect(polite.pc.restarts).toBe(0);
    vi.advanceTimersByTime(3000);
    // The polite side asks instead of offering a restart that could cross the other's.
    expect(polite.pc.restarts).toBe(0);
    expect(polite.signals).toContainEqual({ restartIce: true });
    impolite.pc.to("connected");
    expect(impolite.states).toEqual(["connected", "reconnecting", "connected"]);
  });

  it("lets only the impolite side offer ICE restarts, unless asking did not help", async () => {
    const impolite = makeCall(false);
    const polite = makeCall(true);
    for (const c of [impolite, polite]) c.pc.to("connected");
    // The polite side's network changed: it asks, and the impolite side restarts.
    polite.call.restartIce();
    expect(polite.pc.restarts).toBe(0);
    await impolite.call.handleSignal(polite.signals.at(-1));
    expect(impolite.pc.restarts).toBe(1);
    // A request right after a restart of its own is answered by that restart.
    vi.advanceTimersByTime(1000);
    await impolite.call.handleSignal({ restartIce: true });
    expect(impolite.pc.restarts).toBe(1);
    // Asked again within a few seconds (the request went unheard): the polite side restarts.
    vi.advanceTimersByTime(4000);
    polite.call.restartIce();
    expect(polite.pc.restarts).toBe(1);
    // A polite side ignores requests; so does a closed call.
    await polite.call.handleSignal({ restartIce: true });
    expect(polite.pc.restarts).toBe(1);
  });

  it("restarts at once when failed, and gives up after the limit", () => {
    const { pc, states } = makeCall(false);
    pc.to("connected");
    pc.to("failed");
    vi.advanceTimersByTime(0);
    expect(pc.restarts).toBe(1);
    vi.advanceTimersByTime(30_000);
    expect(states).toEqual(["connected", "reconnecting", "failed"]);
  });

  it("is not restarted once it recovers, and computes the verification code when connected", async () => {
    vi.useRealTimers();
    const { pc, call } = makeCall(false);
    const codes: string[] = [];
    call.on("verification", (c) => codes.push(c));
    pc.to("connected");
    await vi.waitFor(() => expect(codes).toHaveLength(1));
    expect(codes[0]).toMatch(/^\d{3} \d{3}$/);
    call.close(false);
    expect(pc.closed).toBe(true);
  });

  it("says it failed within 12 s when it never connects: no-path without TURN", () => {
    const { states, call } = makeCall(false);
    vi.advanceTimersByTime(11_999);
    expect(states).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(states).toEqual(["failed"]);
    expect(call.noPathReason).toBe("no-path");
  });

  it("blames the relay when TURN was configured but refused us", () => {
    const turn = [{ urls: ["turn:t.example:3478"], username: "1:p", credential: "bad" }];
    const { pc, call } = makeCall(false, turn);
    const err = Object.assign(new Event("icecandidateerror"), { url: "turn:t.example:3478", errorCode: 401, errorText: "Unauthorized" });
    pc.dispatchEvent(err);
    expect(call.noPathReason).toBe("relay-unavailable");
    expect(call.relayErrors[0]).toContain("401");
  });

  it("does not blame the relay when it gave a relay candidate and did not err", () => {
    const turn = [{ urls: "turns:t.example:5349" }];
    const { pc, call } = makeCall(false, turn);
    const cand = Object.assign(new Event("icecandidate"), { candidate: { type: "relay", candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ relay", toJSON: () => ({}) } });
    pc.dispatchEvent(cand);
    expect(call.noPathReason).toBe("no-path");
  });
});
