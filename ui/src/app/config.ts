/** What the page's URL says: which server, which language, join links, owner token. */
import { matchLocale, type Locale } from "../i18n/index.svelte";

/** Start-up options read from the URL (see /work/ui-contract.md). */
export interface PageConfig {
  /** Signaling server from `?server=`, if given. */
  serverOverride: string | null;
  /** The page's own server: `ws(s)://<host>/ws`, or null when not served over http(s). */
  sameHostServer: string | null;
  lang: Locale | null;
  join: string | null;
  audioOnly: boolean;
  ownerToken: string | null;
  /** `?stun=` replaces the STUN list from settings for this visit ("" = none); null if absent. */
  stun: string | null;
}

/** Reads the page config from a location. */
export function readPageConfig(loc: Pick<Location, "search" | "hash" | "protocol" | "host">): PageConfig {
  const q = new URLSearchParams(loc.search);
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const http = loc.protocol === "http:" || loc.protocol === "https:";
  const server = q.get("server");
  return {
    serverOverride: server && /^wss?:\/\//.test(server) ? server : null,
    sameHostServer: http ? `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws` : null,
    lang: matchLocale(q.get("lang")),
    join: q.get("join"),
    audioOnly: q.get("media") === "audio",
    ownerToken: hash.get("owner"),
    stun: q.get("stun"),
  };
}

/** The link that opens the join flow for `code` (what the QR code encodes). */
export function joinLink(loc: Pick<Location, "origin" | "pathname" | "search">, code: string): string {
  const url = new URL(loc.pathname, loc.origin);
  const server = new URLSearchParams(loc.search).get("server");
  if (server) url.searchParams.set("server", server);
  url.searchParams.set("join", code);
  return url.toString();
}

/** `ws://host:port/ws` and `http://host:port` for a device address typed as `host:port`. */
export function deviceUrls(address: string): { ws: string; http: string } | null {
  const trimmed = address.trim().replace(/^(https?|wss?):\/\//, "").replace(/\/.*$/, "");
  if (!/^[\w.-]+(:\d{1,5})?$/.test(trimmed) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(trimmed)) return null;
  return { ws: `ws://${trimmed}/ws`, http: `http://${trimmed}` };
}

/** The `http(s)://host:port` of a `ws(s)://host:port/ws` URL (for `GET /device`). */
export function httpBase(wsUrl: string): string | null {
  try {
    const u = new URL(wsUrl);
    u.protocol = u.protocol === "wss:" ? "https:" : "http:";
    return u.origin;
  } catch {
    return null;
  }
}
