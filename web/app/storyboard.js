// The storyboard editor: shots one after another, each with its own prompt and length, added,
// removed and moved up or down. With no shots the page's single prompt and Frames make the clip;
// the first "Add shot" turns that prompt into shot 1. Down to one shot, the editor folds back into
// the single prompt, so a one-shot clip is always made exactly as a plain prompt is.
import { MAX_FRAMES, MAX_SHOTS } from '../lib/kineto-request.js';

export class Storyboard {
  // el: {form, list, add, prompt, frames}; window: the model's frames, each new shot's length.
  constructor(el) {
    this.el = el;
    this.window = 16;
    this.lastPrompt = el.prompt;   // the prompt field a vocabulary chip writes into
    el.add.addEventListener('click', () => this.add());
    el.prompt.addEventListener('focus', () => { this.lastPrompt = el.prompt; });
    el.list.addEventListener('focusin', (e) => { if (e.target.closest('.shot-prompt')) this.lastPrompt = e.target; });
  }

  get rows() { return [...this.el.list.children]; }
  get active() { return this.rows.length > 0; }

  // A new shot at the end; the first also makes shot 1 from the single prompt and its frames.
  add() {
    if (this.rows.length >= MAX_SHOTS) return;
    if (!this.active) {
      this.append({ prompt: this.el.prompt.value.trim(), frames: Number(this.el.frames.value) || this.window });
    }
    const row = this.append({ prompt: '', frames: this.window });
    this.update();
    row.querySelector('input[type="text"]').focus();
  }

  append({ prompt, frames }) {
    const row = document.createElement('li');
    row.className = 'shot';
    const text = labelled('shot-prompt', 'Prompt', input('text', prompt));
    text.querySelector('input').maxLength = 500;
    text.querySelector('input').spellcheck = false;
    text.querySelector('input').autocomplete = 'off';
    const length = labelled('shot-frames', 'Frames', input('number', String(frames)));
    Object.assign(length.querySelector('input'), { min: 1, max: MAX_FRAMES, step: 1 });
    length.querySelector('input').addEventListener('input', () => this.update());
    const buttons = document.createElement('div');
    buttons.className = 'shot-buttons';
    buttons.append(button('up', 'Up', () => this.move(row, -1)), button('down', 'Down', () => this.move(row, 1)),
      button('remove', 'Remove', () => this.remove(row)));
    row.append(text, length, buttons);
    this.el.list.append(row);
    return row;
  }

  move(row, delta) {
    const rows = this.rows;
    const to = rows.indexOf(row) + delta;
    if (to < 0 || to >= rows.length) return;
    if (delta < 0) this.el.list.insertBefore(row, rows[to]);
    else this.el.list.insertBefore(row, rows[to].nextSibling);
    this.update();
    // keyboard users keep moving the same shot: focus stays on its button unless that is now disabled
    const same = row.querySelector(`button.${delta < 0 ? 'up' : 'down'}`);
    (same.disabled ? row.querySelector(`button.${delta < 0 ? 'down' : 'up'}`) : same).focus();
  }

  remove(row) {
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    if (this.rows.length === 1) {   // one shot left: back to the single prompt
      const [last] = this.read();
      this.el.list.replaceChildren();
      this.el.prompt.value = last.prompt;
      this.el.frames.value = last.frames;
      this.update();
      this.el.prompt.dispatchEvent(new Event('input', { bubbles: true }));
      this.el.prompt.focus();
      return;
    }
    this.update();
    next?.querySelector('input[type="text"]').focus();
  }

  // Numbers the shots, names their controls, and shows the clip's frames in the Frames field.
  update() {
    const rows = this.rows;
    rows.forEach((row, i) => {
      const n = i + 1;
      row.querySelector('.shot-prompt span').textContent = `Shot ${n} prompt`;
      row.querySelector('.shot-frames span').textContent = 'Frames';
      row.querySelector('.shot-frames input').setAttribute('aria-label', `Shot ${n} frames`);
      row.querySelector('button.up').disabled = i === 0;
      row.querySelector('button.down').disabled = i === rows.length - 1;
      row.querySelector('button.up').setAttribute('aria-label', `Move shot ${n} up`);
      row.querySelector('button.down').setAttribute('aria-label', `Move shot ${n} down`);
      row.querySelector('button.remove').setAttribute('aria-label', `Remove shot ${n}`);
    });
    this.el.add.disabled = rows.length >= MAX_SHOTS;
    this.el.frames.disabled = this.active;   // the shots' sum while there are shots
    if (this.active) {
      this.el.form.dataset.storyboard = '';
      this.el.frames.value = rows.reduce((n, row) => n + (Number(row.querySelector('.shot-frames input').value) || 0), 0);
    } else {
      delete this.el.form.dataset.storyboard;
    }
  }

  // The shots as [{prompt, frames}], [] without a storyboard. Throws an Error whose `field` is the
  // input to fix.
  read() {
    const shots = this.rows.map((row, i) => {
      const text = row.querySelector('.shot-prompt input');
      const length = row.querySelector('.shot-frames input');
      const prompt = text.value.trim();
      if (!prompt) fail(text, `Shot ${i + 1} needs a prompt.`);
      const frames = Number(length.value);
      if (length.value.trim() === '' || !Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) {
        fail(length, `Shot ${i + 1}'s frames must be a whole number from 1 to ${MAX_FRAMES}.`);
      }
      return { prompt, frames };
    });
    const total = shots.reduce((n, shot) => n + shot.frames, 0);
    if (total > MAX_FRAMES) {
      fail(this.element(shots.length - 1, 'frames'), `The shots add up to ${total} frames; a clip has at most ${MAX_FRAMES}.`);
    }
    return shots;
  }

  // The prompt field a vocabulary chip writes into: the one last focused, if it is shown.
  promptTarget() {
    const field = this.lastPrompt;
    if (field.isConnected && (field === this.el.prompt) !== this.active) return field;
    return this.active ? this.element(this.rows.length - 1, 'prompt') : this.el.prompt;
  }

  // The input of shot i's prompt or frames, for an error that names shots[i].
  element(i, what) { return this.rows[i]?.querySelector(what === 'frames' ? '.shot-frames input' : '.shot-prompt input'); }

  // Fills the editor from a share link or a history entry (shots of two or more; else it folds).
  write(shots) {
    this.el.list.replaceChildren();
    if (shots && shots.length > 1) for (const shot of shots) this.append(shot);
    this.update();
  }
}

function input(type, value) {
  const field = document.createElement('input');
  field.type = type;
  field.value = value;
  return field;
}

function labelled(className, text, field) {
  const label = document.createElement('label');
  label.className = className;
  const span = document.createElement('span');
  span.textContent = text;
  label.append(span, field);
  return label;
}

function button(className, text, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

function fail(field, message) {
  const error = new Error(message);
  error.field = field;
  throw error;
}
