/** Builds real hubnlu databases for the query and CLI tests, through the same LogStore the agent writes with. */
import { openDatabase } from '../../src/store/database.js';
import { LogStore, type NewInput } from '../../src/store/log-store.js';

export interface SeedRow {
  readonly receivedAt: number;
  readonly site: string;
  readonly status: 'done' | 'rejected' | 'error' | 'pending';
  readonly text?: string;
  readonly id?: string;
  readonly intent?: string;
  readonly confidence?: number;
  readonly sentiment?: 'negative' | 'neutral' | 'positive';
  readonly latencyMs?: number;
  readonly code?: string;
  readonly intentModel?: string;
  readonly sentimentModel?: string;
}

let counter = 0;

function newInput(r: SeedRow): NewInput {
  counter++;
  return {
    id: r.id ?? `seed-${counter}`,
    idSource: r.id ? 'payload' : 'assigned',
    deliveryKey: `key-${counter}`,
    receivedAt: r.receivedAt,
    topic: `hubnlu/${r.site}/utterance`,
    siteId: r.site,
    text: r.status === 'rejected' ? undefined : (r.text ?? `utterance ${counter}`),
    tasks: ['intent', 'sentiment'],
    resultTopic: `hubnlu/${r.site}/result`,
    request: { meta: { n: counter } },
    payloadExcerpt: r.status === 'rejected' ? (r.text ?? 'bad payload') : undefined,
  };
}

/** Writes `rows` into the database at `path` (created if absent) and closes it. */
export function seedDatabase(path: string, rows: readonly SeedRow[]): void {
  const db = openDatabase(path);
  try {
    const store = new LogStore(db);
    for (const r of rows) {
      const input = newInput(r);
      if (r.status === 'rejected') {
        const code = r.code ?? 'invalid_json';
        store.recordRejection(input, { code, message: `rejected: ${code}` }, [{ topic: `hubnlu/${r.site}/error`, payload: JSON.stringify({ code }) }]);
        continue;
      }
      const { seq } = store.recordInput(input);
      if (r.status === 'pending') continue;
      const scores = { negative: 0.1, neutral: 0.1, positive: 0.1, [r.sentiment ?? 'neutral']: 0.8 };
      store.completeMany([
        {
          seq,
          status: r.status,
          completedAt: r.receivedAt + Math.round(r.latencyMs ?? 0),
          intent: r.status === 'done' ? r.intent : undefined,
          confidence: r.status === 'done' ? r.confidence : undefined,
          alternatives: r.status === 'done' && r.intent ? [{ name: r.intent, confidence: r.confidence ?? 1 }] : undefined,
          slots: r.status === 'done' ? [] : undefined,
          sentiment: r.status === 'done' ? r.sentiment : undefined,
          sentimentScore: r.status === 'done' && r.sentiment ? 0.8 : undefined,
          sentimentScores: r.status === 'done' && r.sentiment ? scores : undefined,
          intentModel: r.status === 'done' ? r.intentModel : undefined,
          sentimentModel: r.status === 'done' ? r.sentimentModel : undefined,
          latencyMs: r.latencyMs ?? 0,
          error: r.status === 'error' ? { code: r.code ?? 'model_error', message: 'the model failed' } : undefined,
          messages: [{ topic: `hubnlu/${r.site}/result`, payload: '{}' }],
        },
      ]);
    }
  } finally {
    db.close();
  }
}
