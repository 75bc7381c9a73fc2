/** A ring tone made with WebAudio, so the app ships no sound files. */

/** Plays a two-tone ring (incoming) or a soft ring-back (outgoing) until stopped. */
export class Ringer {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** Starts ringing; harmless if audio is unavailable or blocked. */
  start(kind: "incoming" | "outgoing"): void {
    this.stop();
    if (typeof AudioContext === "undefined") return;
    try {
      this.ctx = new AudioContext();
      void this.ctx.resume().catch(() => {});
    } catch {
      return;
    }
    const ring = () => (kind === "incoming" ? this.incoming() : this.outgoing());
    ring();
    this.timer = setInterval(ring, kind === "incoming" ? 3000 : 4000);
  }

  /** Stops and releases the audio device. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
  }

  private incoming(): void {
    // Two short bursts of a 440+480 Hz pair, like a phone.
    for (const offset of [0, 0.5]) this.tone([440, 480], offset, 0.4, 0.12);
  }

  private outgoing(): void {
    this.tone([440, 480], 0, 1.6, 0.05);
  }

  private tone(freqs: number[], offset: number, length: number, volume: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const start = ctx.currentTime + offset;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(volume, start + 0.02);
    gain.gain.setValueAtTime(volume, start + length - 0.05);
    gain.gain.linearRampToValueAtTime(0, start + length);
    gain.connect(ctx.destination);
    for (const f of freqs) {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start(start);
      osc.stop(start + length);
    }
  }
}
