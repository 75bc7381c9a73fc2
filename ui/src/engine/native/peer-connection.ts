/**
 * `RTCPeerConnection`'s shape (the subset in ../peer.ts) over the app's native GStreamer engine.
 * Capture and playback happen in the engine; the browser tracks handed to `addTrack` only say
 * what to send (`replaceTrack(null)` pauses video, `enabled = false` mutes audio). Remote video
 * arrives as JPEG frames painted on a canvas whose captured stream is the remote track.
 */
import type { PeerConnectionFactory, PeerConnectionLike } from "../peer";
import { type NativeBridge, type NativeEvent, fromBase64 } from "./bridge";
import { NativeDataChannel } from "./data-channel";
import { asNativeFailure, reportNativeFailure } from "./errors";
import { type SourceRequest, sourceKey, sourceOf } from "./sources";

type Desc = RTCSessionDescriptionInit & { type: RTCSdpType; sdp: string };

function description(d: Desc): RTCSessionDescription {
  return { type: d.type, sdp: d.sdp, toJSON: () => ({ type: d.type, sdp: d.sdp }) } as RTCSessionDescription;
}

function candidateEvent(init: RTCIceCandidateInit | null): Event {
  const candidate = init ? { ...init, toJSON: () => init } : null;
  return Object.assign(new Event("icecandidate"), { candidate });
}

/** A sender as calls use it: the track, and `replaceTrack`. */
interface NativeSender {
  track: MediaStreamTrack | null;
  replaceTrack(track: MediaStreamTrack | null): Promise<void>;
}

/** One peer connection on the native engine. */
export class NativePeerConnection extends EventTarget {
  connectionState: RTCPeerConnectionState = "new";
  iceConnectionState: RTCIceConnectionState = "new";
  signalingState: RTCSignalingState = "stable";
  localDescription: RTCSessionDescription | null = null;
  remoteDescription: RTCSessionDescription | null = null;
  currentRemoteDescription: RTCSessionDescription | null = null;
  readonly sctp = null;
  private readonly id: Promise<number>;
  private readonly channels = new Map<number, NativeDataChannel>();
  private readonly senders: NativeSender[] = [];
  private iceRestart = false;
  private canvas: HTMLCanvasElement | null = null;
  private canvasTrack: CanvasCaptureMediaStreamTrack | null = null;
  private painting = false;
  private chain: Promise<unknown> = Promise.resolve();
  /** `setLocalDescription` calls under way; candidates wait for them (see `onEvent`). */
  private settingLocal = 0;
  /** `setRemoteDescription` calls under way. */
  private settingRemote = 0;
  private heldCandidates: Array<RTCIceCandidateInit | null> = [];
  /** The tracks added before the engine connection is made: it starts on their devices. */
  private readonly startSources: { video?: SourceRequest; audio?: SourceRequest } = {};
  private created = false;

  constructor(
    private readonly bridge: NativeBridge,
    config: RTCConfiguration,
  ) {
    super();
    // Made once the caller's synchronous set-up (channels, first tracks) is done, so the engine
    // opens the chosen camera and microphone at once rather than the defaults.
    const events = bridge.channel((ev) => this.onEvent(ev));
    this.id = Promise.resolve().then(() => {
      this.created = true;
      return bridge.invoke<number>("native_create", { iceServers: config.iceServers ?? [], sources: this.startSources, events });
    });
    this.id.catch((err: unknown) => this.fail(err));
  }

