// The model's vocabulary as clickable suggestions, grouped by what a word describes in Kineto's world.
const GROUPS = [
  ['Colours', 'red orange yellow green cyan blue purple violet pink white'],
  ['Shapes', 'ball circle sphere square box block triangle pyramid star ring donut hoop'],
  ['Motion', 'moving sliding going rising falling bouncing hopping spinning rotating turning growing ' +
    'expanding getting bigger shrinking smaller standing still resting not left right up down'],
  ['Places', 'black sky grass lawn night water underwater sea background'],
  ['Linking words', 'a an the and with on in under at'],
];

// vocab: the model's words (index 0, '<null>', is skipped). Returns [[title, words[]], ...].
export function groupVocabulary(vocab) {
  const words = vocab.filter((w, i) => i > 0 && w && !w.startsWith('<'));
  const placed = new Set();
  const groups = GROUPS.map(([title, list]) => {
    const wanted = list.split(' ');
    const members = words.filter((w) => wanted.includes(w) && !placed.has(w));
    members.forEach((w) => placed.add(w));
    return [title, members];
  });
  groups.push(['Other', words.filter((w) => !placed.has(w))]);
  return groups.filter(([, members]) => members.length > 0);
}

export function renderVocabulary(container, vocab, onPick) {
  container.replaceChildren();
  for (const [title, words] of groupVocabulary(vocab)) {
    const group = document.createElement('div');
    group.className = 'vocab-group';
    const heading = document.createElement('h3');
    heading.textContent = title;
    const list = document.createElement('div');
    list.className = 'chips';
    for (const word of words) {
      const chip = document.createElement('button');
      chip.type = 'button';
      chip.className = 'chip';
      chip.textContent = word;
      chip.addEventListener('click', () => onPick(word));
      list.append(chip);
    }
    group.append(heading, list);
    container.append(group);
  }
}

// Inserts a word at the caret of a text field, with single spaces around it.
export function insertWord(field, word) {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  const before = field.value.slice(0, start).replace(/\s+$/, '');
  const after = field.value.slice(end).replace(/^\s+/, '');
  const head = before ? before + ' ' : '';
  field.value = head + word + (after ? ' ' + after : '');
  const caret = head.length + word.length;
  field.setSelectionRange(caret, caret);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}
