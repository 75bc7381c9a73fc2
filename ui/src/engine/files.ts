/**
 * File transfer over one ordered data channel. One file at a time per direction: a JSON `offer`,
 * then binary chunks, then a JSON `end` carrying the sender's SHA-256, which the receiver checks
 * before offering the file for saving. Sending pauses while the channel's buffer is full.
 */
import { Emitter } from "./emitter";

/** The part of an `RTCDataChannel` file transfer needs. */
export interface ByteChannel {
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: string): void;
  send(data: ArrayBufferView<ArrayBuffer>): void;
}

/** What the UI shows for one transfer. */
export interface Transfer {
  id: string;
  direction: "send" | "receive";
  name: string;
  size: number;
  mime: string;
  /** Bytes moved so far. */
  bytes: number;
  state: "sending" | "receiving" | "done" | "failed" | "cancelled";
  /** Lower-case hex SHA-256, set when done (and, receiving, verified). */
  sha256?: string;
  /** Download link for a received, verified file. */
  url?: string;
}

type Wire =
  | { t: "offer"; id: string; name: string; size: number; mime: string }
  | { t: "end"; id: string; sha256: string }
  | { t: "cancel"; id: string }
  | { t: "ok"; id: string }
  | { t: "bad"; id: string };

/** Tuning knobs; defaults suit every browser pair. */
export interface FileOptions {
  /** Bytes per data-channel message (64 KiB works between current engines). */
  chunkBytes: number;
  /** Pause sending above this many buffered bytes... */
  highWaterBytes: number;
  /** ...and resume when the buffer drains below this. */
  lowWaterBytes: number;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Makes a download URL for a received file. */
  makeUrl: (blob: Blob) => string;
}

const DEFAULTS: FileOptions = {
  chunkBytes: 64 * 1024,
  highWaterBytes: 4 * 1024 * 1024,
  lowWaterBytes: 1024 * 1024,
  maxBytes: 2 * 1024 * 1024 * 1024,
  makeUrl: (blob) => URL.createObjectURL(blob),
};

/** Lower-case hex SHA-256 of some bytes. */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Splits `size` bytes into `[start, end)` ranges of at most `chunk` bytes. */
export function chunkRanges(size: number, chunk: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < size; start += chunk) out.push([start, Math.min(size, start + chunk)]);
  return out;
}

