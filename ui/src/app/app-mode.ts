/**
 * Running inside the Parley app: the UI is the owner of this device's own server (token over
 * IPC), talks to every server through the backend (TauriTransport), lists the devices the
 * backend discovers, and keeps settings in the app's store. See docs/app-ipc.md.
 */
import type { DeviceInfo } from "../protocol/generated";
import type { AppDeviceInfo, OwnerSession, Peer, PeerListEvent, PeerEvent as DiscoveryEvent, Settings as BackendSettings } from "../protocol/app-ipc";
import { appIpc, type AppIpc } from "../engine/ipc";
import { TauriTransport } from "../engine/tauri-transport";
import { t } from "../i18n/index.svelte";
import type { KnownDevice, TransportFactory } from "./controller.svelte";
import { LocalSettingsStore, type Settings, type SettingsStore } from "./settings";

export type { BackendSettings, Peer };

/** The backend's `peer-event` payload: discovery's changes, or the app's own `resync`. */
export type PeerEvent = DiscoveryEvent | PeerListEvent;

/** What the controller asks of the app. */
export interface AppHooks {
  /** This device's own server and the owner token. */
  owner: { url: string; token: string };
  /** This device's stable id (used when knocking elsewhere). */
  deviceId: string;
  /** Who this device is (in place of `GET /device` on its own server). */
  deviceInfo(): Promise<DeviceInfo | null>;
  /** Adds a device by `host:port` through the backend; false if it did not answer. */
  addDevice(address: string): Promise<boolean>;
  /** Draws the person to an incoming call when the window is hidden or unfocused. */
  incomingCall(name: string): void;
  /** Starts feeding the device list; called once. */
  watchPeers(update: (devices: KnownDevice[]) => void): void;
}

/** Maps the backend's settings onto the UI's; `local` keeps what only the UI stores. */
export function fromBackend(b: BackendSettings, local: Settings): Settings {
  const lang = b.language === "en" || b.language === "zh-CN" ? b.language : "auto";
  const turn = b.turnServers[0];
  return {
    ...local,
    name: b.displayName,
    language: lang,
    cameraId: b.camera ?? "",
    micId: b.microphone ?? "",
    speakerId: b.speaker ?? "",
    stun: b.stunServers.join(", "),
    turnUrl: turn?.urls[0] ?? "",
    turnUser: turn?.username ?? "",
    turnPass: turn?.credential ?? "",
    serverUrl: b.serverUrl ?? "",
  };
}

/** The backend's settings with the UI's choices applied; fields the UI does not show are kept. */
export function toBackend(s: Settings, b: BackendSettings): BackendSettings {
  const orNull = (v: string) => (v.trim() ? v.trim() : null);
  const keepOtherTag = b.language !== null && b.language !== "en" && b.language !== "zh-CN";
  const turnUrl = s.turnUrl.trim();
  return {
    ...b,
    displayName: s.name.trim() || b.displayName,
    language: s.language === "auto" ? (keepOtherTag ? b.language : null) : s.language,
    camera: orNull(s.cameraId),
    microphone: orNull(s.micId),
    speaker: orNull(s.speakerId),
    stunServers: s.stun.split(",").map((u) => u.trim()).filter(Boolean),
    turnServers: turnUrl ? [{ urls: [turnUrl], username: s.turnUser, credential: s.turnPass }, ...b.turnServers.slice(1)] : b.turnServers.slice(1),
    serverUrl: orNull(s.serverUrl),
  };
}

/**
 * The WebSocket URL of the internet room server from settings (`ws(s)://…` as given, or the
 * `/ws` endpoint of an `http(s)://` address); null if none is set or it is not a URL.
 */
export function roomServerUrl(setting: string): string | null {
  const raw = setting.trim();
  if (!raw) return null;
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") {
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      if (url.pathname === "/" || url.pathname === "") url.pathname = "/ws";
    }
    return url.protocol === "ws:" || url.protocol === "wss:" ? url.toString() : null;
  } catch {
    return null;
  }
}

/** The address to dial a peer on: IPv4 first, then routable IPv6; null if it has none. */
export function peerToDevice(p: Peer): KnownDevice | null {
  const linkLocal = (a: string) => /^fe80:/i.test(a);
  const address = p.addresses.find((a) => !a.includes(":")) ?? p.addresses.find((a) => !linkLocal(a)) ?? p.addresses[0];
  if (!address) return null;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    id: p.id,
    name: p.name,
    wsUrl: `ws://${host}:${p.port}/ws`,
    address: p.source === "manual" ? `${host}:${p.port}` : undefined,
    compatible: p.compatible,
  };
}

