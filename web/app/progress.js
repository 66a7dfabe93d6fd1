// Progress bar with elapsed time and an estimate of what is left, from the mean time per step.
export class Progress {
  constructor(box, bar, text) {
    Object.assign(this, { box, bar, text });
    this.timer = 0;
  }

  start(total) {
    this.total = total;
    this.done = 0;
    this.startTime = performance.now();
    this.bar.max = total;
    this.bar.value = 0;
    this.box.hidden = false;
    this.render('Starting');
    clearInterval(this.timer);
    this.timer = setInterval(() => this.render(), 250);   // elapsed keeps counting between steps
  }

  update(step, total) {
    this.done = step;
    this.total = total;
    this.bar.max = total;
    this.bar.value = step;
    this.render();
  }

  finish(message) {
    clearInterval(this.timer);
    this.render(message, true);
  }

  render(label, final = false) {
    const elapsed = (performance.now() - this.startTime) / 1000;
    const parts = [label ?? `Step ${this.done} of ${this.total}`, `${elapsed.toFixed(1)} s elapsed`];
    if (!final && this.done > 0 && this.done < this.total) {
      const left = (elapsed / this.done) * (this.total - this.done);
      parts.push(`about ${left.toFixed(1)} s left`);
    }
    this.text.textContent = parts.join(' · ');
  }
}
