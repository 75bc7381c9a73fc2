/**
 * One call with one remote peer: a peer connection driven by perfect negotiation, the media
 * senders, the chat and file channels, ICE restarts, the verification code and quality stats.
 */
import type { PeerId } from "../protocol/generated";
import { ChatChannel, type ChatMessage, type RemoteMediaState } from "./chat";
import { Emitter } from "./emitter";
import { FileTransfers, type Transfer } from "./files";
import { Negotiator, parseNegotiationMessage } from "./negotiation";
import type { PeerConnectionFactory, PeerConnectionLike } from "./peer";
import { reportEntries, summarizeStats, type CallStats } from "./stats";
import { verificationCode } from "./verify";

/** The polite side's request that the impolite side restart ICE (a relayed signal payload). */
const RESTART_REQUEST = { restartIce: true } as const;
/** A polite side asked again within this long restarts ICE itself: asking did not help. */
const RESTART_ASK_MS = 6000;
/** The impolite side ignores a request this soon after its own restart (that one answers it). */
const RESTART_IN_FLIGHT_MS = 2500;

/** Whether a relayed payload is the polite side's restart request. */
function isRestartRequest(data: unknown): boolean {
  return typeof data === "object" && data !== null && (data as Record<string, unknown>).restartIce === true;
}

/** What the call-state indicator shows. */
export type CallState = "connecting" | "connected" | "reconnecting" | "failed";

/**
 * Why a call never connected: `relay-unavailable` when TURN was configured but gave us no relay
 * (refused credentials, unreachable), `no-path` when there was no relay to fall back on.
 */
export type NoPathReason = "no-path" | "relay-unavailable";

/** True for `turn:`/`turns:` entries. */
function hasTurn(servers: RTCIceServer[]): boolean {
  return servers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u)));
}

/** How a call is set up. */
export interface CallInit {
  /** The other side. */
  remote: PeerId;
  /** True if our peer id sorts lower (we yield on offer collisions). */
  polite: boolean;
  /** `[]` for LAN/device calls; the server's plus the user's for rooms. */
  iceServers: RTCIceServer[];
  factory: PeerConnectionFactory;
  /** Sends a payload to the other side through the signaling server. */
  signal: (data: unknown) => void;
  /** The local preview stream the tracks belong to. */
  stream: MediaStream;
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  /** How long "disconnected" may last before the impolite side restarts ICE (ms). */
  restartAfterMs?: number;
  /** How much longer the polite side waits before restarting too (ms). */
  politeExtraMs?: number;
  /** How long without a working path before a once-connected call is declared failed (ms). */
  giveUpAfterMs?: number;
  /** How long a call that never connected may try before it says so (ms, under 15 s). */
  firstConnectMs?: number;
  /** How long nothing may arrive on a connected call before the impolite side restarts ICE (ms). */
  silenceRestartMs?: number;
}

type Events = {
  state: CallState;
  remoteStream: MediaStream;
  messages: ChatMessage[];
  transfers: Transfer[];
  remoteMedia: RemoteMediaState;
  /** The other side hung up (said so over the peer link). */
  bye: null;
  /** The peer link closed without a goodbye (tab closed, app killed). */
  gone: null;
  verification: string;
  /** The media path looks lost (silence or "disconnected"): the signaling path may be too. */
  pathLost: null;
};

