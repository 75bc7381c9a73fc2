/** Checks frames from the server before the engine trusts their shape. */
import type { ServerMessage } from "../protocol/generated";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const str = (o: Json, k: string) => typeof o[k] === "string";
const num = (o: Json, k: string) => typeof o[k] === "number";
const bool = (o: Json, k: string) => typeof o[k] === "boolean";
const strs = (o: Json, k: string) =>
  Array.isArray(o[k]) && (o[k] as unknown[]).every((x) => typeof x === "string");

/** Required fields per message type; a frame missing one is dropped, never half-used. */
const SHAPES: Record<ServerMessage["type"], (o: Json) => boolean> = {
  welcome: (o) =>
    num(o, "version") && str(o, "server") && str(o, "mode") && str(o, "peerId") &&
    str(o, "resumeToken") && Array.isArray(o.iceServers) && bool(o, "owner") && bool(o, "resumed"),
  created: (o) => str(o, "code") && num(o, "capacity"),
  joined: (o) => str(o, "code") && strs(o, "peers") && num(o, "capacity"),
  full: (o) => str(o, "code"),
  "no-such-room": (o) => str(o, "code"),
  "peer-joined": (o) => str(o, "peer"),
  "peer-left": (o) => str(o, "peer") && str(o, "reason"),
  left: () => true,
  signal: (o) => str(o, "from") && "data" in o,
  ping: () => true,
  pong: () => true,
  incoming: (o) => str(o, "knock") && str(o, "name") && str(o, "device") && str(o, "media"),
  ringing: (o) => str(o, "knock"),
  declined: () => true,
  unavailable: () => true,
  cancelled: (o) => str(o, "knock"),
  bye: (o) => str(o, "reason"),
  error: (o) => str(o, "code") && str(o, "message"),
};

/** Parses one text frame; `null` for anything that is not a well-formed server message. */
export function decodeServerMessage(text: string): ServerMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(parsed) || typeof parsed.type !== "string") return null;
  const check = (SHAPES as Record<string, ((o: Json) => boolean) | undefined>)[parsed.type];
  if (!check || !check(parsed)) return null;
  return parsed as ServerMessage;
}
