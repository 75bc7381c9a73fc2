import { afterEach, describe, expect, it, vi } from "vitest";
import type { TauriInternals } from "../ipc";
import { tauriBridge, type NativeEvent } from "./bridge";

afterEach(() => vi.unstubAllGlobals());

describe("tauriBridge", () => {
  it("is absent outside the app", () => {
    expect(tauriBridge()).toBeNull();
  });

  it("delivers a connection's events in the order the engine sent them", () => {
    const callbacks: Array<(message: unknown) => void> = [];
    const tauri: TauriInternals = {
      invoke: () => Promise.resolve(undefined as never),
      transformCallback(cb) {
        callbacks.push(cb);
        return callbacks.length - 1;
      },
    };
    vi.stubGlobal("__TAURI_INTERNALS__", tauri);
    const got: NativeEvent[] = [];
    const arg = tauriBridge()!.channel((e) => got.push(e));
    expect(arg).toBe("__CHANNEL__:0");
    // A large binary chunk (>= 8 KiB) is fetched separately, so the text behind it arrives first.
    const chunk: NativeEvent = { type: "channelBinary", id: 1, base64: "A".repeat(12_000) };
    const end: NativeEvent = { type: "channelText", id: 1, text: '{"t":"end"}' };
    callbacks[0]!({ index: 1, message: end });
    callbacks[0]!({ index: 0, message: chunk });
    callbacks[0]!({ end: true, index: 2 });
    expect(got).toEqual([chunk, end]);
  });
});
