/**
 * `Transport` in the app: the backend dials the WebSocket (`transport_open`) and relays frames
 * over a channel (src-tauri/src/transport_bridge.rs). Reconnecting is WebSocketTransport's own,
 * so both behave the same: this only swaps the socket for one that lives in the backend.
 */
import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
import type { AppIpc } from "./ipc";
import type { TransportEvent } from "../protocol/app-ipc";
import { WebSocketTransport } from "./websocket-transport";

/** What the backend reports on a connection's channel. */
export type BridgeEvent = TransportEvent;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * The slice of the WebSocket API that WebSocketTransport uses, over the bridge's commands.
 * Sends are chained, so frames leave in the order given even though each is its own command.
 */
export class BridgeSocket {
  readyState = CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private readonly id: Promise<number | null>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly url: string,
    private readonly ipc: Pick<AppIpc, "invoke" | "channel">,
  ) {
    const channel = ipc.channel<BridgeEvent>((event) => this.onEvent(event));
    this.id = ipc.invoke<number>("transport_open", { url, channel }).catch((err: unknown) => {
      console.warn("parley: cannot open", url, err);
      this.finish();
      return null;
    });
  }

  send(text: string): void {
    if (this.readyState !== OPEN) return;
    this.enqueue(async (id) => {
      try {
        await this.ipc.invoke("transport_send", { id, text });
      } catch (err) {
        // Closed: the channel reports it. Busy: the frame is lost, like a dropped packet.
        console.warn("parley: frame not sent", err);
      }
    });
  }

  close(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    // After the queued frames, so a goodbye sent just before closing still goes out.
    this.enqueue((id) => this.ipc.invoke("transport_close", { id }).catch(() => {}));
  }

  private enqueue(work: (id: number) => Promise<unknown>): void {
    this.queue = this.queue.then(async () => {
      const id = await this.id;
      if (id !== null) await work(id);
    });
  }

  private onEvent(event: BridgeEvent): void {
    if (this.readyState === CLOSED) return;
    switch (event.kind) {
      case "open":
        this.readyState = OPEN;
        this.onopen?.();
        return;
      case "text":
        this.onmessage?.({ data: event.text });
        return;
      case "closed":
        this.finish();
        return;
    }
  }

  private finish(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.();
  }
}

/** A reconnecting transport whose connection lives in the app's backend. */
export class TauriTransport extends WebSocketTransport {
  constructor(url: string, ipc: Pick<AppIpc, "invoke" | "channel">, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    // BridgeSocket has every member the transport touches; the cast is to the DOM type only.
    super(url, backoff, (u) => new BridgeSocket(u, ipc) as unknown as WebSocket);
  }
}
