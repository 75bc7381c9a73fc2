/**
 * A signaling session on one server: hello/welcome, keep-alive, resume after reconnects, and the
 * room and doorbell requests. Knows nothing of calls; it only moves messages.
 */
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type KnockId,
  type Media,
  type PeerId,
  type ServerMessage,
} from "../protocol/generated";
import { Emitter } from "./emitter";
import type { Transport, TransportState } from "./transport";

/** What the signaling indicator shows. */
export type SignalingState = "online" | "reconnecting" | "offline";

/** The `welcome` message. */
export type Welcome = Extract<ServerMessage, { type: "welcome" }>;

type Events = {
  /** Every server message after the handshake (pings excluded). */
  message: ServerMessage;
  state: SignalingState;
  /** A new (not resumed) identity was assigned: whatever room we were in is gone. */
  welcome: Welcome;
  /** A connection attempt failed before the server ever answered (wrong URL, server down). */
  unreachable: null;
};

/** Options for a session. */
export interface SessionOptions {
  /** Device-mode owner token. */
  ownerToken?: string;
  /** Keep-alive period in ms; two silent periods restart the transport. */
  pingMs?: number;
}

/** Most signal messages held while the server is away (an ICE restart needs only a few). */
const MAX_QUEUED_SIGNALS = 256;

/** One conversation with a signaling server, surviving reconnects. */
export class SignalingSession {
  private readonly events = new Emitter<Events>();
  private welcomeMsg: Welcome | null = null;
  private online = false;
  private lastHeard = 0;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private queued: ClientMessage[] = [];
  private unsubscribe: Array<() => void> = [];
  private everOnline = false;
  private currentState: SignalingState = "reconnecting";

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions = {},
  ) {}

  /** Our peer id, once welcomed. */
  get peerId(): PeerId | null {
    return this.welcomeMsg?.peerId ?? null;
  }

  /** The latest welcome. */
  get welcome(): Welcome | null {
    return this.welcomeMsg;
  }

  /** The signaling indicator's state. */
  get state(): SignalingState {
    return this.currentState;
  }

  /** True once a welcome has ever arrived on this session. */
  get hasBeenOnline(): boolean {
    return this.everOnline;
  }

  /** Subscribes to session events. */
  on<K extends keyof Events>(event: K, handler: (value: Events[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  /** Connects and keeps the session alive until `close`. */
  start(): void {
    this.unsubscribe.push(
      this.transport.onState((s) => this.onTransportState(s)),
      this.transport.onMessage((m) => this.onMessage(m)),
    );
    const period = this.options.pingMs ?? 15_000;
    this.pingTimer = setInterval(() => this.keepAlive(period), period);
    this.transport.connect();
  }

  /** Leaves for good. */
  close(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.transport.close();
    this.setState("offline");
    this.events.clear();
  }

  /**
   * After a network change: pings now and reconnects (resuming) if the server stays silent,
   * instead of waiting for the keep-alive to notice a dead connection.
   */
  checkAlive(timeoutMs = 1500): void {
    if (!this.online) return;
    const asked = Date.now();
    this.transport.send({ type: "ping" });
    setTimeout(() => {
      if (this.online && this.lastHeard < asked) this.transport.restart();
    }, timeoutMs);
  }

  /** Public mode: make a room. False if the server is not reachable right now. */
  create(): boolean {
    return this.sendNow({ type: "create" });
  }

  /** Public mode: enter a room by code. */
  join(code: string): boolean {
    return this.sendNow({ type: "join", code });
  }

  /** Leaves the current room. */
  leave(): boolean {
    return this.sendNow({ type: "leave" });
  }

  /** Relays an opaque payload to a room member; held and sent later while the server is away. */
  signal(to: PeerId, data: unknown): void {
    const msg: ClientMessage = { type: "signal", to, data };
    if (this.online && this.transport.send(msg)) return;
    if (this.queued.length < MAX_QUEUED_SIGNALS) this.queued.push(msg);
  }

  /** Device mode: ring the owner. */
  knock(name: string, device: string, media: Media): boolean {
    return this.sendNow({ type: "knock", name, device, media });
  }

  /** Device mode, owner: take a call. */
  accept(knock: KnockId): boolean {
    return this.sendNow({ type: "accept", knock });
  }

  /** Device mode, owner: refuse a call. */
  decline(knock: KnockId): boolean {
    return this.sendNow({ type: "decline", knock });
  }

  /** Device mode, caller: withdraw the knock. */
  cancel(): boolean {
    return this.sendNow({ type: "cancel" });
  }

  private sendNow(msg: ClientMessage): boolean {
    return this.online && this.transport.send(msg);
  }

  private onTransportState(state: TransportState): void {
    if (state === "open") {
      const hello: ClientMessage = { type: "hello", version: PROTOCOL_VERSION };
      if (this.options.ownerToken) hello.token = this.options.ownerToken;
      if (this.welcomeMsg) {
        hello.resume = { peerId: this.welcomeMsg.peerId, token: this.welcomeMsg.resumeToken };
      }
      this.lastHeard = Date.now();
      this.transport.send(hello);
      return;
    }
    this.online = false;
    this.setState(state === "closed" ? "offline" : "reconnecting");
    if (state === "reconnecting" && !this.everOnline) this.events.emit("unreachable", null);
  }

  private onMessage(msg: ServerMessage): void {
    this.lastHeard = Date.now();
    switch (msg.type) {
      case "welcome": {
        const fresh = !msg.resumed;
        this.welcomeMsg = msg;
        this.online = true;
        this.everOnline = true;
        this.setState("online");
        if (fresh) this.events.emit("welcome", msg);
        this.flush();
        return;
      }
      case "ping":
        this.transport.send({ type: "pong" });
        return;
      case "pong":
        return;
      default:
        this.events.emit("message", msg);
    }
  }

  private flush(): void {
    const pending = this.queued;
    this.queued = [];
    for (const msg of pending) {
      // Signals queued for a previous identity still name valid peers when resumed; when not,
      // the server answers no-such-peer, which is harmless.
      if (!this.transport.send(msg)) {
        this.queued.push(msg);
      }
    }
  }

  private keepAlive(period: number): void {
    if (!this.online) return;
    if (Date.now() - this.lastHeard > 2 * period + 1000) {
      this.transport.restart();
      return;
    }
    this.transport.send({ type: "ping" });
  }

  private setState(state: SignalingState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.events.emit("state", state);
  }
}
