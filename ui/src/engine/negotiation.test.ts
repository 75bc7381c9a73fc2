import { describe, expect, it } from "vitest";
import {
  Negotiator,
  parseNegotiationMessage,
  type NegotiablePeer,
  type NegotiationMessage,
} from "./negotiation";

/** A tiny offer/answer state machine with the signaling-state rules the negotiator relies on. */
class FakePeer {
  signalingState: RTCSignalingState = "stable";
  localDescription: RTCSessionDescription | null = null;
  remoteDescription: RTCSessionDescription | null = null;
  addedCandidates: string[] = [];
  /** This side has media the other has not agreed to yet. */
  needsNegotiation = true;
  onNegotiationNeeded: () => void = () => {};
  private serial = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string) {}

  private op<T>(fn: () => T): Promise<T> {
    const next = this.chain.then(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      return fn();
    });
    this.chain = next.catch(() => {});
    return next;
  }

  private desc(type: RTCSdpType, sdp: string): RTCSessionDescription {
    return { type, sdp, toJSON: () => ({ type, sdp }) };
  }

  setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
    return this.op(() => {
      if (description?.type === "rollback") throw new Error("not used");
      if (this.signalingState === "stable" || this.signalingState === "have-local-offer") {
        this.localDescription = this.desc("offer", `${this.name}-offer-${++this.serial}`);
        this.signalingState = "have-local-offer";
      } else if (this.signalingState === "have-remote-offer") {
        this.localDescription = this.desc("answer", `${this.name}-answer-${++this.serial}`);
        this.signalingState = "stable";
        this.afterStable();
      }
    });
  }

  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    return this.op(() => {
      const sdp = description.sdp ?? "";
      if (description.type === "offer") {
        // Implicit rollback of our own offer, as browsers do.
        if (this.signalingState === "have-local-offer") this.signalingState = "stable";
        this.remoteDescription = this.desc("offer", sdp);
        this.signalingState = "have-remote-offer";
      } else if (description.type === "answer") {
        if (this.signalingState !== "have-local-offer") {
          throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
        }
        this.remoteDescription = this.desc("answer", sdp);
        this.signalingState = "stable";
        this.needsNegotiation = false;
        this.afterStable();
      }
    });
  }

  addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    return this.op(() => {
      if (!this.remoteDescription) throw new Error("InvalidStateError: no remote description");
      this.addedCandidates.push(candidate?.candidate ?? "end");
    });
  }

  private afterStable(): void {
    if (this.needsNegotiation) setTimeout(() => this.onNegotiationNeeded(), 0);
  }
}

/** Delivers messages in order per direction, each after a small random delay. */
function link(from: FakePeer, to: () => Negotiator) {
  let last = Promise.resolve();
  let inFlight = 0;
  const send = (msg: NegotiationMessage) => {
    inFlight++;
    last = last.then(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 4));
      await to().receive(JSON.parse(JSON.stringify(msg)) as NegotiationMessage);
      inFlight--;
    });
  };
  return { send, idle: () => inFlight === 0, from };
}

async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

function pair() {
  const a = new FakePeer("a");
  const b = new FakePeer("b");
  const errors: unknown[] = [];
  // eslint-disable-next-line prefer-const
  let na: Negotiator, nb: Negotiator;
  const ab = link(a, () => nb);
  const ba = link(b, () => na);
  na = new Negotiator(a as unknown as NegotiablePeer, true, ab.send, (e) => errors.push(e));
  nb = new Negotiator(b as unknown as NegotiablePeer, false, ba.send, (e) => errors.push(e));
  a.onNegotiationNeeded = () => void na.negotiationNeeded();
  b.onNegotiationNeeded = () => void nb.negotiationNeeded();
  const done = () =>
    ab.idle() && ba.idle() && !a.needsNegotiation && !b.needsNegotiation &&
    a.signalingState === "stable" && b.signalingState === "stable";
  return { a, b, na, nb, errors, done };
}

describe("perfect negotiation", () => {
  it("settles without errors when both sides offer at once (glare)", async () => {
    for (let run = 0; run < 20; run++) {
      const { a, b, errors, done } = pair();
      a.onNegotiationNeeded();
      b.onNegotiationNeeded();
      await settle(done);
      expect(errors).toEqual([]);
      expect(done()).toBe(true);
      expect(a.remoteDescription?.sdp).toBe(b.localDescription?.sdp);
      expect(b.remoteDescription?.sdp).toBe(a.localDescription?.sdp);
    }
  });

  it("settles when only one side starts", async () => {
    const { b, errors, done } = pair();
    b.onNegotiationNeeded();
    await settle(done);
    expect(errors).toEqual([]);
    expect(done()).toBe(true);
  });

  it("holds candidates until the remote description is set", async () => {
    const a = new FakePeer("a");
    const sent: NegotiationMessage[] = [];
    const n = new Negotiator(a as unknown as NegotiablePeer, true, (m) => sent.push(m));
    await n.receive({ candidate: { candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host" } });
    expect(n.bufferedCandidates).toBe(1);
    expect(a.addedCandidates).toEqual([]);
    await n.receive({ description: { type: "offer", sdp: "remote-offer" } });
    expect(n.bufferedCandidates).toBe(0);
    expect(a.addedCandidates).toEqual(["candidate:1 1 udp 1 10.0.0.1 5000 typ host"]);
    expect(sent).toEqual([{ description: { type: "answer", sdp: "a-answer-1" } }]);
  });
});

describe("parseNegotiationMessage", () => {
  it("keeps descriptions and candidates, drops everything else", () => {
    expect(parseNegotiationMessage({ description: { type: "offer", sdp: "x" } })).toEqual({
      description: { type: "offer", sdp: "x" },
    });
    expect(parseNegotiationMessage({ candidate: null })).toEqual({ candidate: null });
    expect(
      parseNegotiationMessage({ candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0 } }),
    ).toEqual({ candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0 } });
    for (const bad of [null, 3, "x", {}, { description: { type: "pranswer", sdp: "x" } },
      { candidate: { candidate: 5 } }]) {
      expect(parseNegotiationMessage(bad)).toBeNull();
    }
  });
});
