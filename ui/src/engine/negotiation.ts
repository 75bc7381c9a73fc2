/**
 * Perfect negotiation (W3C/MDN pattern): either side may start at any time; on an offer
 * collision the polite side yields (rolling back its own offer) and the impolite side ignores
 * the other's offer. ICE candidates that arrive before a remote description are held.
 */

/** What the two sides exchange through the signaling server. */
export type NegotiationMessage =
  | { description: RTCSessionDescriptionInit }
  | { candidate: RTCIceCandidateInit | null };

/** The part of a peer connection negotiation drives. */
export type NegotiablePeer = Pick<
  RTCPeerConnection,
  | "signalingState"
  | "remoteDescription"
  | "localDescription"
  | "setLocalDescription"
  | "setRemoteDescription"
  | "addIceCandidate"
>;

/** Parses a relayed payload; `null` if it is not a negotiation message. */
export function parseNegotiationMessage(data: unknown): NegotiationMessage | null {
  if (typeof data !== "object" || data === null) return null;
  const o = data as Record<string, unknown>;
  if ("description" in o) {
    const d = o.description;
    if (typeof d !== "object" || d === null) return null;
    const { type, sdp } = d as Record<string, unknown>;
    if ((type === "offer" || type === "answer") && typeof sdp === "string") {
      return { description: { type, sdp } };
    }
    return null;
  }
  if ("candidate" in o) {
    const c = o.candidate;
    if (c === null) return { candidate: null };
    if (typeof c !== "object") return null;
    const r = c as Record<string, unknown>;
    if (typeof r.candidate !== "string") return null;
    const init: RTCIceCandidateInit = { candidate: r.candidate };
    if (typeof r.sdpMid === "string") init.sdpMid = r.sdpMid;
    if (typeof r.sdpMLineIndex === "number") init.sdpMLineIndex = r.sdpMLineIndex;
    if (typeof r.usernameFragment === "string") init.usernameFragment = r.usernameFragment;
    return { candidate: init };
  }
  return null;
}

/** Drives one peer connection's offer/answer exchange. */
export class Negotiator {
  private makingOffer = false;
  private ignoreOffer = false;
  private settingRemoteAnswer = false;
  private pendingCandidates: Array<RTCIceCandidateInit | null> = [];

  constructor(
    private readonly pc: NegotiablePeer,
    /** The polite side yields on collisions: the peer whose id sorts lower. */
    readonly polite: boolean,
    private readonly send: (message: NegotiationMessage) => void,
    private readonly onError: (err: unknown) => void = (err) =>
      console.warn("parley: negotiation", err),
  ) {}

  /** Call from `negotiationneeded`. */
  async negotiationNeeded(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const local = this.pc.localDescription;
      if (local) this.send({ description: { type: local.type, sdp: local.sdp } });
    } catch (err) {
      this.onError(err);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Call from `icecandidate`; `null` marks the end of gathering. */
  localCandidate(candidate: RTCIceCandidate | null): void {
    this.send({ candidate: candidate ? candidate.toJSON() : null });
  }

  /** Handles one message from the other side. */
  async receive(message: NegotiationMessage): Promise<void> {
    try {
      if ("description" in message) {
        await this.receiveDescription(message.description);
      } else {
        await this.receiveCandidate(message.candidate);
      }
    } catch (err) {
      this.onError(err);
    }
  }

  private async receiveDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const readyForOffer =
      !this.makingOffer && (this.pc.signalingState === "stable" || this.settingRemoteAnswer);
    const collision = description.type === "offer" && !readyForOffer;
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    this.settingRemoteAnswer = description.type === "answer";
    try {
      // A polite side with an offer of its own out rolls it back implicitly here.
      await this.pc.setRemoteDescription(description);
    } finally {
      this.settingRemoteAnswer = false;
    }
    await this.flushCandidates();
    if (description.type === "offer") {
      await this.pc.setLocalDescription();
      const local = this.pc.localDescription;
      if (local) this.send({ description: { type: local.type, sdp: local.sdp } });
    }
  }

  private async receiveCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    await this.addCandidate(candidate);
  }

  private async flushCandidates(): Promise<void> {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of pending) await this.addCandidate(c);
  }

  private async addCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    try {
      // `undefined` signals end-of-candidates the way every engine accepts.
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch (err) {
      // Candidates for an offer we ignored are expected to fail.
      if (!this.ignoreOffer) throw err;
    }
  }

  /** Candidates still waiting for a remote description (for tests and diagnostics). */
  get bufferedCandidates(): number {
    return this.pendingCandidates.length;
  }
}
