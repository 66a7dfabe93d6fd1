// Clip export: animated GIF (gifenc), WebM (WebCodecs via mediabunny, MediaRecorder as fallback),
// PNG frames in a zip (canvas.toBlob + fflate). A clip is {width, height, fps, frames: RGBA[]}.
import { GIFEncoder, quantize, applyPalette } from './vendor/gifenc.js';
import { zipSync } from './vendor/fflate.js';
import { Output, WebMOutputFormat, BufferTarget, CanvasSource, QUALITY_HIGH, getFirstEncodableVideoCodec }
  from './vendor/mediabunny.js';

const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

// Nearest-neighbour upscale of one RGBA frame by an integer factor.
export function scaleFrame(rgba, width, height, scale) {
  if (scale === 1) return new Uint8ClampedArray(rgba);
  const out = new Uint8ClampedArray(width * scale * height * scale * 4);
  const src = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
  const dst = new Uint32Array(out.buffer);
  const outWidth = width * scale;
  for (let y = 0; y < height * scale; y++) {
    const row = Math.floor(y / scale) * width;
    for (let x = 0; x < outWidth; x++) dst[y * outWidth + x] = src[row + Math.floor(x / scale)];
  }
  return out;
}

// Names each export size by its pixels for the model's frame size ("4× (512×512)" at 128x128).
export function labelExportSizes(select, width, height) {
  for (const option of select.options) {
    const scale = Number(option.value);
    option.textContent = `${scale}× (${width * scale}×${height * scale})`;
  }
}

function scaledClip(clip, scale) {
  return {
    width: clip.width * scale, height: clip.height * scale, fps: clip.fps,
    frames: clip.frames.map((f) => scaleFrame(f, clip.width, clip.height, scale)),
  };
}

export async function exportGif(clip, scale = 1) {
  const { width, height, fps, frames } = scaledClip(clip, scale);
  const gif = GIFEncoder();
  const delay = Math.round(1000 / fps);
  for (const rgba of frames) {
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay, repeat: 0 });
    await yieldToPage();
  }
  gif.finish();
  return new Blob([gif.bytes()], { type: 'image/gif' });
}

function frameCanvas(width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// Returns {blob, method}: 'webcodecs' when an encoder is available, else 'mediarecorder'.
export async function exportWebm(clip, scale = 1, { forceRecorder = false } = {}) {
  const scaled = scaledClip(clip, scale);
  const codec = !forceRecorder && typeof VideoEncoder !== 'undefined'
    ? await getFirstEncodableVideoCodec(['vp9', 'vp8'], { width: scaled.width, height: scaled.height })
    : null;
  if (codec) return { blob: await webmWithWebCodecs(scaled, codec), method: 'webcodecs' };
  if (typeof MediaRecorder === 'undefined') throw new Error('This browser can encode neither WebCodecs nor MediaRecorder video.');
  return { blob: await webmWithRecorder(scaled), method: 'mediarecorder' };
}

async function webmWithWebCodecs({ width, height, fps, frames }, codec) {
  const canvas = frameCanvas(width, height);
  const context = canvas.getContext('2d');
  const output = new Output({ format: new WebMOutputFormat(), target: new BufferTarget() });
  const source = new CanvasSource(canvas, { codec, bitrate: QUALITY_HIGH, keyFrameInterval: 2 });
  output.addVideoTrack(source, { frameRate: fps });
  await output.start();
  for (let i = 0; i < frames.length; i++) {
    context.putImageData(new ImageData(frames[i], width, height), 0, 0);
    await source.add(i / fps, 1 / fps);
  }
  await output.finalize();
  return new Blob([output.target.buffer], { type: 'video/webm' });
}

// Real-time recording of the canvas: one frame per 1/fps seconds.
async function webmWithRecorder({ width, height, fps, frames }) {
  const canvas = frameCanvas(width, height);
  const context = canvas.getContext('2d');
  context.putImageData(new ImageData(frames[0], width, height), 0, 0);
  const stream = canvas.captureStream(0);
  const [track] = stream.getVideoTracks();
  const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) throw new Error('MediaRecorder cannot write WebM in this browser.');
  const recorder = new MediaRecorder(stream, { mimeType: type });
  const chunks = [];
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  for (const rgba of frames) {
    context.putImageData(new ImageData(rgba, width, height), 0, 0);
    track.requestFrame();
    await new Promise((resolve) => setTimeout(resolve, 1000 / fps));
  }
  recorder.stop();
  await stopped;
  track.stop();
  return new Blob(chunks, { type: 'video/webm' });
}

export async function exportPngZip(clip, scale = 1, baseName = 'kineto') {
  const { width, height, frames } = scaledClip(clip, scale);
  const canvas = frameCanvas(width, height);
  const context = canvas.getContext('2d');
  const files = {};
  const digits = String(frames.length - 1).length;
  for (let i = 0; i < frames.length; i++) {
    context.putImageData(new ImageData(frames[i], width, height), 0, 0);
    const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    files[`${baseName}-${String(i).padStart(digits, '0')}.png`] = [new Uint8Array(await png.arrayBuffer()), { level: 0 }];
  }
  return new Blob([zipSync(files)], { type: 'application/zip' });
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
