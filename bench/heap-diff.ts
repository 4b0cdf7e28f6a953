/**
 * Compares two V8 heap snapshots (.heapsnapshot, e.g. the two `npm run bench:soak -- --snapshots` writes): objects
 * counted and their self sizes summed by node type and constructor name, the groups that grew most first.
 *
 *   node dist/bench/heap-diff.js A.heapsnapshot B.heapsnapshot [--top 25]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function groups(path: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]];
    // Strings and numbers by type only (their names are their contents); objects by constructor.
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${s.strings[s.nodes[i + iName]]}` : type;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.nodes[i + iSize];
    out.set(key, g);
  }
  return out;
}

const [a, b] = process.argv.slice(2).filter((x) => x.endsWith('.heapsnapshot'));
if (!a || !b) throw new Error('usage: heap-diff A.heapsnapshot B.heapsnapshot [--top 25]');
const top = process.argv.includes('--top') ? Number(process.argv[process.argv.indexOf('--top') + 1]) : 25;
const ga = groups(a);
const gb = groups(b);
const keys = new Set([...ga.keys(), ...gb.keys()]);
const rows = [...keys].map((k) => {
  const x = ga.get(k) ?? { count: 0, bytes: 0 };
  const y = gb.get(k) ?? { count: 0, bytes: 0 };
  return { group: k, countA: x.count, countB: y.count, dCount: y.count - x.count, dKB: +((y.bytes - x.bytes) / 1024).toFixed(1) };
});
rows.sort((p, q) => q.dKB - p.dKB);
const total = (g: Map<string, { bytes: number }>) => [...g.values()].reduce((s, v) => s + v.bytes, 0) / 2 ** 20;
console.log(`self sizes: ${total(ga).toFixed(2)} MB → ${total(gb).toFixed(2)} MB`);
console.table(rows.slice(0, top));
