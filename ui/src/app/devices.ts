/** Asking a device server who it is (`GET /device`). */
import type { DeviceInfo } from "../protocol/generated";

/** Reads a `DeviceInfo` from untrusted JSON; null if the required fields are missing. */
export function parseDeviceInfo(value: unknown): DeviceInfo | null {
  if (typeof value !== "object" || value === null) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.id !== "string" || typeof o.name !== "string") return null;
  return {
    id: o.id,
    name: o.name.slice(0, 128),
    version: typeof o.version === "number" ? o.version : 0,
    app: typeof o.app === "string" ? o.app : "",
    os: typeof o.os === "string" ? o.os : "",
  };
}

/** Fetches `<base>/device`; null if the device does not answer like a Parley device. */
export async function fetchDeviceInfo(base: string, timeoutMs = 5000): Promise<DeviceInfo | null> {
  try {
    const res = await fetch(`${base}/device`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? parseDeviceInfo(await res.json()) : null;
  } catch {
    return null;
  }
}
