/**
 * The verification code: both people read out a short number derived from the two DTLS
 * certificate fingerprints in the SDP. A man-in-the-middle must present its own certificate to
 * each side, so the pairs differ and so do the codes.
 */

/** The `a=fingerprint:` values of an SDP, normalised ("sha-256 AB:CD:..."), without repeats. */
export function sdpFingerprints(sdp: string): string[] {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=fingerprint:(\S+)\s+([0-9A-Fa-f:]+)\s*$/.exec(line);
    if (m?.[1] && m[2]) found.add(`${m[1].toLowerCase()} ${m[2].toUpperCase()}`);
  }
  return [...found].sort();
}

/** "123456" -> "123 456". */
export function formatCode(digits: string): string {
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/**
 * Six digits from SHA-256 over both sides' fingerprints, sorted so that both compute the same.
 * `null` when either SDP carries no fingerprint.
 */
export async function verificationCode(localSdp: string, remoteSdp: string): Promise<string | null> {
  const local = sdpFingerprints(localSdp);
  const remote = sdpFingerprints(remoteSdp);
  if (local.length === 0 || remote.length === 0) return null;
  const sides = [local.join(","), remote.join(",")].sort();
  const input = new TextEncoder().encode(`parley-verify-v1\n${sides.join("\n")}`);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  // 32 bits mod 10^6: the bias (< 0.03 %) does not matter for a spoken comparison.
  const n = ((hash[0] ?? 0) << 24 | (hash[1] ?? 0) << 16 | (hash[2] ?? 0) << 8 | (hash[3] ?? 0)) >>> 0;
  return formatCode(String(n % 1_000_000).padStart(6, "0"));
}
