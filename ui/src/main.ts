import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { registerNativeEngineIfAvailable } from "./engine/native/register";

// Webviews without WebRTC (WebKitGTK) call through the app's native engine, if it has one.
void registerNativeEngineIfAvailable();

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
export default mount(App, { target });
