// A bounded map for the executor's row and find caches: it forgets its least recently used entries
// beyond its capacity, so a cache's memory has a limit whatever the chain holds.

/** A Map that forgets its least recently used entries beyond `capacity`. */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(id: string): V | undefined {
    const v = this.map.get(id);
    if (v !== undefined) {
      this.map.delete(id);
      this.map.set(id, v);
    }
    return v;
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  /** The value without making it the most recently used. */
  peek(id: string): V | undefined {
    return this.map.get(id);
  }

  set(id: string, v: V): void {
    this.map.delete(id);
    this.map.set(id, v);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
    }
  }
}
