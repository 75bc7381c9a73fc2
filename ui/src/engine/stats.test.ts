import { describe, expect, it } from "vitest";
import { pathOf, summarizeStats } from "./stats";

const report = (t: number, videoBytes: number) => [
  { id: "T1", type: "transport", timestamp: t, selectedCandidatePairId: "CP1" },
  { id: "CP1", type: "candidate-pair", timestamp: t, localCandidateId: "L1", remoteCandidateId: "R1", currentRoundTripTime: 0.0123, nominated: true, state: "succeeded" },
  { id: "L1", type: "local-candidate", candidateType: "host" },
  { id: "R1", type: "remote-candidate", candidateType: "srflx" },
  { id: "IV", type: "inbound-rtp", kind: "video", codecId: "C1", bytesReceived: videoBytes, packetsReceived: 990, packetsLost: 10, framesDecoded: 300, framesPerSecond: 30, frameWidth: 640, frameHeight: 480 },
  { id: "IA", type: "inbound-rtp", kind: "audio", codecId: "C2", bytesReceived: 1000, packetsReceived: 0, packetsLost: 0, audioLevel: 0.25 },
  { id: "C1", type: "codec", mimeType: "video/VP8" },
  { id: "C2", type: "codec", mimeType: "audio/opus" },
  { id: "O1", type: "outbound-rtp", kind: "video", bytesSent: 5000 },
];

describe("stats", () => {
  it("names the path from candidate types", () => {
    expect(pathOf("host", "host")).toBe("direct");
    expect(pathOf("host", "prflx")).toBe("direct");
    expect(pathOf("srflx", "host")).toBe("stun");
    expect(pathOf("relay", "srflx")).toBe("relay");
    expect(pathOf(null, "host")).toBe("unknown");
  });

  it("summarises the selected pair, inbound media and rates", () => {
    const first = summarizeStats(report(1000, 100_000), null);
    expect(first).toMatchObject({
      path: "stun", localCandidateType: "host", remoteCandidateType: "srflx", rttMs: 12,
      framesDecoded: 300, framesPerSecond: 30, frameWidth: 640, frameHeight: 480, audioLevel: 0.25,
      inboundVideoBytes: 100_000, inboundAudioBytes: 1000, codec: "VP8", audioCodec: "opus",
      packetLossPct: 1, inKbps: null,
    });
    const second = summarizeStats(report(2000, 225_000), first);
    expect(second.inKbps).toBe(1000);
    expect(second.outKbps).toBe(0);
  });
});
