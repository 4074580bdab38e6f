/**
 * The executor's bounded FIFO of waiting tasks (vdsm's TaskQueue): push on a full queue throws
 * ResourceExhausted, with the queue's capacity as current_tasks as vdsm reports it. Running tasks
 * are not counted. A ring buffer, so 100k dispatches cost no array shifting.
 */
import { ResourceExhausted } from './errors.js';

/** How many waiting tasks toString() lists; the "executor state" dump stays readable at 400. */
const SHOWN_TASKS = 10;

export class TaskQueue<T> {
  private buffer: (T | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;

  constructor(readonly name: string, readonly maxTasks: number) {}

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.maxTasks;
  }

  push(item: T): void {
    if (this.full) throw new ResourceExhausted(this.name, this.maxTasks);
    if (this.count === this.buffer.length) this.grow();
    this.buffer[(this.head + this.count) % this.buffer.length] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buffer[this.head];
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) % this.buffer.length;
    this.count--;
    return item;
  }

  /** Takes `item` out wherever it waits; false when it is not queued. */
  remove(item: T): boolean {
    const size = this.buffer.length;
    let i = 0;
    while (i < this.count && this.buffer[(this.head + i) % size] !== item) i++;
    if (i === this.count) return false;
    for (; i < this.count - 1; i++) this.buffer[(this.head + i) % size] = this.buffer[(this.head + i + 1) % size];
    this.buffer[(this.head + this.count - 1) % size] = undefined;
    this.count--;
    return true;
  }

  /** Empties the queue and returns what it held, oldest first. */
  drain(): T[] {
    const items: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) items.push(item);
    return items;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.count; i++) yield this.buffer[(this.head + i) % this.buffer.length] as T;
  }

  toString(): string {
    const shown = [...this].slice(0, SHOWN_TASKS).map(String);
    if (this.count > SHOWN_TASKS) shown.push(`... ${this.count - SHOWN_TASKS} more`);
    const tasks = shown.join(', ');
    return `<TaskQueue ${this.name} max_tasks=${this.maxTasks} tasks(${this.count})=[${tasks}]>`;
  }

  private grow(): void {
    const bigger: (T | undefined)[] = new Array(this.buffer.length * 2);
    for (let i = 0; i < this.count; i++) bigger[i] = this.buffer[(this.head + i) % this.buffer.length];
    this.buffer = bigger;
    this.head = 0;
  }
}
