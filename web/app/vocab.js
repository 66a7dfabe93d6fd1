// The model's vocabulary as clickable chips, grouped by what they describe in Kineto's world.
// A chip stands for one meaning: it inserts the first of its phrases whose words the model knows and
// lists the other known ones in its tooltip, so motions and places go in whole ("moving left", "at
// night") rather than as loose words.
const GROUPS = [
  ['Colours', ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple|violet', 'pink', 'white']],
  ['Shapes', ['ball|circle|sphere', 'square|box|block', 'triangle|pyramid', 'star', 'ring|donut|hoop']],
  ['Motion', ['moving left|sliding left|going left', 'moving right|sliding right|going right',
    'moving up|rising|going up', 'moving down|falling|going down', 'bouncing|hopping',
    'spinning|rotating|turning', 'growing|expanding|getting bigger', 'shrinking|getting smaller',
    'standing still|resting|not moving']],
  ['Places', ['on black|on a black background', 'on white|on a white background', 'in the sky|in a blue sky',
    'on grass|on the grass|on a lawn', 'at night|in the night sky', 'under water|underwater|in the sea']],
  ['Linking words', ['and', 'with', 'a', 'an', 'the']],
];

// vocab: the model's words; special entries such as '<null>' are skipped.
// Returns [[title, [{ text, also: [phrases] }, ...]], ...]; words no chip uses go to 'Other'.
export function groupVocabulary(vocab) {
  const known = new Set(vocab.filter((w) => w && !w.startsWith('<')));
  const used = new Set();
  const groups = GROUPS.map(([title, meanings]) => {
    const chips = [];
    for (const meaning of meanings) {
      const phrases = meaning.split('|').filter((p) => p.split(' ').every((w) => known.has(w)));
      if (phrases.length === 0) continue;
      phrases.forEach((p) => p.split(' ').forEach((w) => used.add(w)));
      chips.push({ text: phrases[0], also: phrases.slice(1) });
    }
    return [title, chips];
  });
  groups.push(['Other', [...known].filter((w) => !used.has(w)).map((w) => ({ text: w, also: [] }))]);
  return groups.filter(([, chips]) => chips.length > 0);
}

export function renderVocabulary(container, vocab, onPick) {
  container.replaceChildren();
  for (const [title, chips] of groupVocabulary(vocab)) {
    const group = document.createElement('div');
    group.className = 'vocab-group';
    const heading = document.createElement('h3');
    heading.textContent = title;
    const list = document.createElement('div');
    list.className = 'chips';
    for (const { text, also } of chips) {
      const chip = document.createElement('button');
      chip.type = 'button';
      chip.className = 'chip';
      chip.textContent = text;
      if (also.length) chip.title = 'also: ' + also.join(', ');
      chip.addEventListener('click', () => onPick(text));
      list.append(chip);
    }
    group.append(heading, list);
    container.append(group);
  }
}

// Inserts text (a word or a phrase) at the caret of a text field, with single spaces around it.
export function insertText(field, text) {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  const before = field.value.slice(0, start).replace(/\s+$/, '');
  const after = field.value.slice(end).replace(/^\s+/, '');
  const head = before ? before + ' ' : '';
  field.value = head + text + (after ? ' ' + after : '');
  const caret = head.length + text.length;
  field.setSelectionRange(caret, caret);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}
