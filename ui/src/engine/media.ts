/**
 * The local side of media: microphone, camera and screen, and which track each sender should
 * carry right now. Calls are told through `onTrack` and swap tracks with `replaceTrack`.
 */

/** Why local media could not start, in terms of what the person can do. */
export type MediaErrorCode = "camera-denied" | "no-device" | "device-busy" | "media-failed" | "insecure-context";

/** A failure to open the camera or microphone. */
export class MediaError extends Error {
  constructor(readonly code: MediaErrorCode, message: string) {
    super(message);
  }
}

function classify(err: unknown): MediaError {
  const name = err instanceof Error ? err.name : "";
  const message = err instanceof Error ? err.message : String(err);
  if (name === "NotAllowedError" || name === "SecurityError") return new MediaError("camera-denied", message);
  if (name === "NotFoundError" || name === "OverconstrainedError") return new MediaError("no-device", message);
  if (name === "NotReadableError" || name === "AbortError") return new MediaError("device-busy", message);
  return new MediaError("media-failed", message);
}

/** Devices the person can choose from. */
export interface DeviceChoices {
  cameras: MediaDeviceInfo[];
  mics: MediaDeviceInfo[];
  speakers: MediaDeviceInfo[];
}

/** Lists cameras, microphones and speakers (labels appear once permission is granted). */
export async function listDevices(): Promise<DeviceChoices> {
  if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], mics: [], speakers: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: all.filter((d) => d.kind === "videoinput"),
    mics: all.filter((d) => d.kind === "audioinput"),
    speakers: all.filter((d) => d.kind === "audiooutput"),
  };
}

/** Whether this browser can share the screen. */
export function canShareScreen(): boolean {
  return typeof navigator !== "undefined" && typeof navigator.mediaDevices?.getDisplayMedia === "function";
}

