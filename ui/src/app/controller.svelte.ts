/**
 * The app's state and flows: which screen is shown, the signaling sessions, the local media and
 * the current call. Screens read its fields (reactive) and call its methods; the engine below
 * knows nothing of Svelte.
 */
import type { DeviceInfo, KnockId, Media, PeerId, ServerMessage, ServerMode } from "../protocol/generated";
import { Call, type CallState } from "../engine/call";
import type { ChatMessage, RemoteMediaState } from "../engine/chat";
import type { Transfer } from "../engine/files";
import { LocalMedia, MediaError } from "../engine/media";
import { pickPeerConnectionFactory } from "../engine/peer";
import { SignalingSession, type SignalingState } from "../engine/session";
import type { CallStats } from "../engine/stats";
import type { Transport } from "../engine/transport";
import { WebSocketTransport } from "../engine/websocket-transport";
import { matchLocale, setLocale } from "../i18n/index.svelte";
import { deviceUrls, httpBase, readPageConfig, type PageConfig } from "./config";
import { Ringer } from "./ringer";
import { browserDeviceId, LocalSettingsStore, userIceServers, type Settings, type SettingsStore } from "./settings";

/** Screens, one at a time. */
export type Screen = "home" | "visitor" | "waiting" | "outgoing" | "incoming" | "in-call" | "ended";

/** Why a call ended (the `end-reason` contract values). */
export type EndReason = "hangup" | "remote-hangup" | "declined" | "unavailable" | "cancelled" | "failed" | "peer-left";

/** An error the person can act on (`error-banner`). */
export interface Banner {
  code: string;
  detail?: string;
}

/** A device one can call: found nearby by the app, or added by address. */
export interface KnownDevice {
  id: string;
  name: string;
  /** Its device server's WebSocket URL. */
  wsUrl: string;
  address?: string;
}

/** Makes a transport for a server URL (the app swaps in its IPC transport). */
export type TransportFactory = (url: string) => Transport;

/** The whole UI's state. */
export class Controller {
  screen = $state<Screen>("home");
  signaling = $state<SignalingState>("reconnecting");
  mode = $state<ServerMode | null>(null);
  isOwner = $state(false);
  banner = $state<Banner | null>(null);
  settings = $state<Settings>(new LocalSettingsStore().load());
  settingsOpen = $state(false);
  nearby = $state<KnownDevice[]>([]);
  /** The device this page belongs to (visitor screen) or is calling. */
  device = $state<DeviceInfo | null>(null);
  roomCode = $state<string | null>(null);
  prefillCode = $state("");
  peerName = $state("");
  ringing = $state(false);
  incoming = $state<{ knock: KnockId; name: string; media: Media } | null>(null);
  callState = $state<CallState>("connecting");
  callSignaling = $state<SignalingState>("online");
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
  audioOnly = $state(false);
  endReason = $state<EndReason | null>(null);
  callDurationMs = $state(0);

  private readonly page: PageConfig;
  private readonly store: SettingsStore;
  private readonly makeTransport: TransportFactory;
  private home: SignalingSession | null = null;
  /** The session carrying the current call: `home`, or one to a device being called. */
  private active: SignalingSession | null = null;
  private call: Call | null = null;
  private media: LocalMedia | null = null;
  private pending: "create" | "join" | "knock" | "accept" | null = null;
  /** A peer we met and whose first offer we wait for (we are the polite side). */
  private awaiting: PeerId | null = null;
  private connectedAt = 0;
  private readonly ringer = new Ringer();
  private readonly deviceId = browserDeviceId();

  constructor(options: { store?: SettingsStore; transport?: TransportFactory; location?: Location } = {}) {
    this.page = readPageConfig(options.location ?? window.location);
    this.store = options.store ?? new LocalSettingsStore();
    this.settings = this.store.load();
    this.makeTransport = options.transport ?? ((url) => new WebSocketTransport(url));
    this.audioOnly = this.page.audioOnly;
    this.prefillCode = this.page.join ?? "";
    setLocale(this.page.lang ?? (this.settings.language !== "auto" ? this.settings.language : null) ?? matchLocale(navigator.language) ?? "en");
  }

