/**
 * The app's state and flows: which screen is shown, the signaling sessions, the local media and
 * the current call. Screens read its fields (reactive) and call its methods; the engine below
 * knows nothing of Svelte.
 */
import type { DeviceInfo, KnockId, Media, PeerId, ServerMessage, ServerMode } from "../protocol/generated";
import type { NoPathReason } from "../engine/call";
import { MediaError } from "../engine/media";
import { pickPeerConnectionFactory } from "../engine/peer";
import { onNativeEngineError } from "../engine/native/errors";
import { SignalingSession, type SignalingState } from "../engine/session";
import type { CallStats } from "../engine/stats";
import type { Transport } from "../engine/transport";
import { WebSocketTransport } from "../engine/websocket-transport";
import { matchLocale, setLocale } from "../i18n/index.svelte";
import { roomServerUrl, type AppHooks } from "./app-mode";
import { deviceUrls, httpBase, joinLink, readPageConfig, type PageConfig } from "./config";
import { fetchDeviceInfo } from "./devices";
import { LiveCall } from "./live.svelte";
import { Ringer } from "./ringer";
import { browserDeviceId, callIceServers, LocalSettingsStore, type Settings, type SettingsStore } from "./settings";

/** How long the app waits for the room server before saying it cannot be reached. */
const ROOM_SERVER_WAIT_MS = 8000;

/** How long a dropped peer may take to resume (the server's default grace is 15 s). */
const PEER_RESUME_GRACE_MS = 16_000;

