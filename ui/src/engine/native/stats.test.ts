import { describe, expect, it } from "vitest";
import { summarizeStats } from "../stats";
import { browserShaped, ssrcKinds, type StatsRecord } from "./stats";

// Trimmed from what webrtcbin (GStreamer 1.22) reported in an app call with Chromium.
const LOCAL = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:2629885625 cname:app\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=ssrc:3673452344 cname:app\r\n";
const REMOTE =
  "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:3878492283 cname:c\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ssrc-group:FID 2679719170 11\r\na=ssrc:2679719170 cname:c\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
const transportId = "transport-stats_webrtcdtlstransport0";
const webrtcbin = (bytes: number): StatsRecord[] => [
  { id: "codec-stats-sink_0", type: "codec", mimeType: "audio/OPUS", payloadType: 111, ssrc: 2629885625, timestamp: 1000 },
  { id: "codec-stats-sink_1", type: "codec", mimeType: "video/VP8", payloadType: 96, ssrc: 3673452344, timestamp: 1000 },
  { id: "codec-stats-src_1", type: "codec", timestamp: 1000 },
  { id: transportId, type: "transport", timestamp: 1000 },
  { id: "in-a", type: "inbound-rtp", kind: "video", ssrc: 3878492283, codecId: "codec-stats-src_1", bytesReceived: bytes, packetsReceived: 67, transportId },
  { id: "in-v", type: "inbound-rtp", kind: "video", ssrc: 2679719170, codecId: "codec-stats-src_1", bytesReceived: 10 * bytes, packetsReceived: 40, framesDecoded: 50, transportId },
  { id: "out-a", type: "outbound-rtp", kind: "video", ssrc: 2629885625, codecId: "codec-stats-src_1", bytesSent: 11431, transportId },
  { id: "out-v", type: "outbound-rtp", kind: "video", ssrc: 3673452344, codecId: "codec-stats-src_1", bytesSent: 52213, transportId },
];

describe("native engine statistics", () => {
  it("reads each stream's kind from the SSRCs the descriptions announce", () => {
    const kinds = ssrcKinds(LOCAL, REMOTE);
    expect([...kinds.entries()].sort()).toEqual(
      [
        [2629885625, "audio"],
        [3673452344, "video"],
        [3878492283, "audio"],
        [2679719170, "video"],
      ].sort(),
    );
    const shaped = browserShaped(webrtcbin(2873), kinds);
    const byId = new Map(shaped.map((r) => [r.id, r]));
    expect(byId.get("in-a")).toMatchObject({ kind: "audio", codecId: "codec-stats-sink_0" });
    expect(byId.get("in-v")).toMatchObject({ kind: "video", codecId: "codec-stats-sink_1" });
    expect(byId.get("out-a")).toMatchObject({ kind: "audio" });
    // The quality panel then names the right codec and splits the bytes right.
    const summary = summarizeStats(shaped, null);
    expect(summary.codec).toBe("VP8");
    expect(summary.inboundAudioBytes).toBe(2873);
    expect(summary.inboundVideoBytes).toBe(28730);
  });

  it("gives the transport the bytes that arrived, so a live call is not taken for a lost path", () => {
    const kinds = ssrcKinds(LOCAL, REMOTE);
    const first = browserShaped(webrtcbin(2873), kinds).find((r) => r.type === "transport");
    const later = browserShaped(webrtcbin(3100), kinds).find((r) => r.type === "transport");
    expect(first?.bytesReceived).toBe(2873 * 11);
    expect(later?.bytesReceived).toBe(3100 * 11);
    expect(first?.bytesSent).toBe(11431 + 52213);
    // Without a transport record at all, one is added.
    const without = browserShaped(webrtcbin(5).filter((r) => r.type !== "transport"), kinds);
    expect(without.find((r) => r.type === "transport")?.bytesReceived).toBe(55);
  });
});
