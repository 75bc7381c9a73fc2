import { describe, expect, it } from "vitest";
import { ROOM_CODE_ALPHABET, ROOM_CODE_LEN } from "./generated";

describe("generated protocol constants", () => {
  it("describe a 40-bit room code", () => {
    expect(ROOM_CODE_ALPHABET.length ** ROOM_CODE_LEN).toBe(2 ** 40);
  });
});
