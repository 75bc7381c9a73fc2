import { describe, expect, it, vi } from "vitest";
import type { AppIpc } from "../engine/ipc";
import { appOptions, fromBackend, PeerList, peerToDevice, roomServerUrl, toBackend, type BackendSettings, type Peer, type PeerEvent } from "./app-mode";
import type { KnownDevice } from "./controller.svelte";
import { DEFAULT_SETTINGS } from "./settings";

const backend: BackendSettings = {
  deviceId: "0b6f7c523f0e4a539d1e2f4f3a0c9b11",
  displayName: "Study desktop",
  language: null,
  camera: null,
  microphone: "mic-2",
  speaker: null,
  discoverable: true,
  stunServers: ["stun:stun.l.google.com:19302", "stun:stun.cloudflare.com:3478"],
  turnServers: [],
  serverUrl: null,
  autoAnswer: false,
  addedDevices: [],
};

const peer = (over: Partial<Peer> = {}): Peer => ({
  id: "a".repeat(32),
  name: "Kitchen laptop",
  addresses: ["192.168.1.23", "fe80::1"],
  port: 7878,
  version: 1,
  compatible: true,
  app: "0.1.0",
  os: "linux",
  source: "mdns",
  lastSeenMs: 1_790_000_000_000,
  ...over,
});