/** The other side's "we never connected, and this is why" note. */
function isNoPath(data: unknown): data is { noPath: NoPathReason } {
  const v = typeof data === "object" && data !== null ? (data as Record<string, unknown>).noPath : null;
  return v === "no-path" || v === "relay-unavailable";
}

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
  /** False for a device speaking another protocol version: listed, but not callable. */
  compatible?: boolean;
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
  /** Bumped by each join link, so the join form takes the code even when already shown. */
  prefillSeq = $state(0);
  peerName = $state("");
  ringing = $state(false);
  incoming = $state<{ knock: KnockId; name: string; media: Media } | null>(null);
  callSignaling = $state<SignalingState>("online");
  audioOnly = $state(false);
  endReason = $state<EndReason | null>(null);
  callDurationMs = $state(0);
  /** The call in progress (media, chat, files, stats). */
  readonly live = new LiveCall({
    failed: (everConnected, reason) => {
      if (!everConnected) {
        this.banner = { code: reason };
        // Tell the other side why we give up, so it shows the same advice, not "peer left".
        const remote = this.live.remote;
        if (remote) this.active?.signal(remote, { noPath: reason });
      }
      this.end("failed");
    },
    bye: () => this.end("remote-hangup"),
    gone: () => this.end("peer-left"),
    pathLost: () => this.active?.checkAlive(),
    error: (code) => (this.banner = { code }),
  });

  private readonly page: PageConfig;
  private readonly store: SettingsStore;
  private readonly makeTransport: TransportFactory;
  private home: SignalingSession | null = null;
  /** In the app: the session to the internet room server, while one is open. */
  private rooms: SignalingSession | null = null;
  /** The session carrying the current call: `home`, or one to a device being called. */
  private active: SignalingSession | null = null;
  private pending: "create" | "join" | "knock" | "accept" | null = null;
  /** A peer we met and whose first offer we wait for (we are the polite side). */
  private awaiting: PeerId | null = null;
  private readonly ringer = new Ringer();
  private listening = false;
  private peerGrace: ReturnType<typeof setTimeout> | null = null;
  private readonly deviceId: string;
  /** Set inside the Parley app (see app-mode.ts); null in a browser. */
  private readonly app: AppHooks | null;

  constructor(options: { store?: SettingsStore; transport?: TransportFactory; location?: Location; app?: AppHooks } = {}) {
    this.page = readPageConfig(options.location ?? window.location);
    this.app = options.app ?? null;
    this.deviceId = this.app?.deviceId ?? browserDeviceId();
    this.store = options.store ?? new LocalSettingsStore();
    this.settings = this.store.load();
    this.makeTransport = options.transport ?? ((url) => new WebSocketTransport(url));
    this.audioOnly = this.page.audioOnly;
    this.prefillCode = this.page.join ?? "";
    setLocale(this.page.lang ?? (this.settings.language !== "auto" ? this.settings.language : null) ?? matchLocale(navigator.language) ?? "en");
  }

  /** Connects to the page's server and starts listening for network changes. */
  start(): void {
    // The app's native engine (webviews without WebRTC) reports missing plugins and devices.
    onNativeEngineError((f) => (this.banner = f.detail ? { code: f.code, detail: f.detail } : { code: f.code }));
    // In the app, the home session is this device's own server, as its owner.
    const url = this.app?.owner.url ?? this.page.serverOverride ?? (this.settings.serverUrl.trim() || this.page.sameHostServer);
    if (!url) {
      this.signaling = "offline";
      return;
    }
    const ownerToken = this.app?.owner.token ?? this.page.ownerToken ?? undefined;
    const session = new SignalingSession(this.makeTransport(url), { ownerToken });
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
      if (w.mode === "device") {
        if (!w.owner && this.screen === "home") this.screen = "visitor";
        void this.loadDeviceInfo(url);
      }
    });
    session.on("message", (m) => this.onMessage(session, m));
    session.start();
    if (this.listening) return;
    this.listening = true;
    this.app?.watchPeers((devices) => this.setNearby(devices));
    window.addEventListener("online", () => this.live.restartIce());
    // Closing the tab: say goodbye on both paths so the other side does not wait for timeouts.
    window.addEventListener("pagehide", () => {
      if (this.live.hasCall) this.end("hangup");
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
    // In the app the backend renames this device; the ready card shows the new name at once.
    if (this.app && this.device && next.name.trim()) this.device = { ...this.device, name: next.name.trim() };
    setLocale(next.language !== "auto" ? next.language : (this.page.lang ?? matchLocale(navigator.language) ?? "en"));
    if (serverChanged && !this.live.hasCall && !this.page.serverOverride && !this.app) {
      this.home?.close();
      this.start();
    }
  }

  /** A join link (the app's `parley://join/CODE`): the join form shows the code; joining stays a click. */
  openJoinLink(code: string): void {
    this.prefillCode = code;
    this.prefillSeq++;
    if (this.screen === "ended") this.backHome();
  }

  /** Dismisses the error banner. */
  dismissBanner(): void {
    this.banner = null;
  }

  /** Whether the home screen offers internet rooms: a room server's page, or the app. */
  get roomsAvailable(): boolean {
    return this.mode !== "device" || this.app !== null;
  }

  /** Public mode: makes a room and waits in it. */
  async newRoom(): Promise<void> {
    const session = await this.roomSession();
    if (!this.requireOnline(session) || !(await this.openMedia(!this.audioOnly))) return;
    this.active = session;
    this.pending = "create";
    if (!session?.create()) this.failPending("server-unreachable");
  }

  /** Public mode: joins a room by its (already validated) code. */
  async joinRoom(code: string): Promise<void> {
    const session = await this.roomSession();
    if (!this.requireOnline(session) || !(await this.openMedia(!this.audioOnly))) return;
    this.active = session;
    this.pending = "join";
    if (!session?.join(code)) this.failPending("server-unreachable");
  }

  /**
   * The link that opens the join flow for `code` (copy link, QR code): this page's in a browser;
   * in the app, the room server's own page, which anyone can open without installing.
   */
  roomLink(code: string): string {
    const server = this.app ? roomServerUrl(this.settings.serverUrl) : null;
    const base = server ? httpBase(server) : null;
    return joinLink(base ? { origin: base, pathname: "/", search: "" } : window.location, code);
  }

  /**
   * The session rooms are made on: the page's own server in a browser; in the app (whose home
   * session is its own device server) one to the room server from settings, opened on demand.
   */
  private async roomSession(): Promise<SignalingSession | null> {
    if (!this.app) return this.home;
    if (this.rooms) return this.rooms;
    const url = roomServerUrl(this.settings.serverUrl);
    if (!url) {
      this.banner = { code: "no-room-server" };
      return null;
    }
    const session = new SignalingSession(this.makeTransport(url));
    this.rooms = session;
    session.on("state", (s) => {
      if (this.active === session) this.callSignaling = s;
    });
    session.on("message", (m) => this.onMessage(session, m));
    const online = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ROOM_SERVER_WAIT_MS);
      const stop = session.on("state", (s) => {
        if (s !== "online") return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
    session.start();
    await online;
    return session;
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
    if (device.compatible === false || !(await this.openMedia(media === "video"))) return;
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
    if (this.app) {
      const added = await this.app.addDevice(address);
      if (!added) this.banner = { code: "device-unreachable" };
      return added;
    }
    const urls = deviceUrls(address);
    if (!urls) {
      this.banner = { code: "device-unreachable" };
      return false;
    }
    const info = await fetchDeviceInfo(urls.http);
    if (!info) {
      this.banner = { code: "device-unreachable" };
      return false;
    }
    const devices = this.settings.devices.filter((d) => d.id !== info.id);
    devices.push({ id: info.id, name: info.name, address: address.trim() });
    this.saveSettings({ ...this.settings, devices });
    return true;
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
      if (opened) this.live.close(false);
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

  /** Switches camera or microphone during a call (and remembers the choice). */
  async switchDevice(kind: "camera" | "mic", deviceId: string): Promise<void> {
    if (await this.live.switchDevice(kind, deviceId)) {
      this.saveSettings({ ...this.settings, [kind === "camera" ? "cameraId" : "micId"]: deviceId });
    }
  }

  /** Chooses the speaker (applied by the video element through `setSinkId`). */
  setSpeaker(deviceId: string): void {
    this.saveSettings({ ...this.settings, speakerId: deviceId });
  }

  /** One quality reading of the current call, or null outside calls. */
  async stats(): Promise<CallStats | null> {
    return this.live.stats();
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
        if (this.live.hasCall) {
          this.live.peerResumed(); // A resume after a reconnect: the call carried on.
          return;
        }
        if (msg.peers[0]) this.meet(session, msg.peers[0]);
        else this.screen = "waiting";
        return;
      case "full":
      case "no-such-room":
        if (mine) this.failPending(msg.type === "full" ? "room-full" : "no-such-room");
        return;
      case "peer-joined":
        if (mine && this.live.remote === msg.peer) {
          this.clearPeerGrace(); // It resumed: the call never depended on its signaling.
          this.live.peerResumed();
          return;
        }
        if (mine && !this.live.hasCall && (this.screen === "waiting" || this.screen === "in-call" || this.screen === "outgoing")) {
          this.meet(session, msg.peer);
        }
        return;
      case "peer-left":
        if (mine && msg.reason === "dropped" && this.live.remote === msg.peer) {
          // Its signaling connection broke (e.g. its public address changed); the media path may
          // be fine and it may resume. Give it the server's grace period before ending.
          this.armPeerGrace();
          return;
        }
        if (mine && (this.live.remote === msg.peer || this.awaiting === msg.peer)) {
          this.end(msg.reason === "left" ? "remote-hangup" : "peer-left");
        }
        return;
      case "signal":
        if (!mine) return;
        // The other side gave up before any media flowed, whether or not our call had started
        // (a polite side waiting for the first offer must not start one on this message).
        if ((this.live.remote === msg.from || this.awaiting === msg.from) && !this.live.everConnected && isNoPath(msg.data)) {
          const own = this.live.noPathReason;
          this.banner = { code: own === "relay-unavailable" ? own : msg.data.noPath };
          this.end("failed");
          return;
        }
        if (!this.live.hasCall && (this.awaiting === msg.from || this.screen === "waiting" || this.screen === "outgoing")) {
          this.startCall(msg.from);
        }
        if (this.live.remote === msg.from) this.live.signal(msg.data);
        return;
      case "incoming":
        if (session !== this.home) return;
        if (this.live.hasCall || this.incoming || this.pending || ["in-call", "outgoing", "waiting"].includes(this.screen)) {
          session.decline(msg.knock); // Busy.
          return;
        }
        this.incoming = { knock: msg.knock, name: msg.name, media: msg.media };
        this.peerName = msg.name;
        this.screen = "incoming";
        this.ringer.start("incoming");
        this.app?.incomingCall(msg.name);
        return;
      case "ringing":
        if (mine) this.ringing = true;
        return;
      case "declined":
      case "unavailable":
        if (mine && this.screen === "outgoing") this.end(msg.type);
        return;
      case "cancelled":
        if (session === this.home && this.incoming?.knock === msg.knock && !this.live.hasCall) {
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

  private armPeerGrace(): void {
    this.clearPeerGrace();
    this.peerGrace = setTimeout(() => {
      this.peerGrace = null;
      if (this.live.hasCall) this.end("peer-left");
    }, PEER_RESUME_GRACE_MS);
  }

  private clearPeerGrace(): void {
    if (this.peerGrace !== null) clearTimeout(this.peerGrace);
    this.peerGrace = null;
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
    this.callSignaling = session.state;
    this.screen = "in-call";
  }

  private startCall(remote: PeerId): void {
    const session = this.active;
    const factory = pickPeerConnectionFactory();
    if (!session || !this.live.hasMedia || !session.peerId) return;
    if (!factory) {
      this.failPending("no-webrtc");
      return;
    }
    this.ringer.stop();
    this.pending = null;
    this.awaiting = null;
    const welcome = session.welcome;
    // LAN (device) calls use no ICE servers at all; internet rooms use the server's and ours.
    const iceServers = callIceServers(welcome?.mode, welcome?.iceServers ?? [], this.settings, this.page.stun);
    this.live.start({
      remote,
      polite: session.peerId < remote,
      iceServers,
      factory,
      signal: (data) => session.signal(remote, data),
    });
    this.callSignaling = session.state;
    this.screen = "in-call";
  }

  private end(reason: EndReason): void {
    const active = this.active;
    const hadCall = this.live.hasCall;
    const duration = this.live.close(reason === "hangup");
    if (hadCall) this.callDurationMs = duration;
    if (active && (hadCall || this.awaiting || this.screen === "waiting" || this.pending === "accept")) active.leave();
    this.reset("ended");
    this.endReason = reason;
  }

  private reset(screen: Screen): void {
    this.ringer.stop();
    this.clearPeerGrace();
    this.live.close(true);
    if (this.active && this.active !== this.home) this.active.close();
    if (this.active === this.rooms) this.rooms = null;
    this.active = null;
    this.pending = null;
    this.awaiting = null;
    this.incoming = null;
    this.ringing = false;
    this.roomCode = null;
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
    try {
      await this.live.openMedia({ video, cameraId: this.settings.cameraId, micId: this.settings.micId });
    } catch (err) {
      this.banner = { code: err instanceof MediaError ? err.code : "media-failed" };
      return false;
    }
    this.banner = null;
    return true;
  }

  private async loadDeviceInfo(wsUrl: string): Promise<void> {
    const base = httpBase(wsUrl);
    const info = this.app ? await this.app.deviceInfo() : base ? await fetchDeviceInfo(base) : null;
    if (info) this.device = info;
    else this.banner = { code: "device-unreachable" };
  }
}
