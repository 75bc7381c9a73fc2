/** `Transport` over a browser WebSocket, reconnecting with jittered exponential backoff. */
import type { ClientMessage, ServerMessage } from "../protocol/generated";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
import { decodeServerMessage } from "./decode";
import { Emitter } from "./emitter";
import type { Transport, TransportState } from "./transport";

type Events = { message: ServerMessage; state: TransportState };

/** The constructor a transport uses; swapped in tests. */
export type SocketFactory = (url: string) => WebSocket;

/** A reconnecting WebSocket carrying JSON text frames. */
export class WebSocketTransport implements Transport {
  private readonly events = new Emitter<Events>();
  private socket: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closedOnPurpose = false;
  private current: TransportState = "connecting";

  constructor(
    /** `ws://` or `wss://` URL of the server's `/ws` endpoint. */
    readonly url: string,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly makeSocket: SocketFactory = (u) => new WebSocket(u),
  ) {}

  /** The latest state. */
  get state(): TransportState {
    return this.current;
  }

  connect(): void {
    this.closedOnPurpose = false;
    this.open();
  }

  send(message: ClientMessage): boolean {
    // 1 = WebSocket.OPEN (the global may be missing outside browsers).
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close(): void {
    this.closedOnPurpose = true;
    this.clearRetry();
    this.socket?.close(1000);
    this.socket = null;
    this.setState("closed");
  }

  restart(): void {
    if (this.closedOnPurpose) return;
    this.dropSocket();
    this.scheduleRetry();
  }

  onMessage(handler: (message: ServerMessage) => void): () => void {
    return this.events.on("message", handler);
  }

  onState(handler: (state: TransportState) => void): () => void {
    return this.events.on("state", handler);
  }

  private open(): void {
    this.clearRetry();
    this.dropSocket();
    let socket: WebSocket;
    try {
      socket = this.makeSocket(this.url);
    } catch {
      // A malformed URL throws synchronously; treat it like an unreachable server.
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setState("open");
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== "string") return;
      const msg = decodeServerMessage(ev.data);
      if (msg) this.events.emit("message", msg);
      else console.warn("parley: dropped malformed server frame");
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.closedOnPurpose) this.scheduleRetry();
    };
    // Errors are always followed by close, which does the work.
    socket.onerror = () => {};
  }

  private dropSocket(): void {
    const old = this.socket;
    this.socket = null;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try {
        old.close();
      } catch {
        // Already closing.
      }
    }
  }

  private scheduleRetry(): void {
    this.clearRetry();
    this.setState("reconnecting");
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: TransportState): void {
    if (state === this.current) return;
    this.current = state;
    this.events.emit("state", state);
  }
}
