/**
 * Reproducible randomness for the `uniform` delay model. Two small, well-known generators:
 * FNV-1a (32-bit) hashes a key string into a seed, and mulberry32 (Tommy Ettinger's) turns that seed
 * into a draw. Keying every draw by (model seed, object, instant) rather than taking the next number
 * from one shared stream makes each change's delay independent of how many came before it, so a
 * replay, a counterfactual or a retried pass gets the same delay for the same change.
 */
export const fnv1a32 = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

/** mulberry32: a 32-bit state generator; returns numbers in [0, 1). */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** One draw in [0, 1) for a key: the first output of mulberry32 seeded with the key's FNV-1a hash. */
export const drawFor = (key: string): number => mulberry32(fnv1a32(key))();

/** A whole number of milliseconds, uniform over [min, max] (both included). */
export const uniformInteger = (draw: number, min: number, max: number): number =>
  min + Math.floor(draw * (max - min + 1));
