/**
 * Serialises work per key inside one process. Writers of the same stream then queue here instead
 * of colliding on the stream's version and retrying; collisions remain possible only across
 * processes, where the event store's version check catches them.
 */
export class StreamMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return current;
  }
}
