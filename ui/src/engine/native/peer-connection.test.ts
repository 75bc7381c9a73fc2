import { describe, expect, it } from "vitest";
import type { NativeBridge, NativeEvent } from "./bridge";
import { NativeMessageEvent } from "./data-channel";
import { NativePeerConnection } from "./peer-connection";
import { Negotiator, type NegotiationMessage } from "../negotiation";

/** The Rust side as the adapter sees it: records commands, answers like the engine. */
function fakeBridge() {
  const calls: Array<{ command: string; args: Record<string, unknown> }> = [];
  let emit: (ev: NativeEvent) => void = () => {};
  const bridge: NativeBridge = {
    async invoke<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
      calls.push({ command, args });
      const answers: Record<string, unknown> = {
        native_create: 7,
        native_set_local_auto: { type: "offer", sdp: "v=0\r\na=fingerprint:sha-256 AA\r\n" },
        native_stats: [{ id: "in-v", type: "inbound-rtp", kind: "video", framesDecoded: 42 }],
        native_send_text: 0,
        native_send_binary: 0,
      };
      return answers[command] as T;
    },
    channel(handler) {
      emit = handler;
      return "__CHANNEL__:1";
    },
  };
  return { bridge, calls, emit: (ev: NativeEvent) => emit(ev) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("NativePeerConnection", () => {
  it("offers through the engine and tracks signaling state", async () => {
    const { bridge, calls } = fakeBridge();
    const pc = new NativePeerConnection(bridge, { iceServers: [] });
    await pc.setLocalDescription();
    expect(pc.localDescription?.type).toBe("offer");
    expect(pc.signalingState).toBe("have-local-offer");
    await pc.setRemoteDescription({ type: "answer", sdp: "v=0\r\n" });
    expect(pc.signalingState).toBe("stable");
    expect(pc.currentRemoteDescription?.sdp).toBe("v=0\r\n");
    expect(calls.map((c) => c.command)).toEqual(["native_create", "native_set_local_auto", "native_set_remote"]);
    expect(calls[1]?.args.pc).toBe(7);
  });

  it("passes ICE restarts to the next offer and null candidates as end-of-candidates", async () => {
    const { bridge, calls } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    let needed = 0;
    pc.addEventListener("negotiationneeded", () => needed++);
    pc.restartIce();
    expect(needed).toBe(1);
    await pc.setLocalDescription();
    await pc.addIceCandidate(undefined);
    expect(calls.find((c) => c.command === "native_set_local_auto")?.args.iceRestart).toBe(true);
    expect(calls.find((c) => c.command === "native_add_candidate")?.args.candidate).toBeNull();
  });

  it("turns engine events into RTCPeerConnection events", async () => {
    const { bridge, emit } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    const seen: string[] = [];
    pc.addEventListener("icecandidate", (e) => {
      const c = (e as Event & { candidate: { toJSON(): RTCIceCandidateInit } | null }).candidate;
      seen.push(c ? `cand:${c.toJSON().candidate}` : "cand:end");
    });
    pc.addEventListener("connectionstatechange", () => seen.push(`conn:${pc.connectionState}`));
    emit({ type: "candidate", candidate: { candidate: "candidate:1 1 UDP 1 192.0.2.2 5000 typ host", sdpMLineIndex: 0 } });
    emit({ type: "candidate", candidate: null });
    emit({ type: "connectionState", state: "connected" });
    expect(seen).toEqual(["cand:candidate:1 1 UDP 1 192.0.2.2 5000 typ host", "cand:end", "conn:connected"]);
    const stats = await pc.getStats();
    const entries: unknown[] = [];
    stats.forEach((v) => entries.push(v));
    // Passed through as the engine shaped them (media-gst's stats_shape.rs).
    expect(entries).toEqual([{ id: "in-v", type: "inbound-rtp", kind: "video", framesDecoded: 42 }]);
  });

  it("moves chat text and file bytes over negotiated channels", async () => {
    const { bridge, calls, emit } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    const chat = pc.createDataChannel("chat", { negotiated: true, id: 0 });
    const files = pc.createDataChannel("files", { negotiated: true, id: 1 });
    const got: Array<string | ArrayBuffer> = [];
    files.addEventListener("message", (e) => got.push((e as unknown as NativeMessageEvent).data));
    let opened = false;
    chat.addEventListener("open", () => (opened = true));
    emit({ type: "channelOpen", id: 0 });
    emit({ type: "channelOpen", id: 1 });
    expect(opened).toBe(true);
    expect(chat.readyState).toBe("open");
    chat.send('{"t":"chat"}');
    files.send(new Uint8Array([1, 2, 3]));
    emit({ type: "channelBinary", id: 1, base64: "AQID" });
    emit({ type: "channelText", id: 1, text: '{"t":"end"}' });
    await flush();
    expect(calls.find((c) => c.command === "native_send_text")?.args).toMatchObject({ pc: 7, channel: 0, text: '{"t":"chat"}' });
    expect(calls.find((c) => c.command === "native_send_binary")?.args).toMatchObject({ channel: 1, base64: "AQID" });
    expect(new Uint8Array(got[0] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(got[1]).toBe('{"t":"end"}');
  });

  it("switches devices by label, and only when the device changes", async () => {
    const { bridge, calls } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    const track = (kind: string, label: string) => ({ kind, label, enabled: true }) as unknown as MediaStreamTrack;
    const video = pc.addTrack(track("video", "Cam A"));
    const audio = pc.addTrack(track("audio", "Mic A"));
    await flush();
    await video.replaceTrack(null); // camera off
    await video.replaceTrack(track("video", "Cam A")); // on again: same camera, no restart
    await video.replaceTrack(track("video", "Cam B"));
    await audio.replaceTrack(track("audio", "Mic B"));
    // The engine starts on the first tracks' devices (those chosen in settings), not defaults.
    expect(calls.find((c) => c.command === "native_create")?.args.sources).toEqual({
      video: { kind: "camera", label: "Cam A" },
      audio: { kind: "microphone", label: "Mic A" },
    });
    const sources = calls.filter((c) => c.command === "native_set_source").map((c) => c.args.source);
    expect(sources).toEqual([
      { kind: "camera", label: "Cam B" },
      { kind: "microphone", label: "Mic B" },
    ]);
    const sending = calls.filter((c) => c.command === "native_set_sending").map((c) => `${String(c.args.kind)}:${String(c.args.on)}`);
    expect(sending.slice(-4)).toEqual(["video:false", "video:true", "video:true", "audio:true"]);
  });

  it("adds the data channels before making the offer, even when the engine is slow to", async () => {
    const log: string[] = [];
    const bridge: NativeBridge = {
      async invoke<T>(command: string): Promise<T> {
        log.push(`start ${command}`);
        // Channel creation takes a while in the app (a main-thread command).
        if (command === "native_create_channel") await new Promise((r) => setTimeout(r, 20));
        log.push(`end ${command}`);
        const answers: Record<string, unknown> = { native_create: 1, native_set_local_auto: { type: "offer", sdp: "v=0\r\n" } };
        return answers[command] as T;
      },
      channel: () => "__CHANNEL__:1",
    };
    const pc = new NativePeerConnection(bridge, {});
    pc.createDataChannel("chat", { negotiated: true, id: 0 });
    pc.createDataChannel("files", { negotiated: true, id: 1 });
    await pc.setLocalDescription();
    expect(log.filter((l) => l !== "start native_create" && l !== "end native_create")).toEqual([
      "start native_create_channel",
      "end native_create_channel",
      "start native_create_channel",
      "end native_create_channel",
      "start native_set_local_auto",
      "end native_set_local_auto",
    ]);
  });

  it("sends the offer before the candidates the engine gathered while setting it", async () => {
    // The app's event stream can deliver webrtcbin's first candidates before the reply with
    // the offer; the other side must still see the offer first (a candidate first made a
    // polite Chromium start and offer too, and then fail to answer).
    let emit: (ev: NativeEvent) => void = () => {};
    const host = { candidate: "candidate:1 1 UDP 2015363327 10.91.0.1 5000 typ host", sdpMLineIndex: 0 };
    const bridge: NativeBridge = {
      async invoke<T>(command: string): Promise<T> {
        if (command === "native_set_local_auto") {
          emit({ type: "candidate", candidate: host });
          emit({ type: "candidate", candidate: null });
          return { type: "offer", sdp: "v=0\r\n" } as T;
        }
        return (command === "native_create" ? 1 : undefined) as T;
      },
      channel(handler) {
        emit = handler;
        return "__CHANNEL__:1";
      },
    };
    const pc = new NativePeerConnection(bridge, {});
    const sent: NegotiationMessage[] = [];
    const negotiator = new Negotiator(pc as unknown as RTCPeerConnection, false, (m) => sent.push(m));
    pc.addEventListener("icecandidate", (e) => negotiator.localCandidate((e as RTCPeerConnectionIceEvent).candidate));
    await negotiator.negotiationNeeded();
    await flush();
    expect(sent.map((m) => ("description" in m ? m.description.type : (m.candidate?.candidate ?? "end")))).toEqual([
      "offer",
      host.candidate,
      "end",
    ]);
    // Later candidates (no description being set) go out at once.
    emit({ type: "candidate", candidate: { ...host, candidate: "candidate:2 1 UDP 1 10.91.0.1 5001 typ host" } });
    expect(sent).toHaveLength(4);
  });

  it("starts an audio-only call without a camera, and switches to one added later", async () => {
    const { bridge, calls } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    const track = (kind: string, label: string, enabled = true) => ({ kind, label, enabled }) as unknown as MediaStreamTrack;
    pc.addTrack(track("audio", "Mic A", false)); // joined muted
    await flush();
    expect(calls.find((c) => c.command === "native_create")?.args.sources).toEqual({ audio: { kind: "microphone", label: "Mic A" } });
    expect(calls.find((c) => c.command === "native_set_sending")?.args).toMatchObject({ kind: "audio", on: false });
    pc.addTrack(track("video", "Cam A")); // camera turned on mid-call
    await flush();
    expect(calls.filter((c) => c.command === "native_set_source").map((c) => c.args.source)).toEqual([{ kind: "camera", label: "Cam A" }]);
    expect(calls.at(-1)).toMatchObject({ command: "native_set_sending", args: { kind: "video", on: true } });
  });

  it("asks to negotiate only while stable, as browsers do", async () => {
    const { bridge, emit } = fakeBridge();
    const pc = new NativePeerConnection(bridge, {});
    let needed = 0;
    pc.addEventListener("negotiationneeded", () => needed++);
    // Answering: the engine's start-up report arrives while the remote offer is being applied.
    const applying = pc.setRemoteDescription({ type: "offer", sdp: "v=0\r\n" });
    emit({ type: "negotiationNeeded" });
    await applying;
    emit({ type: "negotiationNeeded" }); // have-remote-offer
    expect(needed).toBe(0);
    await pc.setLocalDescription({ type: "answer", sdp: "v=0\r\n" });
    expect(pc.signalingState).toBe("stable");
    emit({ type: "negotiationNeeded" });
    expect(needed).toBe(1);
  });
});