  /** Connects to the page's server and starts listening for network changes. */
  start(): void {
    const url = this.page.serverOverride ?? (this.settings.serverUrl.trim() || this.page.sameHostServer);
    if (!url) {
      this.signaling = "offline";
      return;
    }
    const session = new SignalingSession(this.makeTransport(url), { ownerToken: this.page.ownerToken ?? undefined });
    this.home = session;
    session.on("state", (s) => {
      this.signaling = s;
      if (this.active === session) this.callSignaling = s;
      if (s === "online" && this.banner?.code === "server-unreachable") this.banner = null;
    });
    session.on("unreachable", () => {
      if (!this.banner) this.banner = { code: "server-unreachable" };
    });
    session.on("welcome", (w) => {
      this.mode = w.mode;
      this.isOwner = w.owner;
      if (w.mode === "device" && !w.owner) {
        if (this.screen === "home") this.screen = "visitor";
        void this.loadDeviceInfo(url);
      }
    });
    session.on("message", (m) => this.onMessage(session, m));
    session.start();
    window.addEventListener("online", () => this.call?.restartIce());
    // Closing the tab: say goodbye on both paths so the other side does not wait for timeouts.
    window.addEventListener("pagehide", () => {
      if (this.call) this.end("hangup");
    });
  }

  /** Replaces the nearby-device list (fed by the app's discovery). */
  setNearby(devices: KnownDevice[]): void {
    this.nearby = devices;
  }

  /** Devices to show on the home screen: nearby ones, then those added by address. */
  get devices(): KnownDevice[] {
    const added = this.settings.devices.flatMap((d) => {
      const urls = deviceUrls(d.address);
      return urls ? [{ id: d.id, name: d.name, wsUrl: urls.ws, address: d.address }] : [];
    });
    return [...this.nearby, ...added.filter((a) => !this.nearby.some((n) => n.id === a.id))];
  }

  /** Saves settings and applies the language. */
  saveSettings(next: Settings): void {
    const serverChanged = next.serverUrl !== this.settings.serverUrl;
    this.settings = next;
    this.store.save($state.snapshot(next) as Settings);
    setLocale(next.language !== "auto" ? next.language : (this.page.lang ?? matchLocale(navigator.language) ?? "en"));
    if (serverChanged && !this.call && !this.page.serverOverride) {
      this.home?.close();
      this.start();
    }
  }

  /** Dismisses the error banner. */
  dismissBanner(): void {
    this.banner = null;
  }

  /** Public mode: makes a room and waits in it. */
  async newRoom(): Promise<void> {
    if (!this.requireOnline(this.home) || !(await this.openMedia(!this.audioOnly))) return;
    this.active = this.home;
    this.pending = "create";
    if (!this.home?.create()) this.failPending("server-unreachable");
  }

  /** Public mode: joins a room by its (already validated) code. */
  async joinRoom(code: string): Promise<void> {
    if (!this.requireOnline(this.home) || !(await this.openMedia(!this.audioOnly))) return;
    this.active = this.home;
    this.pending = "join";
    if (!this.home?.join(code)) this.failPending("server-unreachable");
  }

  /** Leaves a room nobody joined yet. */
  leaveRoom(): void {
    this.active?.leave();
    this.reset("home");
  }

  /** Device visitor: rings the owner of the device this page came from. */
  async knock(media: Media): Promise<void> {
    if (!this.requireOnline(this.home) || !(await this.openMedia(media === "video"))) return;
    this.active = this.home;
    this.sendKnock(media);
  }

  /** Calls a device from the list, through its own device server. */
  async callDevice(device: KnownDevice, media: Media): Promise<void> {
    if (!(await this.openMedia(media === "video"))) return;
    const session = new SignalingSession(this.makeTransport(device.wsUrl));
    this.active = session;
    this.peerName = device.name;
    this.screen = "outgoing";
    this.ringing = false;
    this.pending = "knock";
    let knocked = false;
    const giveUp = setTimeout(() => {
      if (!knocked && this.active === session) this.failPending("device-unreachable");
    }, 8000);
    session.on("state", (s) => {
      this.callSignaling = s;
      if (s === "online" && !knocked && this.active === session) {
        knocked = true;
        clearTimeout(giveUp);
        this.sendKnock(media);
      }
    });
    session.on("unreachable", () => {
      if (!knocked && this.active === session) {
        clearTimeout(giveUp);
        this.failPending("device-unreachable");
      }
    });
    session.on("message", (m) => this.onMessage(session, m));
    session.start();
  }

