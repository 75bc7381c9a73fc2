import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { appOptions } from "./app/app-mode";
import { Controller } from "./app/controller.svelte";
import { registerNativeEngineIfAvailable } from "./engine/native/register";

// Webviews without WebRTC (WebKitGTK) call through the app's native engine, if it has one.
void registerNativeEngineIfAvailable();

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");

// Inside the app, the backend supplies settings, the owner session and transports; in a
// browser `appOptions` is null at once and the page runs on its own server.
let ctrl: Controller | null = null;
void appOptions((message) => {
  if (ctrl) ctrl.banner = { code: "settings-invalid", detail: message };
}).then((options) => {
  ctrl = new Controller(options ?? {});
  target.replaceChildren(); // the static frame from index.html
  mount(App, { target, props: { ctrl } });
});
