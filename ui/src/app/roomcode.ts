/** Room codes as people type them, checked with the protocol's own alphabet and length. */
import { ROOM_CODE_ALPHABET, ROOM_CODE_LEN } from "../protocol/generated";

/** The outcome of checking a typed code. */
export type CodeCheck =
  | { ok: true; code: string }
  | { ok: false; reason: "length" }
  | { ok: false; reason: "char"; char: string };

/**
 * Reads a code the way the server does: case, dashes and spaces do not matter, and the
 * look-alikes O, I, L count as 0, 1, 1. Returns the canonical `XXXX-XXXX`.
 */
export function checkRoomCode(input: string): CodeCheck {
  let out = "";
  for (const ch of input) {
    if (ch === "-" || /\s/.test(ch)) continue;
    let c = ch.toUpperCase();
    if (c === "O") c = "0";
    if (c === "I" || c === "L") c = "1";
    if (!ROOM_CODE_ALPHABET.includes(c) || c.length !== 1) return { ok: false, reason: "char", char: ch };
    out += c;
  }
  if (out.length !== ROOM_CODE_LEN) return { ok: false, reason: "length" };
  const half = ROOM_CODE_LEN / 2;
  return { ok: true, code: `${out.slice(0, half)}-${out.slice(half)}` };
}

/** Shows a canonical code (with or without dash) as XXXX-XXXX. */
export function displayCode(code: string): string {
  const check = checkRoomCode(code);
  return check.ok ? check.code : code;
}
