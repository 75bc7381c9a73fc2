/** A tiny typed event emitter: the engine's only way of telling the outside world. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly handlers = new Map<keyof Events, Set<(value: never) => void>>();

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, handler: (value: Events[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as (value: never) => void);
    return () => set.delete(handler as (value: never) => void);
  }

  /** Calls every handler of `event`; a throwing handler does not stop the others. */
  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as (value: Events[K]) => void)(value);
      } catch (err) {
        console.error(`parley: ${String(event)} handler failed`, err);
      }
    }
  }

  /** Drops every handler. */
  clear(): void {
    this.handlers.clear();
  }
}