  /** Adds a device by address after asking it who it is (`GET /device`). */
  async addDevice(address: string): Promise<boolean> {
    const urls = deviceUrls(address);
    if (!urls) {
      this.banner = { code: "device-unreachable" };
      return false;
    }
    try {
      const res = await fetch(`${urls.http}/device`, { signal: AbortSignal.timeout(5000) });
      const info = (await res.json()) as unknown;
      const o = (typeof info === "object" && info !== null ? info : {}) as Record<string, unknown>;
      if (!res.ok || typeof o.id !== "string" || typeof o.name !== "string") throw new Error("not a device");
      const devices = this.settings.devices.filter((d) => d.id !== o.id);
      devices.push({ id: o.id, name: o.name, address: address.trim() });
      this.saveSettings({ ...this.settings, devices });
      return true;
    } catch {
      this.banner = { code: "device-unreachable" };
      return false;
    }
  }

  /** Caller: withdraws the knock. */
  cancelOutgoing(): void {
    this.active?.cancel();
    this.end("cancelled");
  }

  /** Owner: takes the incoming call. */
  async accept(): Promise<void> {
    const inc = this.incoming;
    if (!inc || !this.home) return;
    this.ringer.stop();
    const opened = await this.openMedia(inc.media === "video");
    if (this.incoming !== inc) {
      // The caller gave up while the camera was starting.
      if (opened) {
        this.media?.stop();
        this.media = null;
        this.localStream = null;
      }
      return;
    }
    if (!opened) {
      this.home.decline(inc.knock);
      this.reset("home");
      return;
    }
    this.active = this.home;
    this.pending = "accept";
    this.peerName = inc.name;
    this.home.accept(inc.knock);
    this.screen = "in-call";
    this.callState = "connecting";
  }

  /** Owner: refuses the incoming call. */
  decline(): void {
    if (this.incoming) this.home?.decline(this.incoming.knock);
    this.reset("home");
  }

  /** Ends the call from this side. */
  hangup(): void {
    this.end("hangup");
  }

  /** Goes back to the start screen after a call. */
  backHome(): void {
    this.reset(this.mode === "device" && !this.isOwner ? "visitor" : "home");
  }

  /** Mutes or unmutes the microphone. */
  toggleMute(): void {
    if (!this.media) return;
    this.media.setMuted(!this.media.muted);
    this.syncMedia();
  }

  /** Turns the camera off or on. */
  async toggleCamera(): Promise<void> {
    if (!this.media) return;
    try {
      await this.media.setCameraOff(!this.media.cameraOff);
    } catch (err) {
      this.mediaError(err);
    }
    this.syncMedia();
  }

  /** Starts or stops sharing the screen. */
  async toggleScreen(): Promise<void> {
    if (!this.media) return;
    try {
      if (this.media.sharing) this.media.stopScreen();
      else await this.media.startScreen();
    } catch (err) {
      if (err instanceof MediaError && err.code === "camera-denied") return; // The person said no.
      this.banner = { code: "screen-failed" };
    }
    this.syncMedia();
  }

  /** Switches camera or microphone during a call (and remembers the choice). */
  async switchDevice(kind: "camera" | "mic", deviceId: string): Promise<void> {
    try {
      if (kind === "camera") await this.media?.switchCamera(deviceId);
      else await this.media?.switchMic(deviceId);
      this.saveSettings({ ...this.settings, [kind === "camera" ? "cameraId" : "micId"]: deviceId });
    } catch (err) {
      this.mediaError(err);
    }
    this.syncMedia();
  }