/** Whether audio output can be chosen (`setSinkId`). */
export function canChooseSpeaker(): boolean {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

/** What to open. */
export interface MediaRequest {
  video: boolean;
  micId?: string;
  cameraId?: string;
}

type TrackKind = "audio" | "video";

/** Owns the local tracks; tells its listener which track each kind should send. */
export class LocalMedia {
  /** The preview stream: microphone plus whatever video is being sent. */
  readonly stream = new MediaStream();
  private mic: MediaStreamTrack | null = null;
  private camera: MediaStreamTrack | null = null;
  private screen: MediaStreamTrack | null = null;
  private cameraId: string | undefined;
  private micId: string | undefined;
  muted = false;
  cameraOff = false;
  /** Listener for sender track changes (the active call). */
  onTrack: (kind: TrackKind, track: MediaStreamTrack | null) => void = () => {};
  /** Listener for any change (UI refresh). */
  onChange: () => void = () => {};

  /** Opens the microphone and, if asked, the camera (falling back to audio if there is none). */
  async start(request: MediaRequest): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new MediaError("insecure-context", "getUserMedia is not available (needs https or localhost)");
    }
    this.micId = request.micId || undefined;
    this.cameraId = request.cameraId || undefined;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: this.audioConstraints(),
        video: request.video ? this.videoConstraints() : false,
      });
    } catch (err) {
      const e = classify(err);
      if (e.code !== "no-device") throw e;
      if (this.micId || this.cameraId) {
        // A remembered device is gone (unplugged): use the defaults instead.
        this.micId = this.cameraId = undefined;
        return this.start({ video: request.video });
      }
      if (!request.video) throw e;
      // No camera: carry on with the microphone alone.
      stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() }).catch((err2: unknown) => {
        throw classify(err2);
      });
    }
    this.mic = stream.getAudioTracks()[0] ?? null;
    this.camera = stream.getVideoTracks()[0] ?? null;
    this.cameraOff = !this.camera;
    this.rebuild();
  }

  /** The track the audio sender should carry. */
  get audioTrack(): MediaStreamTrack | null {
    return this.mic;
  }

  /** The track the video sender should carry: the screen while sharing, else the camera. */
  get videoTrack(): MediaStreamTrack | null {
    return this.screen ?? (this.cameraOff ? null : this.camera);
  }

  /** True while the screen is shared. */
  get sharing(): boolean {
    return this.screen !== null;
  }

  /** True if a camera was ever opened for this call. */
  get hasCamera(): boolean {
    return this.camera !== null || this.cameraOff;
  }

  /** Mutes or unmutes the microphone (the sender then carries silence). */
  setMuted(muted: boolean): void {
    this.muted = muted;
    if (this.mic) this.mic.enabled = !muted;
    this.onChange();
  }

  /** Turns the camera off (releasing it, so its light goes out) or on again. */
  async setCameraOff(off: boolean): Promise<void> {
    if (off === this.cameraOff) return;
    if (off) {
      this.camera?.stop();
      this.camera = null;
      this.cameraOff = true;
    } else {
      const track = await this.openCamera(this.cameraId);
      this.camera = track;
      this.cameraOff = false;
    }
    this.rebuild();
    if (!this.screen) this.onTrack("video", this.videoTrack);
  }

  /** Switches to another camera. */
  async switchCamera(deviceId: string): Promise<void> {
    this.cameraId = deviceId || undefined;
    if (this.cameraOff) return;
    const track = await this.openCamera(this.cameraId);
    this.camera?.stop();
    this.camera = track;
    this.rebuild();
    if (!this.screen) this.onTrack("video", track);
  }

  /** Switches to another microphone, keeping the mute state. */
  async switchMic(deviceId: string): Promise<void> {
    this.micId = deviceId || undefined;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() }).catch((err: unknown) => {
      throw classify(err);
    });
    const track = stream.getAudioTracks()[0] ?? null;
    if (!track) return;
    this.mic?.stop();
    this.mic = track;
    track.enabled = !this.muted;
    this.rebuild();
    this.onTrack("audio", track);
  }

  /** Shares the screen in place of the camera; the browser's own "stop" returns to it. */
  async startScreen(): Promise<void> {
    if (this.screen) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      throw classify(err);
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    track.addEventListener("ended", () => this.stopScreen());
    this.screen = track;
    this.rebuild();
    this.onTrack("video", track);
  }

  /** Stops sharing and sends the camera again. */
  stopScreen(): void {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    this.rebuild();
    this.onTrack("video", this.videoTrack);
  }

  /** Releases every device. */
  stop(): void {
    for (const t of [this.mic, this.camera, this.screen]) t?.stop();
    this.mic = this.camera = this.screen = null;
    for (const t of this.stream.getTracks()) this.stream.removeTrack(t);
    this.onTrack = () => {};
    this.onChange = () => {};
  }

  private audioConstraints(): MediaTrackConstraints {
    const c: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (this.micId) c.deviceId = { exact: this.micId };
    return c;
  }

  private videoConstraints(id = this.cameraId): MediaTrackConstraints {
    // No size asked for: cameras then give their natural shape (most often 4:3 at 640x480).
    const c: MediaTrackConstraints = { frameRate: { ideal: 30 } };
    if (id) c.deviceId = { exact: id };
    return c;
  }

  private async openCamera(id: string | undefined): Promise<MediaStreamTrack> {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints(id) });
      const track = s.getVideoTracks()[0];
      if (!track) throw new MediaError("no-device", "no camera track");
      return track;
    } catch (err) {
      throw err instanceof MediaError ? err : classify(err);
    }
  }

  private rebuild(): void {
    const want = [this.mic, this.videoTrack].filter((t): t is MediaStreamTrack => t !== null);
    for (const t of this.stream.getTracks()) if (!want.includes(t)) this.stream.removeTrack(t);
    for (const t of want) if (!this.stream.getTracks().includes(t)) this.stream.addTrack(t);
    this.onChange();
  }
}
