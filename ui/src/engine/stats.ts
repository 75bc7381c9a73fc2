/** Call quality from `getStats`: the numbers behind the quality panel and `window.parley.stats()`. */

/** How media travels: straight between devices, through a NAT found via STUN, or via TURN. */
export type PathKind = "direct" | "stun" | "relay" | "unknown";

/** One reading of call quality. */
export interface CallStats {
  path: PathKind;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  /** How our relay candidate reaches the TURN server ("udp", "tcp", "tls"), when relayed. */
  relayProtocol: string | null;
  /** Round trip on the selected candidate pair. */
  rttMs: number | null;
  /** Remote video frames decoded so far. */
  framesDecoded: number;
  framesPerSecond: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
  /** Remote audio level, 0..1. */
  audioLevel: number | null;
  inboundAudioBytes: number;
  inboundVideoBytes: number;
  outboundBytes: number;
  /** Receive and send rates since the previous reading, kbit/s. */
  inKbps: number | null;
  outKbps: number | null;
  /** Received packets lost, percent of all expected. */
  packetLossPct: number | null;
  /** Remote video codec (else audio), e.g. "VP8". */
  codec: string | null;
  audioCodec: string | null;
  /** When this reading was taken (ms, performance clock of the stats). */
  timestamp: number;
}

type Entry = Record<string, unknown>;

const num = (e: Entry | undefined, k: string): number | null =>
  e && typeof e[k] === "number" ? (e[k] as number) : null;
const text = (e: Entry | undefined, k: string): string | null =>
  e && typeof e[k] === "string" ? (e[k] as string) : null;

/** Flattens a stats report into plain records. */
export function reportEntries(report: RTCStatsReport): Entry[] {
  const out: Entry[] = [];
  report.forEach((value: unknown) => {
    if (typeof value === "object" && value !== null) out.push(value as Entry);
  });
  return out;
}

/** Names the path from the selected pair's candidate types. */
export function pathOf(local: string | null, remote: string | null): PathKind {
  if (!local || !remote) return "unknown";
  if (local === "relay" || remote === "relay") return "relay";
  if (local === "srflx" || remote === "srflx") return "stun";
  // Peer-reflexive candidates are learnt from connectivity checks on the direct path.
  return "direct";
}

function selectedPair(entries: Entry[], byId: Map<string, Entry>): Entry | undefined {
  for (const e of entries) {
    if (e.type !== "transport") continue;
    const id = text(e, "selectedCandidatePairId");
    if (id && byId.has(id)) return byId.get(id);
  }
  // Engines without transport stats: the nominated, succeeded pair.
  return entries.find((e) => e.type === "candidate-pair" && e.nominated === true && e.state === "succeeded")
    ?? entries.find((e) => e.type === "candidate-pair" && e.selected === true);
}

function codecName(byId: Map<string, Entry>, rtp: Entry | undefined): string | null {
  const id = text(rtp, "codecId");
  const mime = id ? text(byId.get(id), "mimeType") : null;
  return mime ? (mime.split("/")[1] ?? mime) : null;
}

/** Summarises one report; `previous` (the last reading) gives the bit rates. */
export function summarizeStats(entries: Entry[], previous: CallStats | null): CallStats {
  const byId = new Map<string, Entry>();
  for (const e of entries) if (typeof e.id === "string") byId.set(e.id, e);
  const pair = selectedPair(entries, byId);
  const localCand = byId.get(text(pair, "localCandidateId") ?? "");
  const remoteCand = byId.get(text(pair, "remoteCandidateId") ?? "");
  const localType = text(localCand, "candidateType");
  const remoteType = text(remoteCand, "candidateType");
  const rtt = num(pair, "currentRoundTripTime");

  const inbound = entries.filter((e) => e.type === "inbound-rtp");
  const video = inbound.find((e) => e.kind === "video");
  const audio = inbound.find((e) => e.kind === "audio");
  const outboundBytes = entries
    .filter((e) => e.type === "outbound-rtp")
    .reduce((sum, e) => sum + (num(e, "bytesSent") ?? 0), 0);
  const inboundAudioBytes = num(audio, "bytesReceived") ?? 0;
  const inboundVideoBytes = num(video, "bytesReceived") ?? 0;
  let received = 0;
  let lost = 0;
  for (const e of inbound) {
    received += num(e, "packetsReceived") ?? 0;
    lost += Math.max(0, num(e, "packetsLost") ?? 0);
  }
  const timestamp = num(pair, "timestamp") ?? num(entries[0], "timestamp") ?? Date.now();
  const seconds = previous ? (timestamp - previous.timestamp) / 1000 : 0;
  const rate = (now: number, before: number) =>
    seconds > 0 ? Math.max(0, Math.round(((now - before) * 8) / seconds / 1000)) : null;
  const inBytes = inboundAudioBytes + inboundVideoBytes;

  return {
    path: pathOf(localType, remoteType),
    localCandidateType: localType,
    remoteCandidateType: remoteType,
    relayProtocol: localType === "relay" ? text(localCand, "relayProtocol") : null,
    rttMs: rtt === null ? null : Math.round(rtt * 1000),
    framesDecoded: num(video, "framesDecoded") ?? 0,
    framesPerSecond: num(video, "framesPerSecond"),
    frameWidth: num(video, "frameWidth"),
    frameHeight: num(video, "frameHeight"),
    audioLevel: num(audio, "audioLevel"),
    inboundAudioBytes,
    inboundVideoBytes,
    outboundBytes,
    inKbps: previous ? rate(inBytes, previous.inboundAudioBytes + previous.inboundVideoBytes) : null,
    outKbps: previous ? rate(outboundBytes, previous.outboundBytes) : null,
    packetLossPct: received + lost > 0 ? Math.round((lost / (received + lost)) * 1000) / 10 : null,
    codec: codecName(byId, video) ?? codecName(byId, audio),
    audioCodec: codecName(byId, audio),
    timestamp,
  };
}
