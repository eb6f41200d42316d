// Short sound effects synthesized with Web Audio (no files to load), with a mute that
// is remembered between visits.

const MUTE_KEY = "arena.muted";

export class Sounds {
  private ctx: AudioContext | null = null;
  muted = localStorage.getItem(MUTE_KEY) === "1";

  /** Audio can only start after a user gesture: call from one (the Join click). */
  unlock(): void {
    if (!this.ctx && typeof AudioContext !== "undefined") this.ctx = new AudioContext();
    void this.ctx?.resume();
  }

  toggleMute(): boolean {
    this.muted = !this.muted;
    localStorage.setItem(MUTE_KEY, this.muted ? "1" : "0");
    return this.muted;
  }

  /** A collision: higher and louder when it involves you. */
  bump(mine: boolean): void {
    this.tone(mine ? 660 : 330, 0.08, mine ? 0.25 : 0.08, "square");
  }

  roundStart(): void {
    this.tone(523, 0.12, 0.2, "triangle");
    this.tone(784, 0.18, 0.2, "triangle", 0.12);
  }

  roundEnd(): void {
    this.tone(784, 0.12, 0.2, "triangle");
    this.tone(523, 0.25, 0.2, "triangle", 0.12);
  }

  private tone(freq: number, seconds: number, gain: number, type: OscillatorType, delay = 0): void {
    if (this.muted || !this.ctx) return;
    const start = this.ctx.currentTime + delay;
    const osc = this.ctx.createOscillator();
    const amp = this.ctx.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    amp.gain.setValueAtTime(gain, start);
    amp.gain.exponentialRampToValueAtTime(0.001, start + seconds);
    osc.connect(amp).connect(this.ctx.destination);
    osc.start(start);
    osc.stop(start + seconds);
  }
}
