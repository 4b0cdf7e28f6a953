/**
 * The config validator (Ajv, from the schema in schema.ts, the single source of truth).
 *
 * Compiling the schema takes Ajv about 140 ms of CPU, a sixth of `hubnlu run`'s start (issue 10), so
 * `npm run build` also writes the compiled validator as code (Ajv's standalone output, same options) next to
 * this module, stamped with a hash of the schema it was made from. At load, that file is used when its stamp
 * matches the schema; when it is missing or stale (a build by `tsc` alone), the schema is compiled here as before.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ValidateFunction } from 'ajv';
import { ConfigSchema, type Config } from './schema.js';

const OPTIONS = { allErrors: true, useDefaults: true, strict: false } as const;
const GENERATED = './config-validator.generated.cjs';

function newAjv(options: Record<string, unknown>, require: NodeJS.Require = createRequire(import.meta.url)): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  return new AjvClass(options);
}

function schemaHash(): string {
  return createHash('sha256').update(JSON.stringify(ConfigSchema)).digest('hex');
}

/**
 * The validator: the generated one when it is fresh, else compiled from the schema. `require` loads it (and Ajv's
 * runtime helpers, or Ajv itself); loadConfig passes one whose modules are dropped after use (src/util/heap.ts), as the
 * running agent validates once: the generated code is 370 kB of source text the agent would otherwise hold.
 */
export function configValidator(require: NodeJS.Require = createRequire(import.meta.url)): ValidateFunction<Config> {
  const hash = schemaHash();
  try {
    const generated = require(fileURLToPath(new URL(GENERATED, import.meta.url))) as ValidateFunction<Config> & { schemaHash?: string };
    if (generated.schemaHash === hash) return generated;
  } catch {
    // not generated: compile below
  }
  // Ajv itself (~60 ms to load) only when the generated validator is missing or stale.
  return newAjv(OPTIONS, require).compile<Config>(ConfigSchema);
}

/** Writes the standalone validator beside this module (`npm run build` runs this file). */
export function writeConfigValidator(): string {
  // Build time only: not loaded by the agent.
  const standaloneCode = (createRequire(import.meta.url)('ajv/dist/standalone') as { default: (ajv: Ajv, v: ValidateFunction) => string }).default;
  const ajv = newAjv({ ...OPTIONS, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(ConfigSchema));
  const file = fileURLToPath(new URL(GENERATED, import.meta.url));
  writeFileSync(file, `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash())};\n`);
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--write') console.log(`wrote ${writeConfigValidator()}`);