/** The device list as `peer-event`s change it. */
export class PeerList {
  private readonly peers = new Map<string, Peer>();

  /** Replaces the whole list (start-up, `resync`). */
  replace(peers: Peer[]): KnownDevice[] {
    this.peers.clear();
    for (const p of peers) this.peers.set(p.id, p);
    return this.devices();
  }

  /** Applies one event; `resync` returns null (the caller re-reads `list_peers`). */
  apply(e: PeerEvent): KnownDevice[] | null {
    if (e.event === "resync") return null;
    if (e.event === "removed") this.peers.delete(e.peer.id);
    else this.peers.set(e.peer.id, e.peer);
    return this.devices();
  }

  private devices(): KnownDevice[] {
    return [...this.peers.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((p) => peerToDevice(p) ?? []);
  }
}

/**
 * Settings in the app's store. `load` answers from what the backend sent at start-up (the
 * controller needs them synchronously); `save` writes through `save_settings`, which also
 * re-advertises a new name on the LAN.
 */
export class AppSettingsStore implements SettingsStore {
  constructor(
    private readonly ipc: Pick<AppIpc, "invoke">,
    private backend: BackendSettings,
    private readonly onError: (message: string) => void,
    private readonly local: SettingsStore = new LocalSettingsStore("parley.app.settings"),
  ) {}

  load(): Settings {
    return fromBackend(this.backend, this.local.load());
  }

  save(settings: Settings): void {
    this.local.save(settings);
    const next = toBackend(settings, this.backend);
    this.ipc
      .invoke<BackendSettings>("save_settings", { settings: next })
      .then((saved) => (this.backend = saved))
      .catch((err: unknown) => this.onError(errorMessage(err)));
  }
}

function errorMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    return (err as { message: string }).message;
  }
  return String(err);
}

/** What the controller is built with in the app. */
export interface AppOptions {
  store: AppSettingsStore;
  transport: TransportFactory;
  app: AppHooks;
}

/**
 * Everything the controller needs in the app, or null in a browser (or if the backend has no
 * device node, in which case the UI runs as it would in a browser). `onSettingsError` shows a
 * refused save.
 */
export async function appOptions(
  onSettingsError: (message: string) => void,
  ipc: AppIpc | null = appIpc(),
): Promise<AppOptions | null> {
  if (!ipc) return null;
  let settings: BackendSettings;
  let owner: { url: string; token: string };
  try {
    [settings, owner] = await Promise.all([
      ipc.invoke<BackendSettings>("get_settings"),
      ipc.invoke<OwnerSession>("owner_session"),
    ]);
  } catch (err) {
    console.warn("parley: the app's device node is unavailable", err);
    return null;
  }
  return {
    store: new AppSettingsStore(ipc, settings, onSettingsError),
    transport: (url) => new TauriTransport(url, ipc),
    app: appHooks(ipc, owner, settings.deviceId),
  };
}

function appHooks(ipc: AppIpc, owner: { url: string; token: string }, deviceId: string): AppHooks {
  return {
    owner,
    deviceId,
    async deviceInfo() {
      try {
        const info = await ipc.invoke<AppDeviceInfo>("device_info");
        return { id: info.deviceId, name: info.displayName, version: info.protocolVersion, app: info.appVersion, os: info.platform };
      } catch {
        return null;
      }
    },
    async addDevice(address) {
      try {
        await ipc.invoke<Peer>("add_peer", { address: address.trim() });
        return true; // It arrives in the list through `peer-event`.
      } catch (err) {
        console.warn("parley: add_peer failed", err);
        return false;
      }
    },
    incomingCall(name) {
      void (async () => {
        const wasBackground = await ipc.invoke<boolean>("request_attention").catch(() => false);
        if (!wasBackground && !document.hidden) return;
        await ipc
          .invoke("plugin:notification|notify", { options: { title: t("notify.incomingTitle"), body: t("notify.incomingBody", { name }) } })
          .catch((err: unknown) => console.warn("parley: no notification", err));
      })();
    },
    watchPeers(update) {
      const list = new PeerList();
      const reload = () =>
        ipc
          .invoke<Peer[]>("list_peers")
          .then((peers) => update(list.replace(peers)))
          .catch((err: unknown) => console.warn("parley: list_peers failed", err));
      void ipc
        .listen<PeerEvent>("peer-event", (e) => {
          const devices = list.apply(e);
          if (devices) update(devices);
          else void reload();
        })
        .then(reload);
    },
  };
}
