import { afterEach, describe, expect, it } from "vitest";
import { en } from "../../i18n/en";
import { format } from "../../i18n/index.svelte";
import { zhCN } from "../../i18n/zh-CN";
import type { NativeBridge, NativeEvent } from "./bridge";
import { type NativeFailure, onNativeEngineError } from "./errors";
import { NativePeerConnection } from "./peer-connection";
import { registerNativeEngineIfAvailable } from "./register";

/** The Rust side as the adapter sees it; `refuse` makes a command reject like a NativeError. */
function bridgeWith(refuse: Record<string, unknown> = {}) {
  let emit: (ev: NativeEvent) => void = () => {};
  const bridge: NativeBridge = {
    async invoke<T>(command: string): Promise<T> {
      if (command in refuse) throw refuse[command];
      return (command === "native_create" ? 3 : undefined) as T;
    },
    channel(handler) {
      emit = handler;
      return "__CHANNEL__:1";
    },
  };
  return { bridge, emit: (ev: NativeEvent) => emit(ev) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
let stop: Array<() => void> = [];
function listen(): NativeFailure[] {
  const heard: NativeFailure[] = [];
  stop.push(onNativeEngineError((f) => heard.push(f)));
  return heard;
}
afterEach(() => {
  for (const s of stop) s();
  stop = [];
});

describe("native engine failures", () => {
  it("a connection the engine cannot build fails and names the missing package", async () => {
    const heard = listen();
    const { bridge } = bridgeWith({
      native_create: { code: "missing-plugin", message: "GStreamer element `vp8enc` is missing", detail: "vpx (gstreamer1.0-plugins-good)" },
    });
    const pc = new NativePeerConnection(bridge, {});
    let changes = 0;
    pc.addEventListener("connectionstatechange", () => changes++);
    await flush();
    expect(pc.connectionState).toBe("failed");
    expect(changes).toBe(1);
    expect(heard).toEqual([
      { code: "missing-plugin", message: "GStreamer element `vp8enc` is missing", detail: "vpx (gstreamer1.0-plugins-good)" },
    ]);
  });

  it("a camera lost or busy during the call is reported and the call goes on", async () => {
    const heard = listen();
    const { bridge, emit } = bridgeWith();
    const pc = new NativePeerConnection(bridge, {});
    await flush();
    emit({ type: "connectionState", state: "connected" });
    emit({ type: "error", code: "device-busy", message: "device is busy: camera", detail: "camera /dev/video0" });
    emit({ type: "error", code: "no-device", message: "no such device", detail: null });
    expect(heard.map((f) => [f.code, f.detail])).toEqual([
      ["device-busy", "camera /dev/video0"],
      ["no-device", undefined],
    ]);
    expect(pc.connectionState).toBe("connected");
  });

  it("switching to a camera that is gone is reported, and the call keeps the old one", async () => {
    const heard = listen();
    const { bridge } = bridgeWith({ native_set_source: { code: "no-device", message: "no such device: camera Cam B", detail: "camera Cam B" } });
    const pc = new NativePeerConnection(bridge, {});
    const sender = pc.addTrack({ kind: "video", label: "Cam A", enabled: true } as unknown as MediaStreamTrack);
    await sender.replaceTrack({ kind: "video", label: "Cam B", enabled: true } as unknown as MediaStreamTrack);
    expect(heard.map((f) => [f.code, f.detail])).toEqual([["no-device", "camera Cam B"]]);
  });

  it("negotiation bugs are not shown as advice", async () => {
    const heard = listen();
    const { bridge, emit } = bridgeWith();
    new NativePeerConnection(bridge, {});
    await flush();
    emit({ type: "error", code: "bad-description", message: "unparsable SDP" });
    expect(heard).toEqual([]);
  });

  it("a failure before the UI listens is kept for it, and the engine is not registered", async () => {
    const { bridge } = bridgeWith({ native_available: { code: "missing-plugin", message: "no webrtcbin", detail: "webrtc (gstreamer1.0-plugins-bad)" } });
    expect(await registerNativeEngineIfAvailable(bridge)).toBe(false);
    const heard = listen();
    expect(heard.map((f) => f.detail)).toEqual(["webrtc (gstreamer1.0-plugins-bad)"]);
  });

  it("every banner code has text in both languages that shows the detail", () => {
    for (const code of ["missing-plugin", "engine-unavailable", "no-device", "device-busy", "media-failed"]) {
      const key = `error.${code}` as keyof typeof en;
      expect(en[key], code).toBeTruthy();
      expect(zhCN[key], code).toBeTruthy();
    }
    expect(format(en["error.missing-plugin"], { detail: "vpx" })).toContain("vpx");
    expect(format(zhCN["error.missing-plugin"], { detail: "vpx" })).toContain("vpx");
  });
});
