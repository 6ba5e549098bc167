type Task = () => Promise<void>;

interface Waiter {
  below: number;
  resolve: () => void;
}

/**
 * Runs async tasks with a concurrency limit, except that tasks sharing a key run one at a time,
 * in submission order. Both bus adapters dispatch deliveries through it with key = the envelope
 * `subject`, which is what makes "per-subject order, concurrency across subjects" hold.
 *
 * Guarantees: at most `concurrency` tasks run at once; two tasks with the same key never overlap
 * and start in the order they were submitted; keys that are ready take turns (FIFO), so a busy
 * key cannot starve the others. A task that throws (or rejects) rejects only its own `run()`
 * promise: the queue goes on with the next task.
 */
export class KeyedQueue {
  #concurrency: number;
  #running = 0;
  #size = 0;
  /** Tasks not finished yet, per key; the head of a lane is the one running or next to run. */
  readonly #lanes = new Map<string, Task[]>();
  /** Keys whose head task may start (their lane is not running), oldest first. */
  readonly #ready: string[] = [];
  #waiters: Waiter[] = [];

  constructor(concurrency: number) {
    this.#concurrency = checkConcurrency(concurrency);
  }

  /** Tasks submitted and not finished (running or waiting). */
  get size(): number {
    return this.#size;
  }

  /** Tasks running right now. */
  get running(): number {
    return this.#running;
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  /** Changes the limit; running tasks are not interrupted, more start at once if it grew. */
  set concurrency(value: number) {
    this.#concurrency = checkConcurrency(value);
    this.#pump();
  }

  /**
   * Queues `task` behind the earlier tasks of `key`. The task is enqueued synchronously, so the
   * order of `run()` calls is the order of execution per key. Settles with the task's outcome.
   */
  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wrapped: Task = async () => {
        try {
          resolve(await task());
        } catch (error) {
          reject(error);
        }
      };
      this.#size++;
      const lane = this.#lanes.get(key);
      if (lane) {
        lane.push(wrapped);
      } else {
        this.#lanes.set(key, [wrapped]);
        this.#ready.push(key);
      }
      this.#pump();
    });
  }

  /** Resolves once fewer than `limit` tasks are submitted and unfinished (backpressure). */
  whenBelow(limit: number): Promise<void> {
    if (this.#size < limit) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ below: limit, resolve }));
  }

  /** Resolves once every submitted task has finished (including tasks submitted meanwhile). */
  drain(): Promise<void> {
    return this.whenBelow(1);
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      const task = this.#lanes.get(key)?.[0];
      if (!task) continue;
      this.#running++;
      void task().finally(() => this.#finish(key));
    }
  }

  #finish(key: string): void {
    this.#running--;
    this.#size--;
    const lane = this.#lanes.get(key);
    lane?.shift();
    if (lane && lane.length > 0) {
      this.#ready.push(key);
    } else {
      this.#lanes.delete(key);
    }
    this.#pump();
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#size < waiter.below) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }
}

function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`KeyedQueue concurrency must be a positive integer, got ${value}`);
  }
  return value;
}
