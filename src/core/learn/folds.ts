/** Small, fast, seedable PRNG (mulberry32), so folds and splits repeat for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Assigns each row a fold in 0..k-1, stratified by outcome so each fold keeps the win rate.
 * Rows outside `rows` get fold -1.
 */
export function stratifiedFolds(
  y: Uint8Array,
  k: number,
  seed: number,
  rows: Uint8Array | null = null,
): Int32Array {
  const rand = seededRandom(seed);
  const fold = new Int32Array(y.length).fill(-1);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === cls && (!rows || rows[i] === 1)) idx.push(i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    idx.forEach((row, pos) => {
      fold[row] = pos % k;
    });
  }
  return fold;
}
