// Injected into every page before the app runs (page.addInitScript). It only observes: it
// records RTCPeerConnection configurations and the moments a person would notice (a click,
// the call becoming connected, the first remote frame), for assertions and the benchmark.
(() => {
  const e2e = {
    /** ICE server lists every RTCPeerConnection was created with. */
    pcConfigs: [],
    /** Wall-clock (epoch ms, comparable across browsers on one machine) of first events. */
    marks: {},
  };
  Object.defineProperty(window, "__e2e", { value: e2e });
  const now = () => performance.timeOrigin + performance.now();
  const mark = (name, t = now()) => {
    if (!(name in e2e.marks)) e2e.marks[name] = t;
  };

  const Native = window.RTCPeerConnection;
  if (Native) {
    class ObservedPeerConnection extends Native {
      constructor(config, ...rest) {
        super(config, ...rest);
        e2e.pcConfigs.push({ iceServers: JSON.parse(JSON.stringify(config?.iceServers ?? [])) });
        mark("pcCreated");
      }
    }
    window.RTCPeerConnection = ObservedPeerConnection;
  }

  document.addEventListener(
    "click",
    (ev) => {
      const el = ev.target instanceof Element ? ev.target.closest("[data-testid]") : null;
      if (el) mark(`click:${el.getAttribute("data-testid")}`);
    },
    true,
  );

  const watchedVideos = new WeakSet();
  const scan = () => {
    const state = document.querySelector('[data-testid="call-state"]');
    const s = state?.getAttribute("data-state");
    if (s) mark(`callState:${s}`);
    if (document.querySelector('[data-testid="call-ended"]')) mark("callEnded");
    const video = document.querySelector('[data-testid="remote-video"]');
    if (video instanceof HTMLVideoElement && !watchedVideos.has(video)) {
      watchedVideos.add(video);
      if ("requestVideoFrameCallback" in video) {
        video.requestVideoFrameCallback(() => mark("firstRemoteFrame"));
      }
    }
  };
  const start = () => {
    new MutationObserver(scan).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-state", "data-testid"],
    });
    scan();
  };
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
