// Loading a value for a view: the answer of an async read, re-read when its keys change; an older
// read that answers late never overwrites a newer one.

import { useEffect, useState } from 'preact/hooks';

export type Loaded<T> =
  | { readonly state: 'loading'; readonly value: T | null }
  | { readonly state: 'ready'; readonly value: T }
  | { readonly state: 'failed'; readonly error: string; readonly value: T | null };

export function useLoad<T>(read: () => Promise<T>, keys: readonly unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading', value: null });
  useEffect(() => {
    let current = true;
    setLoaded((l) => ({ state: 'loading', value: l.value }));
    read().then(
      (value) => {
        if (current) setLoaded({ state: 'ready', value });
      },
      (err: unknown) => {
        if (current)
          setLoaded((l) => ({
            state: 'failed',
            error: err instanceof Error ? err.message : String(err),
            value: l.value,
          }));
      },
    );
    return () => {
      current = false;
    };
    // The keys are the dependencies: the read itself is a new closure on every render.
  }, keys);
  return loaded;
}
