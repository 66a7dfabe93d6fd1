// Clips made this visit: a strip of thumbnails; clicking one replays it with its settings.
const MAX_CLIPS = 24;
// RGBA bytes kept, whatever the model's frame size: 1024 frames at 64x64 or 256 at 128x128 (one
// 256-frame clip); the newest clip is always kept.
const MAX_BYTES_KEPT = 16 << 20;

export class History {
  constructor(list, emptyNote, onPick) {
    Object.assign(this, { list, emptyNote, onPick });
    this.entries = [];
  }

  add(clip, settings) {
    const entry = { clip, settings };
    this.entries.unshift(entry);
    const bytesKept = () => this.entries.reduce((n, e) => n + e.clip.frames.length * e.clip.width * e.clip.height * 4, 0);
    while (this.entries.length > MAX_CLIPS || (this.entries.length > 1 && bytesKept() > MAX_BYTES_KEPT)) {
      this.entries.pop();
      this.list.lastElementChild?.remove();
    }
    this.list.prepend(this.renderItem(entry));
    this.emptyNote.hidden = true;
    return entry;
  }

  renderItem(entry) {
    const { clip, settings } = entry;
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    const label = `${settings.prompt} (seed ${settings.seed})`;
    button.title = label;
    button.setAttribute('aria-label', `Replay: ${label}`);
    const canvas = document.createElement('canvas');
    canvas.width = clip.width;
    canvas.height = clip.height;
    const middle = clip.frames[Math.floor(clip.frames.length / 2)];
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(middle), clip.width, clip.height), 0, 0);
    const caption = document.createElement('span');
    caption.textContent = settings.prompt;
    button.append(canvas, caption);
    button.addEventListener('click', () => this.onPick(entry));
    item.append(button);
    return item;
  }
}
