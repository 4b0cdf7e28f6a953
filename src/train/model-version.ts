/**
 * The version a model directory's manifest carries: the version it was asked
 * for (a semantic version such as `1.0.0` for the shipped models, `v0003` for
 * a household retrain) plus `-h.` and a short hash of what decides the
 * model's answers: the weight files and the manifest's behavioural sections
 * (labels, featurizer, architecture, calibration, the slot tagger's
 * settings). `1.0.0-h.3f9c0a1b2c`. Not semver's `+build` form: model refs
 * are joined with `+` where several answer together (the shadow log's
 * `intent@v+sentiment@v`, reports over mixed languages).
 *
 * Two models with different weights never share a version, so `hubnlu stats
 * --by-model`, the shadow log, bridge `info` and Home Assistant discovery tell
 * a household retrain from the shipped model (and one retrain from the next);
 * the same weights always get the same version, so `train-defaults` stays
 * reproducible. Timings and measured metrics are left out on purpose: they
 * change from run to run without changing an answer.
 *
 * Computed here only; `writeModelDir` (used by `hubnlu train`,
 * `train-defaults`, the language models, langid and household retraining)
 * stamps it. The ONNX graphs keep the requested version in their metadata
 * (they are hashed, so they cannot hold the hash).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Hex digits of SHA-256 kept in the version. */
export const VERSION_HASH_LENGTH = 10;

/** What of a manifest (besides the files) decides the answers; the rest is provenance and measurements. */
export interface VersionedManifestPart {
  readonly task: string;
  readonly language: string;
  readonly labels: readonly string[];
  readonly featurizer: unknown;
  readonly architecture: unknown;
  readonly calibration: unknown;
  readonly slots?: unknown;
}

/** Between the requested version and the content hash. */
export const VERSION_HASH_SEPARATOR = '-h.';

const HASHED = new RegExp(`${VERSION_HASH_SEPARATOR.replace('.', '\\.')}[0-9a-f]{${VERSION_HASH_LENGTH}}$`);

/** `1.0.0-h.abc…` → `1.0.0`: the requested part of a version (a version passed in twice is not hashed twice). */
export function baseVersion(version: string): string {
  return version.replace(HASHED, '');
}

/** The content hash (VERSION_HASH_LENGTH hex digits) of `files` in `dir` and the behavioural manifest sections. */
export function contentHash(dir: string, files: readonly string[], manifest: VersionedManifestPart): string {
  const h = createHash('sha256');
  const slots = manifest.slots && typeof manifest.slots === 'object' ? { ...(manifest.slots as Record<string, unknown>) } : undefined;
  if (slots) {
    // Training time and measurements, not settings.
    delete slots.training;
    delete slots.metrics;
  }
  const behaviour = {
    task: manifest.task,
    language: manifest.language,
    labels: manifest.labels,
    featurizer: manifest.featurizer,
    architecture: manifest.architecture,
    calibration: manifest.calibration,
    slots: slots ?? null,
  };
  h.update(`manifest\0${JSON.stringify(behaviour)}\0`);
  for (const f of [...new Set(files)].sort()) {
    const p = join(dir, f);
    if (!existsSync(p)) throw new Error(`${p}: missing; cannot compute the model version`);
    const bytes = readFileSync(p);
    h.update(`file\0${f}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex').slice(0, VERSION_HASH_LENGTH);
}

/** `<requested version>-h.<content hash>`: the version written to manifest.json. */
export function modelVersion(requested: string, dir: string, files: readonly string[], manifest: VersionedManifestPart): string {
  return `${baseVersion(requested)}${VERSION_HASH_SEPARATOR}${contentHash(dir, files, manifest)}`;
}
