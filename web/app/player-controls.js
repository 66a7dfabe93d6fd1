// The page's player (web/lib/player.js, shared with <kineto-clip>) and its controls: play/pause,
// frame steps, scrubber, loop, speed, fps, scaling, keys.
import { Player } from '../lib/player.js';

// $: the page's getElementById. Returns the Player drawing on #screen, wired to its controls.
export function createPlayer($) {
  const player = new Player($('screen'), { onFrame: (index, count, playing) => showFrame($, index, count, playing) });
  wire(player, $);
  return player;
}

function showFrame($, index, count, playing) {
  const controls = ['play', 'prev-frame', 'next-frame', 'scrubber'];
  for (const id of controls) $(id).disabled = count === 0;
  $('play').textContent = playing ? 'Pause' : 'Play';
  $('scrubber').max = Math.max(0, count - 1);
  $('scrubber').value = index;
  $('frame-label').textContent = count ? `${index + 1} / ${count}` : '–';
}

function wire(player, $) {
  $('play').addEventListener('click', () => player.toggle());
  $('prev-frame').addEventListener('click', () => player.step(-1));
  $('next-frame').addEventListener('click', () => player.step(1));
  $('scrubber').addEventListener('input', (e) => {
    const index = Number(e.target.value);   // read first: pausing redraws and moves the scrubber
    player.pause();
    player.seek(index);
  });
  $('loop').addEventListener('change', (e) => { player.loop = e.target.checked; });
  $('speed').addEventListener('change', (e) => { player.speed = Number(e.target.value); });
  $('fps').addEventListener('change', (e) => {
    const fps = Number(e.target.value);
    if (Number.isInteger(fps) && fps >= 1 && fps <= 60) player.fps = fps;
  });
  $('scaling').addEventListener('change', (e) => {
    $('screen').classList.toggle('crisp', e.target.value === 'crisp');
  });
  $('screen').addEventListener('keydown', (e) => {
    const keys = { ' ': () => player.toggle(), ArrowLeft: () => player.step(-1), ArrowRight: () => player.step(1) };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
}
