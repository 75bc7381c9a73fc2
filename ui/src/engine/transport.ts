/** How the call engine talks to a signaling server, whatever carries the bytes. */
import type { ClientMessage, ServerMessage } from "../protocol/generated";

/**
 * `connecting`: first attempt under way; `open`: messages flow; `reconnecting`: lost or never
 * reached, retrying with backoff; `closed`: closed on purpose, no more retries.
 */
export type TransportState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * A message pipe to one signaling server. `WebSocketTransport` in browsers; the app supplies an
 * IPC-backed one with the same shape. Implementations reconnect by themselves until `close`.
 */
export interface Transport {
  /** Starts connecting (and keeps reconnecting after losses). */
  connect(): void;
  /** Sends one message; false if the pipe is not open right now (nothing is queued). */
  send(message: ClientMessage): boolean;
  /** Closes for good. */
  close(): void;
  /** Drops the current connection and reconnects (used when keep-alives go unanswered). */
  restart(): void;
  /** Every decoded server message. Returns an unsubscribe function. */
  onMessage(handler: (message: ServerMessage) => void): () => void;
  /** Every state change. Returns an unsubscribe function. */
  onState(handler: (state: TransportState) => void): () => void;
}
