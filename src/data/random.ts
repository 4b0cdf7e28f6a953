/**
 * Seeded randomness for everything that must be reproducible: training,
 * splits, synthetic corpora. One PRNG for the project.
 */

/** Small, fast, seeded PRNG (mulberry32): training must be reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * Stratified split: `heldOut` of each label's rows (at least one when a label
 * has two or more rows) go to the second part. Seeded; row order is kept
 * within each part.
 */
export function stratifiedSplit<T extends { label: string }>(rows: readonly T[], heldOut: number, seed: number): [T[], T[]] {
  const byLabel = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const l = byLabel.get(r.label);
    if (l) l.push(i);
    else byLabel.set(r.label, [i]);
  });
  const rand = mulberry32(seed);
  const held = new Set<number>();
  for (const label of [...byLabel.keys()].sort()) {
    const idx = shuffleInPlace([...byLabel.get(label)!], rand);
    let k = Math.round(idx.length * heldOut);
    if (k === 0 && idx.length >= 2 && heldOut > 0) k = 1;
    for (let i = 0; i < k; i++) held.add(idx[i]);
  }
  const a: T[] = [];
  const b: T[] = [];
  rows.forEach((r, i) => (held.has(i) ? b : a).push(r));
  return [a, b];
}
