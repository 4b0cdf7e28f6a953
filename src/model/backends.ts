/**
 * The registered backends, and the choice of one for a model directory.
 * Adding a runtime is one new file implementing `Backend` plus one entry here.
 */
import { existsSync } from 'node:fs';
import type { Backend, BackendSettings, TaskModel } from './backend.js';
import { fastTextBackend } from './fasttext-backend.js';
import { transformersBackend } from './transformers-backend.js';
import type { TaskName } from './types.js';

export const BACKENDS: readonly Backend[] = [fastTextBackend, transformersBackend];

/**
 * The backend named `name`, or the first that recognises `dir` when no name
 * is given. A path no backend recognises that does not exist goes to the
 * default backend, whose error names the missing path and the setting.
 */
export function backendFor(dir: string, name?: string): Backend {
  if (name !== undefined) {
    const named = BACKENDS.find((b) => b.name === name);
    if (!named) throw new Error(`unknown model backend "${name}"; use one of ${BACKENDS.map((b) => b.name).join(', ')}`);
    return named;
  }
  const found = BACKENDS.find((b) => b.recognizes(dir));
  if (!found && !existsSync(dir)) return BACKENDS[0];
  if (!found) {
    throw new Error(`${dir}: not a model directory hubnlu can load; expected ${BACKENDS.map((b) => `${b.expects} (${b.name})`).join(', or ')}`);
  }
  return found;
}

/** Loads the model in `dir` for `task` with the backend that serves it. */
export function loadTaskModel(task: TaskName, dir: string, backend?: string, settings?: BackendSettings): Promise<TaskModel> {
  return backendFor(dir, backend).load(task, dir, settings);
}