  /** Chooses the speaker (applied by the video element through `setSinkId`). */
  setSpeaker(deviceId: string): void {
    this.saveSettings({ ...this.settings, speakerId: deviceId });
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

  /** One quality reading of the current call, or null outside calls. */
  async stats(): Promise<CallStats | null> {
    return this.call ? this.call.stats() : null;
  }

  private onMessage(session: SignalingSession, msg: ServerMessage): void {
    const mine = session === this.active;
    switch (msg.type) {
      case "created":
        if (mine && this.pending === "create") {
          this.pending = null;
          this.roomCode = msg.code;
          this.screen = "waiting";
        }
        return;
      case "joined":
        if (!mine) return;
        this.roomCode = msg.code;
        this.pending = null;
        if (this.call) return; // A resume after a reconnect: the call carried on.
        if (msg.peers[0]) this.meet(session, msg.peers[0]);
        else this.screen = "waiting";
        return;
      case "full":
      case "no-such-room":
        if (mine) this.failPending(msg.type === "full" ? "room-full" : "no-such-room");
        return;
      case "peer-joined":
        if (mine && !this.call && (this.screen === "waiting" || this.screen === "in-call" || this.screen === "outgoing")) {
          this.meet(session, msg.peer);
        }
        return;
      case "peer-left":
        if (mine && (this.call?.remote === msg.peer || this.awaiting === msg.peer)) {
          this.end(msg.reason === "left" ? "remote-hangup" : "peer-left");
        }
        return;
      case "signal":
        if (!mine) return;
        if (!this.call && (this.awaiting === msg.from || this.screen === "waiting" || this.screen === "outgoing")) {
          this.startCall(msg.from);
        }
        if (this.call?.remote === msg.from) void this.call.handleSignal(msg.data);
        return;
      case "incoming":
        if (session !== this.home) return;
        if (this.call || this.incoming || this.pending || ["in-call", "outgoing", "waiting"].includes(this.screen)) {
          session.decline(msg.knock); // Busy.
          return;
        }
        this.incoming = { knock: msg.knock, name: msg.name, media: msg.media };
        this.peerName = msg.name;
        this.screen = "incoming";
        this.ringer.start("incoming");
        return;
      case "ringing":
        if (mine) this.ringing = true;
        return;
      case "declined":
      case "unavailable":
        if (mine && this.screen === "outgoing") this.end(msg.type);
        return;
      case "cancelled":
        if (session === this.home && this.incoming?.knock === msg.knock && !this.call) {
          this.incoming = null;
          this.end("cancelled");
        }
        return;
      case "error":
        if (msg.code === "rate-limited") this.failPending("rate-limited");
        else if (this.pending && msg.code !== "no-such-peer") this.failPending("server-error", msg.message);
        return;
      default:
        return;
    }
  }

  private sendKnock(media: Media): void {
    const session = this.active;
    this.pending = "knock";
    this.screen = "outgoing";
    this.ringing = false;
    if (session === this.home && this.device) this.peerName = this.device.name;
    const name = this.settings.name.trim() || (navigator.userAgent.includes("Mobile") ? "Phone" : "Browser");
    if (!session?.knock(name, this.deviceId, media)) this.failPending("server-unreachable");
    else this.ringer.start("outgoing");
  }

  /**
   * Two peers meet in a room. Only the impolite one (higher id) starts negotiating; the polite
   * one waits for its offer. Perfect negotiation would survive both starting at once, but the
   * rollback that glare needs has, in Chromium, left the polite side without ICE candidates.
   */
  private meet(session: SignalingSession, remote: PeerId): void {
    const me = session.peerId;
    if (me && me > remote) {
      this.startCall(remote);
      return;
    }
    this.awaiting = remote;
    this.ringer.stop();
    this.pending = null;
    this.callState = "connecting";
    this.callSignaling = session.state;
    this.screen = "in-call";
  }

  private startCall(remote: PeerId): void {
    const session = this.active;
    const media = this.media;
    const factory = pickPeerConnectionFactory();
    if (!session || !media || !session.peerId) return;
    if (!factory) {
      this.failPending("no-webrtc");
      return;
    }
    this.ringer.stop();
    this.pending = null;
    this.awaiting = null;
    const welcome = session.welcome;
    // LAN (device) calls use no ICE servers at all; internet rooms use the server's and ours.
    const iceServers: RTCIceServer[] = welcome?.mode === "device" ? [] : [...(welcome?.iceServers ?? []), ...userIceServers(this.settings)];
    const call = new Call({
      remote,
      polite: session.peerId < remote,
      iceServers,
      factory,
      signal: (data) => session.signal(remote, data),
      stream: media.stream,
      audio: media.audioTrack,
      video: media.videoTrack,
    });
    this.call = call;
    this.callState = call.state;
    this.callSignaling = session.state;
    this.remoteStream = call.remoteStream;
    this.messages = [];
    this.transfers = [];
    this.verification = null;
    this.remoteMedia = { audio: true, video: true, screen: false };
    call.on("state", (s) => {
      this.callState = s;
      if (s === "connected" && !this.connectedAt) this.connectedAt = Date.now();
      if (s === "failed") {
        if (!this.connectedAt) this.banner = { code: "no-path" };
        this.end("failed");
      }
    });
    call.on("remoteStream", () => this.mediaVersion++);
    call.on("messages", (m) => (this.messages = m));
    call.on("transfers", (t) => (this.transfers = t));
    call.on("remoteMedia", (m) => (this.remoteMedia = m));
    call.on("verification", (code) => (this.verification = code));
    call.on("bye", () => this.end("remote-hangup"));
    call.on("gone", () => this.end("peer-left"));
    media.onTrack = (kind, track) => void call.setTrack(kind, track);
    this.syncMedia();
    this.screen = "in-call";
  }

  private end(reason: EndReason): void {
    const active = this.active;
    const call = this.call;
    this.call = null;
    if (call) {
      this.callDurationMs = this.connectedAt ? Date.now() - this.connectedAt : 0;
      call.close(reason === "hangup");
    }
    if (active && (call || this.awaiting || this.screen === "waiting" || this.pending === "accept")) active.leave();
    this.reset("ended");
    this.endReason = reason;
  }

  private reset(screen: Screen): void {
    this.ringer.stop();
    this.call?.close(true);
    this.call = null;
    if (this.active && this.active !== this.home) this.active.close();
    this.active = null;
    this.media?.stop();
    this.media = null;
    this.pending = null;
    this.awaiting = null;
    this.incoming = null;
    this.ringing = false;
    this.roomCode = null;
    this.localStream = null;
    this.remoteStream = null;
    this.muted = this.cameraOff = this.sharing = false;
    this.connectedAt = 0;
    this.callState = "connecting";
    this.endReason = null;
    this.screen = screen;
  }

  private failPending(code: string, detail?: string): void {
    this.banner = detail ? { code, detail } : { code };
    const back: Screen = this.mode === "device" && !this.isOwner && this.active === this.home ? "visitor" : "home";
    this.reset(back);
  }

  private requireOnline(session: SignalingSession | null): boolean {
    if (session?.state === "online") return true;
    this.banner = { code: "server-unreachable" };
    return false;
  }

  private async openMedia(video: boolean): Promise<boolean> {
    this.media?.stop();
    const media = new LocalMedia();
    try {
      await media.start({ video, cameraId: this.settings.cameraId, micId: this.settings.micId });
    } catch (err) {
      this.mediaError(err);
      return false;
    }
    this.media = media;
    media.onChange = () => {
      this.mediaVersion++;
    };
    this.localStream = media.stream;
    this.syncMedia();
    this.banner = null;
    return true;
  }

  private mediaError(err: unknown): void {
    this.banner = { code: err instanceof MediaError ? err.code : "media-failed" };
  }

  private syncMedia(): void {
    const m = this.media;
    if (!m) return;
    this.muted = m.muted;
    this.cameraOff = m.videoTrack === null && !m.sharing;
    this.sharing = m.sharing;
    this.mediaVersion++;
    this.call?.chat.announceMedia({ audio: !m.muted, video: m.videoTrack !== null, screen: m.sharing });
  }

  private async loadDeviceInfo(wsUrl: string): Promise<void> {
    const base = httpBase(wsUrl);
    if (!base) return;
    try {
      const res = await fetch(`${base}/device`);
      const o = (await res.json()) as Record<string, unknown>;
      if (typeof o.id === "string" && typeof o.name === "string") {
        this.device = {
          id: o.id,
          name: o.name,
          version: typeof o.version === "number" ? o.version : 0,
          app: typeof o.app === "string" ? o.app : "",
          os: typeof o.os === "string" ? o.os : "",
        };
      }
    } catch {
      this.banner = { code: "device-unreachable" };
    }
  }
}