function parseWire(text: string): Wire | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null) return null;
    const o = v as Record<string, unknown>;
    if (typeof o.id !== "string") return null;
    switch (o.t) {
      case "offer":
        return typeof o.name === "string" && typeof o.size === "number" && o.size >= 0
          ? { t: "offer", id: o.id, name: o.name, size: o.size, mime: typeof o.mime === "string" ? o.mime : "" }
          : null;
      case "end":
        return typeof o.sha256 === "string" ? { t: "end", id: o.id, sha256: o.sha256 } : null;
      case "cancel":
      case "ok":
      case "bad":
        return { t: o.t, id: o.id };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

interface Incoming {
  transfer: Transfer;
  chunks: ArrayBuffer[];
  /** Cancelled by us: drop its chunks until the sender notices. */
  dropping: boolean;
}

/** Sends and receives files over one channel; emits `change` with a fresh list. */
export class FileTransfers {
  private readonly events = new Emitter<{ change: Transfer[] }>();
  private readonly all: Transfer[] = [];
  private readonly queue: Array<{ transfer: Transfer; blob: Blob }> = [];
  private sendingNow: Transfer | null = null;
  private incoming: Incoming | null = null;
  private drained: (() => void) | null = null;
  private readonly opts: FileOptions;
  private lastEmit = 0;

  constructor(private readonly channel: ByteChannel, options: Partial<FileOptions> = {}) {
    this.opts = { ...DEFAULTS, ...options };
    channel.bufferedAmountLowThreshold = this.opts.lowWaterBytes;
  }

  /** Subscribes to list changes. */
  onChange(handler: (list: Transfer[]) => void): () => void {
    return this.events.on("change", handler);
  }

  /** A snapshot of every transfer, oldest first. */
  list(): Transfer[] {
    return this.all.map((t) => ({ ...t }));
  }

  /** Queues a file for sending; returns its transfer id. */
  send(blob: Blob, name: string): string {
    const transfer: Transfer = {
      id: crypto.randomUUID(),
      direction: "send",
      name,
      size: blob.size,
      mime: blob.type,
      bytes: 0,
      state: "sending",
    };
    this.all.push(transfer);
    this.queue.push({ transfer, blob });
    this.changed(true);
    void this.pump();
    return transfer.id;
  }

  /** Cancels a transfer in either direction. */
  cancel(id: string): void {
    const t = this.all.find((x) => x.id === id);
    if (!t || (t.state !== "sending" && t.state !== "receiving")) return;
    t.state = "cancelled";
    if (this.incoming?.transfer === t) {
      this.incoming.dropping = true;
      this.incoming.chunks = [];
    }
    this.sendControl({ t: "cancel", id });
    this.changed(true);
  }

  /** Wire to the channel's `bufferedamountlow` event. */
  bufferedAmountLow(): void {
    const resume = this.drained;
    this.drained = null;
    resume?.();
  }

  /** Wire to the channel's `close` event: whatever was moving fails. */
  channelClosed(): void {
    for (const t of this.all) {
      if (t.state === "sending" || t.state === "receiving") t.state = "failed";
    }
    this.bufferedAmountLow();
    this.changed(true);
  }

  /** Wire to the channel's `message` event. */
  async receive(data: string | ArrayBuffer): Promise<void> {
    if (typeof data !== "string") {
      const inc = this.incoming;
      if (!inc || inc.dropping) return;
      inc.chunks.push(data);
      inc.transfer.bytes += data.byteLength;
      if (inc.transfer.bytes > inc.transfer.size) this.failIncoming(inc);
      else this.changed(false);
      return;
    }
    const msg = parseWire(data);
    if (!msg) return;
    switch (msg.t) {
      case "offer":
        this.startIncoming(msg);
        return;
      case "end":
        await this.finishIncoming(msg.id, msg.sha256);
        return;
      case "cancel": {
        const t = this.all.find((x) => x.id === msg.id);
        if (t && (t.state === "sending" || t.state === "receiving")) t.state = "cancelled";
        if (this.incoming?.transfer.id === msg.id) this.incoming = null;
        this.changed(true);
        return;
      }
      case "ok":
      case "bad": {
        const t = this.all.find((x) => x.id === msg.id && x.direction === "send");
        if (t && t.state === "sending") t.state = msg.t === "ok" ? "done" : "failed";
        if (t && msg.t === "bad") delete t.sha256;
        this.changed(true);
        return;
      }
    }
  }

  /** Releases download URLs. */
  dispose(revoke: (url: string) => void = (u) => URL.revokeObjectURL(u)): void {
    for (const t of this.all) if (t.url) revoke(t.url);
    this.events.clear();
  }

  private startIncoming(msg: Extract<Wire, { t: "offer" }>): void {
    const transfer: Transfer = {
      id: msg.id,
      direction: "receive",
      name: msg.name.slice(0, 255) || "file",
      size: msg.size,
      mime: msg.mime,
      bytes: 0,
      state: "receiving",
    };
    this.all.push(transfer);
    if (this.incoming && this.incoming.transfer.state === "receiving") {
      this.incoming.transfer.state = "failed";
    }
    this.incoming = { transfer, chunks: [], dropping: false };
    if (msg.size > this.opts.maxBytes) {
      transfer.state = "failed";
      this.incoming.dropping = true;
      this.sendControl({ t: "cancel", id: msg.id });
    }
    this.changed(true);
  }

  private async finishIncoming(id: string, expected: string): Promise<void> {
    const inc = this.incoming;
    if (!inc || inc.transfer.id !== id) return;
    this.incoming = null;
    if (inc.dropping) return;
    const t = inc.transfer;
    const blob = new Blob(inc.chunks, { type: t.mime || "application/octet-stream" });
    const actual = t.bytes === t.size ? await sha256Hex(await blob.arrayBuffer()) : "";
    if (actual && actual === expected.toLowerCase()) {
      t.state = "done";
      t.sha256 = actual;
      t.url = this.opts.makeUrl(blob);
      this.sendControl({ t: "ok", id });
    } else {
      t.state = "failed";
      this.sendControl({ t: "bad", id });
    }
    this.changed(true);
  }

  private failIncoming(inc: Incoming): void {
    inc.transfer.state = "failed";
    inc.dropping = true;
    inc.chunks = [];
    this.sendControl({ t: "cancel", id: inc.transfer.id });
    this.changed(true);
  }

  private async pump(): Promise<void> {
    if (this.sendingNow) return;
    let next = this.queue.shift();
    while (next) {
      this.sendingNow = next.transfer;
      try {
        await this.sendOne(next.transfer, next.blob);
      } catch (err) {
        console.warn("parley: file send failed", err);
        if (next.transfer.state === "sending") next.transfer.state = "failed";
        this.changed(true);
      }
      this.sendingNow = null;
      next = this.queue.shift();
    }
  }

  private async sendOne(t: Transfer, blob: Blob): Promise<void> {
    if (t.state !== "sending") return;
    const sha = await sha256Hex(await blob.arrayBuffer());
    t.sha256 = sha;
    if (!this.sendControl({ t: "offer", id: t.id, name: t.name, size: t.size, mime: t.mime })) {
      throw new Error("channel closed");
    }
    const block = Math.max(this.opts.chunkBytes, 1024 * 1024);
    for (let start = 0; start < t.size && t.state === "sending"; start += block) {
      const buf = await blob.slice(start, Math.min(t.size, start + block)).arrayBuffer();
      for (const [a, b] of chunkRanges(buf.byteLength, this.opts.chunkBytes)) {
        if (t.state !== "sending") return;
        if (this.channel.bufferedAmount > this.opts.highWaterBytes) await this.drain();
        if (this.channel.readyState !== "open") throw new Error("channel closed");
        this.channel.send(new Uint8Array(buf, a, b - a));
        t.bytes += b - a;
        this.changed(false);
      }
    }
    // Done only when the receiver confirms the hash ("ok").
    if (t.state === "sending") this.sendControl({ t: "end", id: t.id, sha256: sha });
    this.changed(true);
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  private sendControl(msg: Wire): boolean {
    if (this.channel.readyState !== "open") return false;
    this.channel.send(JSON.stringify(msg));
    return true;
  }

  private changed(force: boolean): void {
    // Progress is throttled to ~10 updates/s; state changes always go out.
    const now = Date.now();
    if (!force && now - this.lastEmit < 100) return;
    this.lastEmit = now;
    this.events.emit("change", this.list());
  }
}
