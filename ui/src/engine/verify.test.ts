import { describe, expect, it } from "vitest";
import { sdpFingerprints, verificationCode } from "./verify";

const sdp = (fp: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n` +
  `a=fingerprint:sha-256 ${fp}\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:sha-256 ${fp}\r\n`;
const A = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
const B = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF";
const M = "FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:32:10";

describe("verification code", () => {
  it("extracts each fingerprint once, normalised", () => {
    expect(sdpFingerprints(sdp(A.toLowerCase()))).toEqual([`sha-256 ${A}`]);
    expect(sdpFingerprints("v=0\r\n")).toEqual([]);
  });

  it("is the same on both sides and shaped 'ddd ddd'", async () => {
    const onA = await verificationCode(sdp(A), sdp(B));
    const onB = await verificationCode(sdp(B), sdp(A));
    expect(onA).toMatch(/^\d{3} \d{3}$/);
    expect(onA).toBe(onB);
  });

  it("differs when a man-in-the-middle substitutes its certificate", async () => {
    const honest = await verificationCode(sdp(A), sdp(B));
    const seenByA = await verificationCode(sdp(A), sdp(M));
    const seenByB = await verificationCode(sdp(B), sdp(M));
    expect(seenByA).not.toBe(honest);
    expect(seenByA).not.toBe(seenByB);
  });

  it("is null without fingerprints", async () => {
    expect(await verificationCode("v=0", sdp(B))).toBeNull();
  });
});
