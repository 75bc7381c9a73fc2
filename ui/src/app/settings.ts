/**
 * User settings: one typed record with defaults, behind a small store interface. Browsers keep
 * it in localStorage; the app swaps in its own store (tauri-plugin-store).
 */

/** A device added by address. */
export interface SavedDevice {
  id: string;
  name: string;
  /** `host:port` as typed. */
  address: string;
}

/** Everything a person can set. */
export interface Settings {
  name: string;
  /** "auto" follows the system language. */
  language: "auto" | "en" | "zh-CN";
  cameraId: string;
  micId: string;
  speakerId: string;
  /** STUN URLs for room calls, comma-separated; starts as {@link DEFAULT_STUN}, may be emptied. */
  stun: string;
  turnUrl: string;
  turnUser: string;
  turnPass: string;
  /** Signaling server URL; empty means the page's own server. */
  serverUrl: string;
  devices: SavedDevice[];
}

/**
 * Public STUN servers used for room calls until the person edits the list: two operators, so
 * one outage does not cost every call its server-reflexive candidates. Keep in step with
 * `DEFAULT_STUN_SERVERS` in src-tauri/src/settings.rs (a Rust test checks).
 */
export const DEFAULT_STUN = "stun:stun.l.google.com:19302, stun:stun.cloudflare.com:3478";

/** Defaults for a first start. */
export const DEFAULT_SETTINGS: Settings = {
  name: "",
  language: "auto",
  cameraId: "",
  micId: "",
  speakerId: "",
  stun: DEFAULT_STUN,
  turnUrl: "",
  turnUser: "",
  turnPass: "",
  serverUrl: "",
  devices: [],
};

/** Where settings live. */
export interface SettingsStore {
  load(): Settings;
  save(settings: Settings): void;
}

/** Keeps only known fields of the right type, so a stale or edited entry cannot break start-up. */
export function sanitize(raw: unknown): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS, devices: [] };
  if (typeof raw !== "object" || raw === null) return out;
  const o = raw as Record<string, unknown>;
  for (const key of ["name", "cameraId", "micId", "speakerId", "stun", "turnUrl", "turnUser", "turnPass", "serverUrl"] as const) {
    const v = o[key];
    if (typeof v === "string") out[key] = v.slice(0, 500);
  }
  if (o.language === "en" || o.language === "zh-CN" || o.language === "auto") out.language = o.language;
  if (Array.isArray(o.devices)) {
    for (const d of o.devices as unknown[]) {
      if (typeof d !== "object" || d === null) continue;
      const r = d as Record<string, unknown>;
      if (typeof r.id === "string" && typeof r.name === "string" && typeof r.address === "string") {
        out.devices.push({ id: r.id, name: r.name, address: r.address });
      }
    }
  }
  return out;
}

/** The browser store. */
export class LocalSettingsStore implements SettingsStore {
  constructor(private readonly key = "parley.settings") {}

  load(): Settings {
    try {
      const text = localStorage.getItem(this.key);
      return sanitize(text ? JSON.parse(text) : null);
    } catch {
      return sanitize(null);
    }
  }

  save(settings: Settings): void {
    try {
      localStorage.setItem(this.key, JSON.stringify(settings));
    } catch {
      // Private mode or full storage: settings last for this visit only.
    }
  }
}

/**
 * Whether `url` is a STUN (RFC 7064) or TURN (RFC 7065) URL of that kind that a browser takes:
 * `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]` (and the `s` variants). Browsers
 * refuse the whole call for one bad entry, so nothing else may reach them.
 */
export function isIceUrl(url: string, kind: "stun" | "turn"): boolean {
  const m = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/.exec(url);
  if (!m) return false;
  const [, scheme = "", , port, transport] = m;
  if (!scheme.startsWith(kind) || (kind === "stun" && transport)) return false;
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** The comma-separated STUN list as entries (blank ones dropped). */
export function stunEntries(list: string): string[] {
  return list.split(",").map((u) => u.trim()).filter((u) => u !== "");
}

/** What is wrong with the network settings, for the settings form: bad STUN entries, bad TURN URL. */
export function iceSettingsProblems(s: Pick<Settings, "stun" | "turnUrl">): { stun: string[]; turn: boolean } {
  const turn = s.turnUrl.trim();
  return { stun: stunEntries(s.stun).filter((u) => !isIceUrl(u, "stun")), turn: turn !== "" && !isIceUrl(turn, "turn") };
}

/** ICE servers from settings, added to the signaling server's own for internet calls. */
export function userIceServers(s: Settings): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  const stun = stunEntries(s.stun).filter((u) => isIceUrl(u, "stun"));
  if (stun.length) out.push({ urls: stun });
  const turn = s.turnUrl.trim();
  if (isIceUrl(turn, "turn")) out.push({ urls: [turn], username: s.turnUser, credential: s.turnPass });
  return out;
}

/**
 * ICE servers for a call: none on LAN (device) calls, which connect over host candidates and
 * should not tell a public STUN server they happen (docs/benchmarks.md: it would not slow them);
 * for internet rooms the server's own from `welcome` first (they take precedence: its TURN
 * entries carry fresh credentials), then the user's. `stunOverride` (the page's `?stun=`,
 * tests) replaces the user's STUN list.
 */
export function callIceServers(
  mode: "public" | "device" | undefined,
  welcome: RTCIceServer[],
  s: Settings,
  stunOverride: string | null = null,
): RTCIceServer[] {
  if (mode === "device") return [];
  return [...welcome, ...userIceServers(stunOverride === null ? s : { ...s, stun: stunOverride })];
}

/** A stable random id for this browser, used as the caller's device id when knocking. */
export function browserDeviceId(): string {
  try {
    const existing = localStorage.getItem("parley.deviceId");
    if (existing) return existing;
    const id = crypto.randomUUID();
    localStorage.setItem("parley.deviceId", id);
    return id;
  } catch {
    return crypto.randomUUID();
  }
}
