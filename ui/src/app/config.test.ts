import { describe, expect, it } from "vitest";
import { deviceUrls, httpBase, joinLink, readPageConfig } from "./config";

describe("page config", () => {
  it("reads the contract's query and hash parameters", () => {
    const c = readPageConfig({ search: "?server=ws://127.0.0.1:9/ws&lang=zh-CN&join=7K3Q-H2MX&media=audio", hash: "#owner=s3cret", protocol: "https:", host: "parley.example" });
    expect(c).toEqual({ serverOverride: "ws://127.0.0.1:9/ws", sameHostServer: "wss://parley.example/ws", lang: "zh-CN", join: "7K3Q-H2MX", audioOnly: true, ownerToken: "s3cret", stun: null });
    const d = readPageConfig({ search: "?server=javascript:x", hash: "", protocol: "tauri:", host: "localhost" });
    expect(d.serverOverride).toBeNull();
    expect(d.sameHostServer).toBeNull();
    expect(d.ownerToken).toBeNull();
    expect(readPageConfig({ search: "?stun=", hash: "", protocol: "http:", host: "h" }).stun).toBe("");
    expect(readPageConfig({ search: "?stun=stun:127.0.0.1:3478", hash: "", protocol: "http:", host: "h" }).stun).toBe("stun:127.0.0.1:3478");
  });

  it("builds join links, device URLs and http bases", () => {
    expect(joinLink({ origin: "http://h:1", pathname: "/", search: "?lang=en" }, "7K3Q-H2MX")).toBe("http://h:1/?join=7K3Q-H2MX");
    expect(deviceUrls("192.168.1.20:7878")).toEqual({ ws: "ws://192.168.1.20:7878/ws", http: "http://192.168.1.20:7878" });
    expect(deviceUrls("http://laptop.local:7878/")).toEqual({ ws: "ws://laptop.local:7878/ws", http: "http://laptop.local:7878" });
    expect(deviceUrls("not a host!")).toBeNull();
    expect(httpBase("wss://a.example:8443/ws")).toBe("https://a.example:8443");
  });
});
