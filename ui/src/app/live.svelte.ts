/**
 * The call in progress as the in-call screen sees it: local media, the `Call`, and reactive
 * copies of what they report. The controller decides when a call starts and ends; this class
 * holds its moment-to-moment state and the in-call controls.
 */
import { Call, type CallInit, type CallState, type NoPathReason } from "../engine/call";
import type { ChatMessage, RemoteMediaState } from "../engine/chat";
import type { Transfer } from "../engine/files";
import { LocalMedia, MediaError, type MediaRequest } from "../engine/media";
import type { CallStats } from "../engine/stats";

/** What the controller hears about the call's end. */
export interface LiveCallEvents {
  /**
   * The path could not be kept up, or (`everConnected` false) never found: `reason` says
   * whether a relay would have been the way (see `NoPathReason`).
   */
  failed: (everConnected: boolean, reason: NoPathReason) => void;
  /** The other side hung up (over the peer link). */
  bye: () => void;
  /** The peer link closed without a goodbye. */
  gone: () => void;
  /** The media path looks lost; check the signaling path too. */
  pathLost: () => void;
  /** A control failed with an error the person can act on. */
  error: (code: string) => void;
}

/** The reactive in-call state and controls. */
export class LiveCall {
  callState = $state<CallState>("connecting");
  remoteStream = $state.raw<MediaStream | null>(null);
  localStream = $state.raw<MediaStream | null>(null);
  /** Bumped when tracks inside the streams change, so video elements refresh. */
  mediaVersion = $state(0);
  messages = $state.raw<ChatMessage[]>([]);
  transfers = $state.raw<Transfer[]>([]);
  remoteMedia = $state<RemoteMediaState>({ audio: true, video: true, screen: false });
  verification = $state<string | null>(null);
  muted = $state(false);
  cameraOff = $state(false);
  sharing = $state(false);

  private media: LocalMedia | null = null;
  private call: Call | null = null;
  private connectedAt = 0;

  constructor(private readonly events: LiveCallEvents) {}

  /** True once local media is open. */
  get hasMedia(): boolean {
    return this.media !== null;
  }

  /** True while a peer connection exists. */
  get hasCall(): boolean {
    return this.call !== null;
  }

  /** True once the current call has been connected. */
  get everConnected(): boolean {
    return this.connectedAt !== 0;
  }

  /** Why the current call could not connect (see `Call.noPathReason`). */
  get noPathReason(): NoPathReason {
    return this.call?.noPathReason ?? "no-path";
  }

  /** The remote peer of the current call. */
  get remote(): string | null {
    return this.call?.remote ?? null;
  }

  /** Opens camera and microphone; throws `MediaError`. */
  async openMedia(request: MediaRequest): Promise<void> {
    this.stopMedia();
    const media = new LocalMedia();
    await media.start(request);
    this.media = media;
    media.onChange = () => this.mediaVersion++;
    this.localStream = media.stream;
    this.sync();
  }

  /** Starts the peer connection with the open media. */
  start(init: Omit<CallInit, "stream" | "audio" | "video">): void {
    const media = this.media;
    if (!media) return;
    const call = new Call({ ...init, stream: media.stream, audio: media.audioTrack, video: media.videoTrack });
    this.call = call;
    this.callState = call.state;
    this.remoteStream = call.remoteStream;
    this.messages = [];
    this.transfers = [];
    this.verification = null;
    this.remoteMedia = { audio: true, video: true, screen: false };
    call.on("state", (s) => {
      this.callState = s;
      if (s === "connected" && !this.connectedAt) this.connectedAt = Date.now();
      if (s === "failed") {
        if (call.relayErrors.length) console.warn("relay errors:", call.relayErrors.join("; "));
        this.events.failed(this.connectedAt !== 0, call.noPathReason);
      }
    });
    call.on("remoteStream", () => this.mediaVersion++);
    call.on("messages", (m) => (this.messages = m));
    call.on("transfers", (t) => (this.transfers = t));
    call.on("remoteMedia", (m) => (this.remoteMedia = m));
    call.on("verification", (code) => (this.verification = code));
    call.on("bye", () => this.events.bye());
    call.on("gone", () => this.events.gone());
    call.on("pathLost", () => this.events.pathLost());
    media.onTrack = (kind, track) => void call.setTrack(kind, track);
    this.sync();
  }

  /** Feeds a relayed signaling payload to the call. */
  signal(data: unknown): void {
    void this.call?.handleSignal(data);
  }

  /** Signaling came back for one side: resend what may be lost. */
  peerResumed(): void {
    this.call?.peerResumed();
  }

  /** Restarts ICE (network changed). */
  restartIce(): void {
    this.call?.restartIce();
  }

  /** Ends the call and releases the devices; returns how long it was connected (ms). */
  close(sayBye: boolean): number {
    const duration = this.connectedAt ? Date.now() - this.connectedAt : 0;
    this.call?.close(sayBye);
    this.call = null;
    this.stopMedia();
    this.connectedAt = 0;
    this.callState = "connecting";
    this.remoteStream = null;
    return duration;
  }

  /** Mutes or unmutes the microphone. */
  toggleMute(): void {
    if (!this.media) return;
    this.media.setMuted(!this.media.muted);
    this.sync();
  }

  /** Turns the camera off or on. */
  async toggleCamera(): Promise<void> {
    if (!this.media) return;
    try {
      await this.media.setCameraOff(!this.media.cameraOff);
    } catch (err) {
      this.events.error(err instanceof MediaError ? err.code : "media-failed");
    }
    this.sync();
  }

  /** Starts or stops sharing the screen. */
  async toggleScreen(): Promise<void> {
    if (!this.media) return;
    try {
      if (this.media.sharing) this.media.stopScreen();
      else await this.media.startScreen();
    } catch (err) {
      // Saying no in the picker is not an error worth a banner.
      if (!(err instanceof MediaError && err.code === "camera-denied")) this.events.error("screen-failed");
    }
    this.sync();
  }

  /** Switches camera or microphone; true on success. */
  async switchDevice(kind: "camera" | "mic", deviceId: string): Promise<boolean> {
    try {
      if (kind === "camera") await this.media?.switchCamera(deviceId);
      else await this.media?.switchMic(deviceId);
      return true;
    } catch (err) {
      this.events.error(err instanceof MediaError ? err.code : "media-failed");
      return false;
    } finally {
      this.sync();
    }
  }

  /** Sends a chat line. */
  say(text: string): void {
    this.call?.chat.say(text);
  }

  /** Sends a file. */
  sendFile(file: File): void {
    this.call?.files.send(file, file.name);
  }

  /** Cancels a file transfer. */
  cancelTransfer(id: string): void {
    this.call?.files.cancel(id);
  }

  /** One quality reading, or null outside calls. */
  async stats(): Promise<CallStats | null> {
    return this.call ? this.call.stats() : null;
  }

  private stopMedia(): void {
    this.media?.stop();
    this.media = null;
    this.localStream = null;
    this.muted = this.cameraOff = this.sharing = false;
  }

  private sync(): void {
    const m = this.media;
    if (!m) return;
    this.muted = m.muted;
    this.cameraOff = m.videoTrack === null && !m.sharing;
    this.sharing = m.sharing;
    this.mediaVersion++;
    this.call?.chat.announceMedia({ audio: !m.muted, video: m.videoTrack !== null, screen: m.sharing });
  }
}