  private async call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    const pc = await this.id;
    return this.bridge.invoke<T>(command, { pc, ...args });
  }

  /**
   * Runs commands that change the session one after the other, as a browser's operations
   * chain does. The app runs commands concurrently (sync ones on the main thread, async ones on
   * a pool), so an offer could otherwise be made while the data channels were still being
   * added, and Chromium then failed to start SCTP on the answer.
   */
  private inOrder<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    const run = this.chain.then(() => this.call<T>(command, args));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Negotiated channels only (`{ negotiated: true, id }`), which is all calls create. */
  createDataChannel(label: string, init: RTCDataChannelInit = {}): RTCDataChannel {
    const id = init.id ?? this.channels.size;
    const ch = new NativeDataChannel((command, args) => this.call<number>(command, { channel: id, ...args }), label, id);
    this.channels.set(id, ch);
    void this.inOrder("native_create_channel", { label, channel: id, ordered: init.ordered ?? true }).catch((err: unknown) =>
      this.fail(err),
    );
    return ch as unknown as RTCDataChannel;
  }

  addTrack(track: MediaStreamTrack, ..._streams: MediaStream[]): RTCRtpSender {
    const kind = track.kind === "audio" ? "audio" : "video";
    // A track added before the engine starts is what it starts on; a later one (the camera
    // turned on in an audio-only call) replaces the paused source the engine started with.
    let current: string | null = null;
    if (!this.created) {
      const source = sourceOf(track);
      this.startSources[kind] = source;
      current = sourceKey(source);
    }
    const sender: NativeSender = {
      track,
      replaceTrack: async (next) => {
        sender.track = next;
        if (next && kind === "audio") this.watchMute(next);
        try {
          const source = next ? sourceOf(next) : null;
          if (source && sourceKey(source) !== current) {
            await this.inOrder("native_set_source", { source });
            current = sourceKey(source);
          }
          await this.call("native_set_sending", { kind, on: next !== null && next.enabled });
        } catch (err) {
          // The old source keeps sending; the person is told why the switch failed.
          reportNativeFailure(asNativeFailure(err));
        }
      },
    };
    this.senders.push(sender);
    if (current === null) {
      void sender.replaceTrack(track);
    } else {
      if (kind === "audio") this.watchMute(track);
      void this.call("native_set_sending", { kind, on: track.enabled });
    }
    return sender as unknown as RTCRtpSender;
  }

  /** Mute is `track.enabled = false` in the UI: mirror it into the engine. */
  private watchMute(track: MediaStreamTrack): void {
    let enabled = track.enabled;
    Object.defineProperty(track, "enabled", {
      configurable: true,
      get: () => enabled,
      set: (v: boolean) => {
        enabled = v;
        void this.call("native_set_sending", { kind: "audio", on: v });
      },
    });
  }

  getSenders(): RTCRtpSender[] {
    return this.senders as unknown as RTCRtpSender[];
  }

  async setLocalDescription(desc?: RTCSessionDescriptionInit): Promise<void> {
    this.settingLocal++;
    try {
      let d: Desc;
      if (desc?.type && desc.sdp) {
        d = { type: desc.type, sdp: desc.sdp };
        await this.inOrder("native_set_local", { description: d });
      } else {
        const iceRestart = this.iceRestart;
        this.iceRestart = false;
        d = await this.inOrder<Desc>("native_set_local_auto", { iceRestart });
      }
      this.localDescription = description(d);
      this.setSignaling(d.type === "offer" ? "have-local-offer" : "stable");
      if (d.type === "answer" && this.remoteDescription) this.currentRemoteDescription = this.remoteDescription;
    } finally {
      this.settingLocal--;
      // As a browser does, candidates gathered for this description surface in a later task,
      // after the caller has sent the description on (its code after `await` runs first).
      if (this.settingLocal === 0 && this.heldCandidates.length > 0) setTimeout(() => this.releaseCandidates(), 0);
    }
  }

  private releaseCandidates(): void {
    if (this.settingLocal > 0 || this.connectionState === "closed") return;
    const held = this.heldCandidates;
    this.heldCandidates = [];
    for (const c of held) this.dispatchEvent(candidateEvent(c));
  }

  async setRemoteDescription(desc: RTCSessionDescriptionInit): Promise<void> {
    if (!desc.type || desc.sdp === undefined) throw new TypeError("description needs type and sdp");
    const d: Desc = { type: desc.type, sdp: desc.sdp };
    this.settingRemote++;
    try {
      await this.inOrder("native_set_remote", { description: d });
    } finally {
      this.settingRemote--;
    }
    this.remoteDescription = description(d);
    if (d.type === "answer") this.currentRemoteDescription = this.remoteDescription;
    this.setSignaling(d.type === "offer" ? "have-remote-offer" : "stable");
  }

  async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    await this.inOrder("native_add_candidate", { candidate: candidate?.candidate ? candidate : null });
  }

  restartIce(): void {
    this.iceRestart = true;
    this.dispatchEvent(new Event("negotiationneeded"));
  }

  async getStats(): Promise<RTCStatsReport> {
    // Already in browsers' shape: the engine fixes webrtcbin's kinds and transport bytes.
    const records = await this.call<Array<Record<string, unknown>>>("native_stats");
    const map = new Map<string, unknown>();
    for (const r of records) map.set(typeof r.id === "string" ? r.id : String(map.size), r);
    return map as unknown as RTCStatsReport;
  }

  close(): void {
    if (this.connectionState === "closed") return;
    this.connectionState = "closed";
    this.signalingState = "closed";
    for (const ch of this.channels.values()) ch.closedByEngine();
    void this.call("native_close").catch(() => {});
  }

  private setSignaling(state: RTCSignalingState): void {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this.dispatchEvent(new Event("signalingstatechange"));
  }

  private fail(err: unknown): void {
    reportNativeFailure(asNativeFailure(err));
    if (this.connectionState === "closed" || this.connectionState === "failed") return;
    this.connectionState = "failed";
    this.dispatchEvent(new Event("connectionstatechange"));
  }

  private onEvent(ev: NativeEvent): void {
    if (this.connectionState === "closed") return;
    switch (ev.type) {
      case "candidate":
        // webrtcbin gathers as soon as the local description is set, and its candidates
        // travel on this event stream while the description still travels back as the
        // command's reply: a candidate could reach the other side before our offer. Chromium,
        // as the polite side, then started its call on that candidate, offered too, and after
        // yielding failed to answer ours ("Failed to start SCTP transport").
        if (this.settingLocal > 0 || this.heldCandidates.length > 0) this.heldCandidates.push(ev.candidate);
        else this.dispatchEvent(candidateEvent(ev.candidate));
        return;
      case "connectionState":
        this.connectionState = ev.state;
        this.dispatchEvent(new Event("connectionstatechange"));
        return;
      case "iceConnectionState":
        this.iceConnectionState = ev.state;
        this.dispatchEvent(new Event("iceconnectionstatechange"));
        return;
      case "signalingState":
        this.setSignaling(ev.state);
        return;
      case "negotiationNeeded":
        // As in browsers, only a stable connection with no description being applied offers:
        // webrtcbin reports the need as its pipeline starts, which in a call we answer arrives
        // while the remote offer is being applied (an offer then would be a needless second
        // round), and the exchange under way covers our tracks and channels anyway.
        if (this.signalingState !== "stable" || this.settingLocal > 0 || this.settingRemote > 0) return;
        this.dispatchEvent(new Event("negotiationneeded"));
        return;
      case "track":
        // Remote audio plays in the engine; remote video becomes a track on the first frame.
        return;
      case "channelOpen":
        this.channels.get(ev.id)?.opened();
        return;
      case "channelClosed":
        this.channels.get(ev.id)?.closedByEngine();
        return;
      case "channelText":
        this.channels.get(ev.id)?.message(ev.text);
        return;
      case "channelBinary":
        this.channels.get(ev.id)?.message(fromBase64(ev.base64));
        return;
      case "channelBufferedAmountLow":
        this.channels.get(ev.id)?.buffered(ev.bufferedAmount);
        return;
      case "frame":
        void this.paint(ev.jpegBase64, ev.width, ev.height);
        return;
      case "error":
        // The call goes on (a lost camera costs the video); the person is told why.
        reportNativeFailure({ code: ev.code, message: ev.message, ...(ev.detail ? { detail: ev.detail } : {}) });
        return;
    }
  }

  private async paint(jpegBase64: string, width: number, height: number): Promise<void> {
    if (this.painting || typeof document === "undefined") return; // drop frames while busy
    this.painting = true;
    try {
      const bitmap = await createImageBitmap(new Blob([fromBase64(jpegBase64)], { type: "image/jpeg" }));
      let canvas = this.canvas;
      if (!canvas) {
        canvas = document.createElement("canvas");
        canvas.width = width;
        canvas.height = height;
        this.canvas = canvas;
        // Rate 0: the tile gets a frame exactly when one is drawn (requestFrame below), rather
        // than the canvas being sampled on its own 30 Hz clock, which missed or repeated frames.
        const stream = canvas.captureStream(0);
        const track = stream.getVideoTracks()[0];
        if (track) {
          this.canvasTrack = track as CanvasCaptureMediaStreamTrack;
          this.dispatchEvent(Object.assign(new Event("track"), { track, streams: [stream] }));
        }
      }
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      canvas.getContext("2d")?.drawImage(bitmap, 0, 0);
      bitmap.close();
      this.canvasTrack?.requestFrame?.();
    } finally {
      this.painting = false;
    }
  }
}

/** The factory calls use, bound to a bridge. */
export function nativeFactory(bridge: NativeBridge): PeerConnectionFactory {
  return (config) => new NativePeerConnection(bridge, config) as unknown as PeerConnectionLike;
}