/** A backend that answers commands from a table and lets the test fire events. */
function fakeIpc(answers: Record<string, (args: Record<string, unknown>) => unknown>) {
  const calls: [string, Record<string, unknown>][] = [];
  const listeners = new Map<string, (payload: unknown) => void>();
  const ipc: AppIpc = {
    invoke<T>(command: string, args: Record<string, unknown> = {}) {
      calls.push([command, args]);
      const answer = answers[command];
      if (!answer) return Promise.reject({ code: "not-allowed", message: command });
      try {
        return Promise.resolve(answer(args) as T);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    channel: () => "__CHANNEL__:0",
    listen<T>(event: string, handler: (payload: T) => void) {
      listeners.set(event, handler as (payload: unknown) => void);
      return Promise.resolve(() => listeners.delete(event));
    },
  };
  return { ipc, calls, emit: (event: string, payload: unknown) => listeners.get(event)?.(payload) };
}

describe("settings in the app", () => {
  it("show the backend's values and save the person's changes back, keeping the rest", () => {
    const ui = fromBackend(backend, { ...DEFAULT_SETTINGS, devices: [] });
    expect(ui).toMatchObject({ name: "Study desktop", language: "auto", micId: "mic-2", stun: "stun:stun.l.google.com:19302, stun:stun.cloudflare.com:3478" });

    const saved = toBackend({ ...ui, name: " Salle de séjour ", language: "zh-CN", stun: "", turnUrl: "turn:relay.example.org:3478", turnUser: "u", turnPass: "p" }, backend);
    expect(saved).toEqual({
      ...backend,
      displayName: "Salle de séjour",
      language: "zh-CN",
      stunServers: [],
      turnServers: [{ urls: ["turn:relay.example.org:3478"], username: "u", credential: "p" }],
    });
    // An empty name keeps the device's name; a language the UI does not offer survives "auto".
    expect(toBackend({ ...ui, name: "  " }, { ...backend, language: "pt-BR" })).toMatchObject({ displayName: "Study desktop", language: "pt-BR" });
  });

  it("are read over IPC at start-up and written with save_settings", async () => {
    const errors: string[] = [];
    const { ipc, calls } = fakeIpc({
      get_settings: () => backend,
      owner_session: () => ({ url: "ws://127.0.0.1:7878/ws", port: 7878, token: "t".repeat(32) }),
      save_settings: (args) => {
        const s = args.settings as BackendSettings;
        if (s.displayName.length > 64) throw { code: "invalid-setting", message: "displayName is too long", field: "displayName" };
        return s;
      },
    });
    const options = await appOptions((m) => errors.push(m), ipc);
    expect(options?.app.owner).toMatchObject({ url: "ws://127.0.0.1:7878/ws", token: "t".repeat(32) });
    expect(options?.app.deviceId).toBe(backend.deviceId);
    const store = options!.store;
    store.save({ ...store.load(), name: "Kitchen" });
    await vi.waitFor(() => expect(calls.some(([c]) => c === "save_settings")).toBe(true));
    expect(calls.find(([c]) => c === "save_settings")![1]).toEqual({ settings: { ...backend, displayName: "Kitchen" } });
    store.save({ ...store.load(), name: "x".repeat(65) });
    await vi.waitFor(() => expect(errors).toEqual(["displayName is too long"]));
  });

  it("are not used when the page is not in the app or the app has no device node", async () => {
    expect(await appOptions(() => {}, null)).toBeNull();
    const { ipc } = fakeIpc({ get_settings: () => backend });
    expect(await appOptions(() => {}, ipc)).toBeNull();
  });
});

describe("the device list in the app", () => {
  it("dials IPv4 first, brackets IPv6, and marks incompatible devices", () => {
    expect(peerToDevice(peer())).toEqual({ id: "a".repeat(32), name: "Kitchen laptop", wsUrl: "ws://192.168.1.23:7878/ws", address: undefined, compatible: true });
    expect(peerToDevice(peer({ addresses: ["fe80::1", "fd00::5"], source: "manual", compatible: false }))).toMatchObject({
      wsUrl: "ws://[fd00::5]:7878/ws",
      address: "[fd00::5]:7878",
      compatible: false,
    });
    expect(peerToDevice(peer({ addresses: [] }))).toBeNull();
  });

  it("follows added, updated and removed events, and re-reads the list on resync", async () => {
    const other = peer({ id: "b".repeat(32), name: "Attic", addresses: ["192.168.1.40"] });
    let listed: Peer[] = [peer()];
    const { ipc, calls, emit } = fakeIpc({
      get_settings: () => backend,
      owner_session: () => ({ url: "ws://127.0.0.1:1/ws", token: "t" }),
      list_peers: () => listed,
    });
    const options = await appOptions(() => {}, ipc);
    let shown: KnownDevice[] = [];
    options!.app.watchPeers((d) => (shown = d));
    await vi.waitFor(() => expect(shown.map((d) => d.name)).toEqual(["Kitchen laptop"]));

    emit("peer-event", { event: "added", peer: other } satisfies PeerEvent);
    expect(shown.map((d) => d.name)).toEqual(["Attic", "Kitchen laptop"]);
    emit("peer-event", { event: "updated", peer: { ...other, name: "Loft" } } satisfies PeerEvent);
    expect(shown.map((d) => d.name)).toEqual(["Kitchen laptop", "Loft"]);
    emit("peer-event", { event: "removed", peer: other, reason: "goodbye" } satisfies PeerEvent);
    expect(shown.map((d) => d.name)).toEqual(["Kitchen laptop"]);

    listed = [other];
    emit("peer-event", { event: "resync", missed: 3 } satisfies PeerEvent);
    await vi.waitFor(() => expect(shown.map((d) => d.name)).toEqual(["Attic"]));
    expect(calls.filter(([c]) => c === "list_peers").length).toBe(2);
  });

  it("keeps its own order of events in a pure list", () => {
    const list = new PeerList();
    expect(list.replace([peer()]).length).toBe(1);
    expect(list.apply({ event: "resync", missed: 1 })).toBeNull();
    expect(list.apply({ event: "removed", peer: peer(), reason: "unreachable" })).toEqual([]);
  });
});

describe("an incoming call in the app", () => {
  it("raises the window and, if it was in the background, shows a notification", async () => {
    const { ipc, calls } = fakeIpc({
      get_settings: () => backend,
      owner_session: () => ({ url: "ws://127.0.0.1:1/ws", token: "t" }),
      request_attention: () => true,
      "plugin:notification|notify": () => null,
    });
    const options = await appOptions(() => {}, ipc);
    options!.app.incomingCall("Kitchen laptop");
    await vi.waitFor(() => expect(calls.some(([c]) => c === "plugin:notification|notify")).toBe(true));
    const notify = calls.find(([c]) => c === "plugin:notification|notify")![1] as { options: { title: string; body: string } };
    expect(notify.options.body).toContain("Kitchen laptop");
  });

  it("adds a device by address through the backend", async () => {
    const { ipc, calls } = fakeIpc({
      get_settings: () => backend,
      owner_session: () => ({ url: "ws://127.0.0.1:1/ws", token: "t" }),
      add_peer: (args) => {
        if (args.address !== "192.168.1.40:7878") throw { code: "add-peer-failed", message: "no answer" };
        return peer();
      },
    });
    const options = await appOptions(() => {}, ipc);
    expect(await options!.app.addDevice(" 192.168.1.40:7878 ")).toBe(true);
    expect(await options!.app.addDevice("10.9.9.9:1")).toBe(false);
    expect(calls.filter(([c]) => c === "add_peer").map(([, a]) => a)).toEqual([{ address: "192.168.1.40:7878" }, { address: "10.9.9.9:1" }]);
  });
});

describe("the room server in the app", () => {
  it("is the settings' server as a WebSocket URL", () => {
    expect(roomServerUrl("https://rooms.example.org")).toBe("wss://rooms.example.org/ws");
    expect(roomServerUrl(" http://192.168.1.5:8080/ ")).toBe("ws://192.168.1.5:8080/ws");
    expect(roomServerUrl("wss://rooms.example.org/custom")).toBe("wss://rooms.example.org/custom");
    expect(roomServerUrl("")).toBeNull();
    expect(roomServerUrl("ftp://x")).toBeNull();
    expect(roomServerUrl("not a url")).toBeNull();
  });
});
