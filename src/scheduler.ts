// The Monitor's only timers. Everything they drive takes `now` as an argument, so tests
// call the same functions with a stepped clock instead of waiting.
export interface Task {
  name: string;
  everyMs: number;
  /** A promise it returns is awaited for its failure only. */
  run: (now: number) => unknown;
}

export function startTasks(
  tasks: readonly Task[],
  clock: () => number,
  onError: (task: string, err: unknown) => void,
): () => void {
  const timers = tasks.map((task) => {
    const t = setInterval(() => {
      try {
        const r = task.run(clock());
        if (r instanceof Promise) r.catch((err: unknown) => onError(task.name, err));
      } catch (err) {
        onError(task.name, err);
      }
    }, task.everyMs);
    t.unref(); // the server's socket keeps the process alive, not the Monitor
    return t;
  });
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
