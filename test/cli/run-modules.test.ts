/**
 * What `hubnlu run` loads and holds for its lifetime (issue 10: idle RSS ≤ 100 MB). The run command's import graph
 * and a configuration read from the environment must not bring in packages only other commands or the build need:
 * TypeBox (the schema is built by src/config/type.ts), the YAML parser (only when a config file is read), Ajv's
 * compiler (the build writes the validator), the embedded broker (aedes, LevelDB: loaded when it is started), the
 * transformers runtime, the trainers, and the browser timers MQTT.js requires (`worker-timers`, with `@babel/runtime`:
 * src/transport/mqtt-timers.ts gives MQTT.js Node's timers under that name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { fileUrl, modulesLoadedBy, packagesOf } from '../helpers/loaded-modules.js';

const dist = (p: string) => fileUrl(join(REPO_ROOT, 'dist', 'src', p));
const RUN = `
const { registerRun } = await import(${JSON.stringify(dist('cli/commands/run.js'))});
const { loadConfig } = await import(${JSON.stringify(dist('config/load.js'))});
if (typeof registerRun !== 'function') throw new Error('no registerRun');
const { config } = loadConfig();
if (config.mqtt.embedded.port !== Number(process.env.EXPECT_PORT ?? 1883)) throw new Error('settings not applied: ' + config.mqtt.embedded.port);`;

const NOT_AT_RUN = ['@sinclair/typebox', 'yaml', 'aedes', 'aedes-persistence-level', 'level', 'classic-level', '@huggingface/transformers', 'cli-progress',
  'worker-timers-broker', 'worker-timers-worker', 'broker-factory', 'fast-unique-numbers', '@babel/runtime'];

test('hubnlu run with a configuration from the environment loads none of the packages it does not need', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'hubnlu-run-modules-'));
  try {
    const modules = modulesLoadedBy(RUN, { HUBNLU_LOG_LEVEL: 'warn' }, cwd);
    const packages = packagesOf(modules);
    // The harness sees what it should: the run command's own packages. (onnxruntime-node is not among them: it is
    // imported where the models load, on the main thread or in the model thread, models.thread.)
    for (const expected of ['mqtt', 'better-sqlite3', 'pino']) assert.ok(packages.has(expected), `${expected} not seen: ${[...packages].join(', ')}`);
    for (const unwanted of NOT_AT_RUN) assert.ok(!packages.has(unwanted), `${unwanted} is loaded by hubnlu run`);
    // Ajv: not its compiler (the build wrote the validator); the generated validator and Ajv's runtime helpers it
    // requires are dropped after the configuration is checked.
    const ajv = modules.filter((m) => m.includes('/node_modules/ajv/') || m.endsWith('config-validator.generated.cjs'));
    assert.deepEqual(ajv, []);
    // Nothing of the trainers (but the ONNX protobuf writer the batched graphs use), evaluation, compression or reports.
    const own = modules.filter((m) => m.includes('/dist/src/') && !m.endsWith('/train/onnx-proto.js'));
    for (const dir of ['/train/', '/eval/', '/compress/', '/report/']) assert.deepEqual(own.filter((m) => m.includes(dir)), [], dir);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('a config file is still read (its settings apply), and neither the YAML parser nor the config validator is held after', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'hubnlu-run-modules-'));
  try {
    writeFileSync(join(cwd, 'hubnlu.yaml'), 'mqtt:\n  embedded:\n    port: 1999\n');
    const modules = modulesLoadedBy(RUN, { HUBNLU_CONFIG: join(cwd, 'hubnlu.yaml'), EXPECT_PORT: '1999' }, cwd);
    // The child checked mqtt.embedded.port == 1999, the file's value: the YAML was parsed. The require cache at the end
    // (what the harness reads for CommonJS) no longer has the parser, the generated validator or Ajv's helpers.
    assert.ok(!packagesOf(modules).has('yaml'), 'yaml still in the require cache');
    assert.ok(!packagesOf(modules).has('ajv'), 'ajv still in the require cache');
    assert.deepEqual(modules.filter((m) => m.endsWith('config-validator.generated.cjs')), []);
    assert.ok(!packagesOf(modules).has('@sinclair/typebox'));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
