// player.js — plays a clip (RGBA frames) on a canvas: play/pause, loop, frame stepping, seeking,
// speed. Used by <kineto-clip> and by Kineto's page. Time comes from requestAnimationFrame's
// timestamps, so a test can drive it with a fake clock.
export class Player {
  // onFrame(index, count, playing): after every drawn frame and every play/pause.
  constructor(canvas, { onFrame } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext('2d');
    this.onFrame = onFrame;
    this.images = [];             // one ImageData per frame
    this.index = 0;
    this.fps = 8;
    this.speed = 1;
    this.loop = true;
    this.playing = false;
    this.lastTime = 0;
    this.elapsed = 0;             // ms of clip time not yet turned into frames
    this.tick = this.tick.bind(this);
  }

  get frameCount() { return this.images.length; }

  // Sets the canvas to the clip's size (only when it changes: setting it clears the canvas).
  resize(width, height) {
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
  }

  // clip: {width, height, frames: Uint8ClampedArray[] (RGBA, one per frame)}. Keeps the position when
  // the frame count is unchanged (live previews), else starts at frame 0.
  load(clip, { autoplay = true } = {}) {
    const sameLength = clip.frames.length === this.images.length;
    this.resize(clip.width, clip.height);
    this.images = clip.frames.map((rgba) => new ImageData(new Uint8ClampedArray(rgba), clip.width, clip.height));
    if (!sameLength) this.index = 0;
    this.index = Math.max(0, Math.min(this.index, this.images.length - 1));
    this.draw();
    if (autoplay) this.play();
  }

  // More frames at the end (a long clip's next window), the position and playback kept.
  append(frames) {
    const { width, height } = this.canvas;
    for (const rgba of frames) this.images.push(new ImageData(new Uint8ClampedArray(rgba), width, height));
    this.onFrame?.(this.index, this.images.length, this.playing);
  }

  clear() {
    this.pause();
    this.images = [];
    this.index = 0;
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.onFrame?.(0, 0, false);
  }

  draw() {
    const image = this.images[this.index];
    if (image) this.context.putImageData(image, 0, 0);
    this.onFrame?.(this.index, this.images.length, this.playing);
  }

  // Without loop, play on the last frame starts again from the first.
  play() {
    if (this.images.length === 0 || this.playing) return;
    if (!this.loop && this.index === this.images.length - 1) this.index = 0;
    this.playing = true;
    this.lastTime = performance.now();
    this.elapsed = 0;
    requestAnimationFrame(this.tick);
    this.draw();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.draw();
  }

  toggle() { this.playing ? this.pause() : this.play(); }

  seek(index) {
    if (this.images.length === 0) return;
    const n = this.images.length;
    this.index = this.loop ? ((index % n) + n) % n : Math.max(0, Math.min(n - 1, index));
    this.draw();
  }

  step(delta) {
    this.pause();
    this.seek(this.index + delta);
  }

  tick(now) {
    if (!this.playing) return;
    this.elapsed += Math.max(0, now - this.lastTime) * this.speed;
    this.lastTime = now;
    const frameMs = 1000 / this.fps;
    if (this.elapsed >= frameMs) {
      const advance = Math.floor(this.elapsed / frameMs);
      this.elapsed -= advance * frameMs;
      const last = this.images.length - 1;
      if (!this.loop && this.index + advance >= last) {
        this.index = last;
        this.playing = false;
      } else {
        this.index = (this.index + advance) % this.images.length;
      }
      this.draw();
    }
    if (this.playing) requestAnimationFrame(this.tick);
  }
}
