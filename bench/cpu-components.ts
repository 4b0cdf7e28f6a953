/**
 * The agent's CPU by component, as bench/e2e and bench/latency-trace split a V8 CPU profile: each sample goes to the
 * innermost frame whose script URL (or name, for V8's own entries) one of these patterns matches.
 */
export const CPU_COMPONENTS: ReadonlyArray<readonly [string, RegExp]> = [
  ['parse', /\/src\/transport\/(input-parser|json-scan)\.js|\/src\/agent\/(intake|response)\.js/],
  ['SQLite', /\/src\/store\/|better-sqlite3/],
  ['models', /\/src\/model\/|onnxruntime/],
  ['MQTT', /node_modules\/(mqtt|mqtt-packet|bl|readable-stream)\/|\/src\/transport\/mqtt-connection\.js|\/src\/agent\/outbox-publisher\.js|^node:(net|internal\/stream_base_commons|internal\/streams\/)/],
  ['results', /\/src\/extensions\/|\/src\/agent\/inference-worker\.js/],
  ['GC', /^\(garbage collector\)$/],
];
