// The page's start image: a PNG or JPEG dropped on the page or picked with the file input, or a
// frame of the player ("Continue from this frame"). Shown as a thumbnail with a remove button;
// generate() gets it as `image` (a File goes to the engine's own decoder, a frame as its pixels).
export class StartImage {
  // elements: {input, chosen (shown while an image is set), thumb (a canvas), name, remove}
  // onChange(label | null): after the image is set or removed.
  constructor(elements, onChange) {
    this.el = elements;
    this.onChange = onChange;
    this.image = null;   // a File or an ImageData
    this.label = '';
    this.el.input.addEventListener('change', () => {
      const [file] = this.el.input.files;
      if (file) this.setFile(file);
    });
    this.el.remove.addEventListener('click', () => this.clear());
    // Only a drag that carries files is taken, so text dragged into the prompt still lands there,
    // and not one onto a file input (the model file's), which takes it itself.
    const takesDrop = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files') &&
      !(event.target instanceof HTMLInputElement && event.target.type === 'file');
    document.addEventListener('dragover', (event) => {
      if (!takesDrop(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('drop', (event) => {
      const file = event.dataTransfer?.files?.[0];
      if (!file || !takesDrop(event)) return;
      event.preventDefault();   // else the browser opens the file in place of the page
      this.setFile(file);
    });
  }

  // The engine decodes the file itself (as the CLI's --image); the thumbnail is the browser's view of it.
  async setFile(file) {
    this.show(file, file.name || 'dropped image');
    const context = this.el.thumb.getContext('2d');
    try {
      const bitmap = await createImageBitmap(file);
      if (this.image !== file) return bitmap.close();   // replaced meanwhile
      this.el.thumb.width = bitmap.width;
      this.el.thumb.height = bitmap.height;
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
    } catch {
      context.clearRect(0, 0, this.el.thumb.width, this.el.thumb.height);   // no preview; Generate says why
    }
  }

  // pixels: an ImageData, e.g. the frame the player shows.
  setPixels(pixels, label) {
    this.show(pixels, label);
    this.el.thumb.width = pixels.width;
    this.el.thumb.height = pixels.height;
    this.el.thumb.getContext('2d').putImageData(pixels, 0, 0);
  }

  show(image, label) {
    this.image = image;
    this.label = label;
    this.el.name.textContent = label;
    this.el.chosen.hidden = false;
    this.onChange(label);
  }

  clear() {
    this.image = null;
    this.label = '';
    this.el.input.value = '';
    this.el.chosen.hidden = true;
    this.onChange(null);
  }
}