/** A call with one peer. */
export class Call {
  readonly remote: PeerId;
  /** True if we yield on offer collisions. */
  readonly polite: boolean;
  readonly chat: ChatChannel;
  readonly files: FileTransfers;
  private readonly events = new Emitter<Events>();
  private readonly pc: PeerConnectionLike;
  private readonly negotiator: Negotiator;
  private readonly senders: { audio?: RTCRtpSender; video?: RTCRtpSender } = {};
  private readonly stream: MediaStream;
  private readonly remoteTracks = new MediaStream();
  private current: CallState = "connecting";
  private everConnected = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private giveUpTimer: ReturnType<typeof setTimeout> | null = null;
  private lastStats: CallStats | null = null;
  private closed = false;
  private code: string | null = null;
  private readonly restartAfterMs: number;
  private readonly politeExtraMs: number;
  private readonly giveUpAfterMs: number;
  private readonly firstConnectMs: number;
  private readonly turnConfigured: boolean;
  private relayGathered = false;
  private readonly silenceRestartMs: number;
  private flowTimer: ReturnType<typeof setInterval> | null = null;
  private inboundBytes = -1;
  private inboundChangedAt = 0;
  private lastRestartAt = 0;
  /** When the polite side last asked the impolite one to restart ICE. */
  private restartAskedAt = -Infinity;
  private silent = false;
  private readonly sendSignal: (data: unknown) => void;
  private readonly turnErrors: string[] = [];

  constructor(init: CallInit) {
    this.remote = init.remote;
    this.polite = init.polite;
    this.stream = init.stream;
    // A lost path shows as "disconnected" after ~2.5 s without checks answered; restarting
    // soon after keeps a NAT rebinding under 5 s. A restart while media still flows is harmless:
    // the old pair stays selected until a new one works.
    this.restartAfterMs = init.restartAfterMs ?? 300;
    this.politeExtraMs = init.politeExtraMs ?? 2000;
    this.giveUpAfterMs = init.giveUpAfterMs ?? 30_000;
    this.firstConnectMs = init.firstConnectMs ?? 12_000;
    this.turnConfigured = hasTurn(init.iceServers);
    this.silenceRestartMs = init.silenceRestartMs ?? 1200;
    this.sendSignal = init.signal;
    this.pc = init.factory({ iceServers: init.iceServers });
    this.negotiator = new Negotiator(this.pc, init.polite, (m) => init.signal(m));

    // Negotiated channels exist on both sides from the start: no `datachannel` race.
    const chat = this.pc.createDataChannel("chat", { negotiated: true, id: 0, ordered: true });
    const files = this.pc.createDataChannel("files", { negotiated: true, id: 1, ordered: true });
    files.binaryType = "arraybuffer";
    this.chat = new ChatChannel(chat);
    this.files = new FileTransfers(files);
    chat.addEventListener("open", () => this.chat.opened());
    chat.addEventListener("close", () => {
      this.chat.closed();
      // SCTP outlives ICE restarts, so a closing channel means the other side closed its end.
      if (!this.closed) this.events.emit("gone", null);
    });
    chat.addEventListener("message", (ev) => this.chat.receive(ev.data));
    files.addEventListener("message", (ev) => {
      const data: unknown = ev.data;
      if (typeof data === "string" || data instanceof ArrayBuffer) void this.files.receive(data);
    });
    files.addEventListener("bufferedamountlow", () => this.files.bufferedAmountLow());
    files.addEventListener("close", () => this.files.channelClosed());
    this.chat.on("messages", (m) => this.events.emit("messages", m));
    this.chat.on("media", (m) => this.events.emit("remoteMedia", m));
    this.chat.on("bye", () => this.events.emit("bye", null));
    this.files.onChange((t) => this.events.emit("transfers", t));

    this.pc.addEventListener("negotiationneeded", () => void this.negotiator.negotiationNeeded());
    this.pc.addEventListener("icecandidate", (ev) => {
      if (ev.candidate?.type === "relay" || / typ relay /.test(ev.candidate?.candidate ?? "")) this.relayGathered = true;
      this.negotiator.localCandidate(ev.candidate);
    });
    // TURN refusing our credentials (401) or not answering (701) is reported here, not as a
    // state: remember it to say "relay unavailable" rather than "no path" if we never connect.
    this.pc.addEventListener("icecandidateerror", (ev) => {
      const e = ev as RTCPeerConnectionIceErrorEvent;
      if (/^turns?:/.test(e.url ?? "")) this.turnErrors.push(`${e.errorCode} ${e.errorText ?? ""} ${e.url}`);
    });
    this.pc.addEventListener("track", (ev) => this.onRemoteTrack(ev.track));
    this.pc.addEventListener("connectionstatechange", () => this.onConnectionChange());
    this.pc.addEventListener("iceconnectionstatechange", () => this.onConnectionChange());

    if (init.audio) this.senders.audio = this.pc.addTrack(init.audio, this.stream);
    if (init.video) this.senders.video = this.pc.addTrack(init.video, this.stream);
    this.armGiveUp();
    // Audio (even muted: silence frames) and RTCP arrive several times a second on a live call,
    // so a second of nothing means the path is gone: sooner than the engine's "disconnected".
    this.flowTimer = setInterval(() => void this.watchInbound(), 300);
  }

