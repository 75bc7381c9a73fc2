/**
 * The control channel: chat messages with delivery receipts, plus the small notes that keep the
 * far side's picture right (muted, camera off, sharing, hanging up).
 */
import { Emitter } from "./emitter";

/** One chat line as the UI shows it. */
export interface ChatMessage {
  id: string;
  from: "me" | "peer";
  text: string;
  /** Milliseconds since the epoch, as stamped by the sender. */
  at: number;
  /** `sending` until handed to the channel, `delivered` once the peer acknowledged it. */
  state: "sending" | "sent" | "delivered" | "failed";
}

/** What the far side says about its own media. */
export interface RemoteMediaState {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

/** The part of an `RTCDataChannel` chat needs. */
export interface TextChannel {
  readonly readyState: RTCDataChannelState;
  send(data: string): void;
}

type Wire =
  | { t: "chat"; id: string; text: string; at: number }
  | { t: "ack"; id: string }
  | ({ t: "media" } & RemoteMediaState)
  | { t: "bye" };

/** Longest chat message accepted, in characters. */
export const MAX_CHAT_CHARS = 4000;

function parseWire(text: string): Wire | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null) return null;
    const o = v as Record<string, unknown>;
    switch (o.t) {
      case "chat":
        return typeof o.id === "string" && typeof o.text === "string" && typeof o.at === "number"
          ? { t: "chat", id: o.id, text: o.text.slice(0, MAX_CHAT_CHARS), at: o.at }
          : null;
      case "ack":
        return typeof o.id === "string" ? { t: "ack", id: o.id } : null;
      case "media":
        return { t: "media", audio: o.audio === true, video: o.video === true, screen: o.screen === true };
      case "bye":
        return { t: "bye" };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

type Events = { messages: ChatMessage[]; media: RemoteMediaState; bye: null };

/** Chat and control notes over one ordered channel. */
export class ChatChannel {
  private readonly events = new Emitter<Events>();
  private readonly messages: ChatMessage[] = [];
  private readonly outbox: string[] = [];
  private mediaNote: string | null = null;

  constructor(private readonly channel: TextChannel) {}

  /** Subscribes to an event. */
  on<K extends keyof Events>(event: K, handler: (value: Events[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  /** A snapshot of the conversation. */
  list(): ChatMessage[] {
    return this.messages.map((m) => ({ ...m }));
  }

  /** Sends a chat line (queued until the channel opens). */
  say(text: string): void {
    const trimmed = text.trim().slice(0, MAX_CHAT_CHARS);
    if (!trimmed) return;
    const msg: ChatMessage = { id: crypto.randomUUID(), from: "me", text: trimmed, at: Date.now(), state: "sending" };
    this.messages.push(msg);
    this.transmit(msg, JSON.stringify({ t: "chat", id: msg.id, text: msg.text, at: msg.at }));
    this.changed();
  }

  /** Tells the far side what we send; repeated when the channel (re)opens. */
  announceMedia(state: RemoteMediaState): void {
    this.mediaNote = JSON.stringify({ t: "media", ...state });
    if (this.channel.readyState === "open") this.channel.send(this.mediaNote);
  }

  /** Says goodbye over the peer link (faster than the server, and works without it). */
  bye(): void {
    if (this.channel.readyState === "open") this.channel.send(JSON.stringify({ t: "bye" }));
  }

  /** Wire to the channel's `open` event. */
  opened(): void {
    if (this.mediaNote) this.channel.send(this.mediaNote);
    for (const msg of this.messages) {
      if (msg.from === "me" && msg.state === "sending") {
        this.transmit(msg, JSON.stringify({ t: "chat", id: msg.id, text: msg.text, at: msg.at }));
      }
    }
    this.changed();
  }

  /** Wire to the channel's `close` event. */
  closed(): void {
    let any = false;
    for (const msg of this.messages) {
      if (msg.from === "me" && msg.state === "sending") {
        msg.state = "failed";
        any = true;
      }
    }
    if (any) this.changed();
  }

  /** Wire to the channel's `message` event. */
  receive(data: unknown): void {
    if (typeof data !== "string") return;
    const wire = parseWire(data);
    if (!wire) return;
    switch (wire.t) {
      case "chat":
        if (this.messages.some((m) => m.id === wire.id && m.from === "peer")) return;
        this.messages.push({ id: wire.id, from: "peer", text: wire.text, at: wire.at, state: "delivered" });
        if (this.channel.readyState === "open") this.channel.send(JSON.stringify({ t: "ack", id: wire.id }));
        this.changed();
        return;
      case "ack": {
        const mine = this.messages.find((m) => m.id === wire.id && m.from === "me");
        if (mine) {
          mine.state = "delivered";
          this.changed();
        }
        return;
      }
      case "media":
        this.events.emit("media", { audio: wire.audio, video: wire.video, screen: wire.screen });
        return;
      case "bye":
        this.events.emit("bye", null);
        return;
    }
  }

  /** Drops subscribers. */
  dispose(): void {
    this.events.clear();
  }

  private transmit(msg: ChatMessage, frame: string): void {
    if (this.channel.readyState !== "open") return;
    try {
      this.channel.send(frame);
      if (msg.state === "sending") msg.state = "sent";
    } catch {
      msg.state = "failed";
    }
  }

  private changed(): void {
    this.events.emit("messages", this.list());
  }
}
