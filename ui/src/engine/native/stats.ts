/**
 * webrtcbin's statistics (GStreamer 1.22) in the shape calls read from browsers. Its
 * `transport` record has no byte counts, so a call's silence watch saw a path with nothing
 * arriving and restarted ICE every few seconds; and every RTP stream says `kind: "video"` with
 * a codec record that names no codec, so the quality panel mixed audio into video.
 */

/** One statistics record as the engine reports it. */
export type StatsRecord = Record<string, unknown>;

type Kind = "audio" | "video";

/** The kind of every SSRC the descriptions announce (`a=ssrc:` lines under `m=audio|video`). */
export function ssrcKinds(...sdps: Array<string | undefined>): Map<number, Kind> {
  const kinds = new Map<number, Kind>();
  for (const sdp of sdps) {
    let kind: string | null = null;
    for (const line of sdp?.split(/\r?\n/) ?? []) {
      if (line.startsWith("m=")) kind = line.slice(2).split(" ")[0] ?? null;
      const ssrc = /^a=ssrc:(\d+) /.exec(line)?.[1];
      if (ssrc && (kind === "audio" || kind === "video")) kinds.set(Number(ssrc), kind);
    }
  }
  return kinds;
}

function number(r: StatsRecord, key: string): number {
  const v = r[key];
  return typeof v === "number" ? v : 0;
}

/**
 * Fixes `kind` and `codecId` of RTP records from the SSRCs in `kinds` (and from codec records
 * naming an SSRC), and gives the transport the bytes its RTP streams carried.
 */
export function browserShaped(records: StatsRecord[], announced: Map<number, Kind>): StatsRecord[] {
  const out = records.map((r) => ({ ...r }));
  const kinds = new Map(announced);
  const codecs = out.filter((r) => r.type === "codec" && typeof r.mimeType === "string");
  for (const c of codecs) {
    const kind = String(c.mimeType).split("/")[0]?.toLowerCase();
    if (typeof c.ssrc === "number" && (kind === "audio" || kind === "video") && !kinds.has(c.ssrc)) kinds.set(c.ssrc, kind);
  }
  const rtp = out.filter((r) => r.type === "inbound-rtp" || r.type === "outbound-rtp");
  for (const r of rtp) {
    const kind = typeof r.ssrc === "number" ? kinds.get(r.ssrc) : undefined;
    if (!kind) continue;
    r.kind = kind;
    const own = codecs.find((c) => c.id === r.codecId);
    if (!String(own?.mimeType ?? "").toLowerCase().startsWith(`${kind}/`)) {
      const match = codecs.find((c) => String(c.mimeType).toLowerCase().startsWith(`${kind}/`));
      if (match) r.codecId = match.id;
    }
  }
  const received = rtp.filter((r) => r.type === "inbound-rtp").reduce((sum, r) => sum + number(r, "bytesReceived"), 0);
  const sent = rtp.filter((r) => r.type === "outbound-rtp").reduce((sum, r) => sum + number(r, "bytesSent"), 0);
  let transport = out.find((r) => r.type === "transport");
  if (!transport) {
    transport = { id: "transport-native", type: "transport", timestamp: out[0]?.timestamp ?? Date.now() };
    out.push(transport);
  }
  if (typeof transport.bytesReceived !== "number") transport.bytesReceived = received;
  if (typeof transport.bytesSent !== "number") transport.bytesSent = sent;
  return out;
}
