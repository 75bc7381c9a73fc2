/** `RTCDataChannel`'s shape over the native engine (negotiated channels only, as calls use). */
import { toBase64 } from "./bridge";

/** Runs an engine command for this channel; resolves to the engine's buffered amount. */
export type ChannelCommand = (command: string, args: Record<string, unknown>) => Promise<number>;

/** A message event (Node's test environment may lack `MessageEvent`). */
export class NativeMessageEvent extends Event {
  constructor(readonly data: string | ArrayBuffer) {
    super("message");
  }
}

/** One data channel of a native peer connection. */
export class NativeDataChannel extends EventTarget {
  readyState: RTCDataChannelState = "connecting";
  binaryType: BinaryType = "arraybuffer";
  bufferedAmountLowThreshold = 0;
  /** Bytes handed to the engine and not yet reported sent. */
  bufferedAmount = 0;

  constructor(
    private readonly command: ChannelCommand,
    readonly label: string,
    readonly id: number,
  ) {
    super();
  }

  /** Sends text or bytes; the engine queues them in order. */
  send(data: string | ArrayBufferView | ArrayBuffer | Blob): void {
    if (this.readyState !== "open") throw new DOMException("channel not open", "InvalidStateError");
    if (typeof data === "string") {
      this.bufferedAmount += data.length;
      void this.track(this.command("native_send_text", { text: data }));
      return;
    }
    if (data instanceof Blob) throw new TypeError("Blob sends are not supported by the native engine");
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.bufferedAmount += bytes.byteLength;
    void this.track(
      this.command("native_send_binary", { base64: toBase64(bytes) }),
    );
  }

  /** Closes this channel. */
  close(): void {
    this.readyState = "closed";
  }

  /** @internal engine events */
  opened(): void {
    this.readyState = "open";
    this.dispatchEvent(new Event("open"));
  }

  /** @internal */
  closedByEngine(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.dispatchEvent(new Event("close"));
  }

  /** @internal */
  message(data: string | ArrayBuffer): void {
    this.dispatchEvent(new NativeMessageEvent(data));
  }

  /** @internal the engine's own count of bytes still queued */
  buffered(amount: number): void {
    const before = this.bufferedAmount;
    this.bufferedAmount = amount;
    if (before > this.bufferedAmountLowThreshold && amount <= this.bufferedAmountLowThreshold) {
      this.dispatchEvent(new Event("bufferedamountlow"));
    }
  }

  private async track(sent: Promise<number>): Promise<void> {
    try {
      this.buffered(await sent);
    } catch (err) {
      console.warn("parley: native channel send failed", err);
      this.closedByEngine();
    }
  }
}