  /** Subscribes to an event. */
  on<K extends keyof Events>(event: K, handler: (value: Events[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  /** The call-state indicator's value. */
  get state(): CallState {
    return this.current;
  }

  /** Why the call never connected (meaningful once the state is `failed` before connecting). */
  get noPathReason(): NoPathReason {
    return this.turnConfigured && (!this.relayGathered || this.turnErrors.length > 0) ? "relay-unavailable" : "no-path";
  }

  /** TURN errors seen while gathering (diagnostics). */
  get relayErrors(): readonly string[] {
    return this.turnErrors;
  }

  /** The verification code once connected. */
  get verification(): string | null {
    return this.code;
  }

  /** The remote media, as one stream for a `<video>`. */
  get remoteStream(): MediaStream {
    return this.remoteTracks;
  }

  /** Feeds a payload relayed from the other side. */
  async handleSignal(data: unknown): Promise<void> {
    if (isRestartRequest(data)) {
      // The polite side asks; a restart of our own that is under way already answers it.
      if (!this.closed && !this.polite && Date.now() - this.lastRestartAt > RESTART_IN_FLIGHT_MS) this.restartIce();
      return;
    }
    const msg = parseNegotiationMessage(data);
    if (msg && !this.closed) await this.negotiator.receive(msg);
  }

  /** Swaps what a sender carries (mute stays with the track; null sends nothing). */
  async setTrack(kind: "audio" | "video", track: MediaStreamTrack | null): Promise<void> {
    if (this.closed) return;
    const sender = this.senders[kind];
    if (sender) {
      await sender.replaceTrack(track);
    } else if (track) {
      // First video of an audio-only call (e.g. screen share): this renegotiates.
      this.senders[kind] = this.pc.addTrack(track, this.stream);
    }
  }

  /**
   * The other side's signaling came back after a drop (or ours did): what we sent meanwhile
   * may be lost, so an unanswered offer is sent again, and a broken call restarts ICE.
   */
  peerResumed(): void {
    if (this.closed) return;
    const local = this.pc.localDescription;
    if (this.pc.signalingState === "have-local-offer" && local) {
      this.sendSignal({ description: { type: local.type, sdp: local.sdp } });
    } else if (this.current !== "connected" || this.silent) {
      this.restartIce();
    }
  }

  /**
   * Restarts ICE now (network change, or the connection failed). The polite side first asks the
   * impolite one to do it: two restart offers crossing make the polite side roll its own back,
   * and Chromium's rollback rebuilds the video receive stream without its sink, so the call
   * decodes video that the <video> never shows (tests/nat/README.md). Only if asking did not
   * help (asked again within RESTART_ASK_MS, e.g. a peer that ignores requests) does the polite
   * side offer the restart itself.
   */
  restartIce(): void {
    if (this.closed) return;
    const now = Date.now();
    this.lastRestartAt = now;
    if (this.polite && now - this.restartAskedAt > RESTART_ASK_MS) {
      this.restartAskedAt = now;
      this.sendSignal(RESTART_REQUEST);
      return;
    }
    this.pc.restartIce();
  }

  /** One reading of call quality. */
  async stats(): Promise<CallStats> {
    const report = await this.pc.getStats();
    this.lastStats = summarizeStats(reportEntries(report), this.lastStats);
    return this.lastStats;
  }

  /** Ends the call; `sayBye` tells the far side over the peer link first. */
  close(sayBye: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    if (this.flowTimer !== null) clearInterval(this.flowTimer);
    if (sayBye) {
      this.chat.bye();
      // Let the goodbye leave before the transport is torn down; it beats the server's notice.
      setTimeout(() => this.pc.close(), 250);
    } else {
      this.pc.close();
    }
    this.chat.dispose();
    this.files.dispose();
    this.events.clear();
  }

  private onRemoteTrack(track: MediaStreamTrack): void {
    for (const old of this.remoteTracks.getTracks()) {
      if (old.kind === track.kind && old !== track) this.remoteTracks.removeTrack(old);
    }
    if (!this.remoteTracks.getTracks().includes(track)) this.remoteTracks.addTrack(track);
    this.events.emit("remoteStream", this.remoteTracks);
  }

  private onConnectionChange(): void {
    if (this.closed) return;
    const conn = this.pc.connectionState;
    const ice = this.pc.iceConnectionState;
    if (conn === "connected" || (conn === undefined && (ice === "connected" || ice === "completed"))) {
      this.everConnected = true;
      this.clearTimers();
      this.setState("connected");
      void this.updateVerification();
      return;
    }
    const failed = conn === "failed" || ice === "failed";
    if (failed || conn === "disconnected" || ice === "disconnected") {
      if (this.everConnected && this.current !== "reconnecting") this.events.emit("pathLost", null);
      this.setState(this.everConnected ? "reconnecting" : "connecting");
      // The impolite side restarts first; the polite one only if that did not help, so that
      // both rarely offer at once (glare needs a rollback, which engines handle least well).
      const wait = (failed ? 0 : this.restartAfterMs) + (this.polite ? this.politeExtraMs : 0);
      if (this.restartTimer === null) {
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          if (this.pc.connectionState !== "connected") this.restartIce();
        }, wait);
      }
      this.armGiveUp();
    }
  }

  private armGiveUp(): void {
    if (this.giveUpTimer !== null) return;
    this.giveUpTimer = setTimeout(() => {
      this.giveUpTimer = null;
      if (this.current !== "connected") this.setState("failed");
    }, this.everConnected ? this.giveUpAfterMs : this.firstConnectMs);
  }

  private async watchInbound(): Promise<void> {
    if (this.closed || !this.everConnected) return;
    let bytes = 0;
    try {
      const report = await this.pc.getStats();
      for (const e of reportEntries(report)) {
        if (e.type === "transport" && typeof e.bytesReceived === "number") bytes += e.bytesReceived;
      }
    } catch {
      return;
    }
    const now = Date.now();
    if (bytes !== this.inboundBytes) {
      this.inboundBytes = bytes;
      this.inboundChangedAt = now;
      this.silent = false;
      return;
    }
    if (!this.silent && now - this.inboundChangedAt >= this.silenceRestartMs) {
      this.silent = true;
      this.events.emit("pathLost", null);
    }
    const wait = this.silenceRestartMs + (this.polite ? this.politeExtraMs : 0);
    // One restart per few seconds: a restart needs a signaling round trip and new checks.
    if (now - this.inboundChangedAt >= wait && now - this.lastRestartAt >= 4000) {
      this.lastRestartAt = now;
      this.restartIce();
    }
  }

  private clearTimers(): void {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    if (this.giveUpTimer !== null) clearTimeout(this.giveUpTimer);
    this.restartTimer = this.giveUpTimer = null;
  }

  private async updateVerification(): Promise<void> {
    const local = this.pc.localDescription?.sdp;
    const remote = this.pc.currentRemoteDescription?.sdp ?? this.pc.remoteDescription?.sdp;
    if (!local || !remote) return;
    const code = await verificationCode(local, remote);
    if (code && code !== this.code && !this.closed) {
      this.code = code;
      this.events.emit("verification", code);
    }
  }

  private setState(state: CallState): void {
    if (state === this.current) return;
    this.current = state;
    this.events.emit("state", state);
  }
}
