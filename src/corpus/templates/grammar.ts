/**
 * Loads hassil sentence files (Home Assistant's `sentences/<lang>/*.yaml` with `_common.yaml`, or a household's
 * `custom_sentences/<lang>/*.yaml`) into one Grammar: lists, expansion rules, skip words and the templates of
 * each intent with their context. Templates are parsed here, once; errors name the file and the template.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseTemplate, references, type Node } from './syntax.js';

export type ListDef =
  | { readonly kind: 'values'; readonly values: readonly { readonly in: Node; readonly out?: string | number }[] }
  | { readonly kind: 'range'; readonly from: number; readonly to: number; readonly step: number; readonly type?: string }
  | { readonly kind: 'wildcard' };

export interface TemplateSentence {
  /** Stable id: `<file>#<intent>/<data index>/<sentence index>` (used to hold out whole templates). */
  readonly id: string;
  readonly template: string;
  readonly node: Node;
}

export interface TemplateGroup {
  readonly intent: string;
  readonly file: string;
  readonly sentences: readonly TemplateSentence[];
  /** `requires_context` (e.g. `{ domain: 'light' }` or `{ domain: ['cover'] }`). */
  readonly requires: Readonly<Record<string, unknown>>;
  readonly excludes: Readonly<Record<string, unknown>>;
  /** Fixed `slots:` of the data block (e.g. `{ domain: 'light' }`). */
  readonly fixedSlots: Readonly<Record<string, unknown>>;
  /** Expansion rules and lists local to the data block (they shadow the common ones). */
  readonly rules: ReadonlyMap<string, Node>;
  readonly lists: ReadonlyMap<string, ListDef>;
}

export interface Grammar {
  readonly language: string;
  readonly rules: ReadonlyMap<string, Node>;
  readonly lists: ReadonlyMap<string, ListDef>;
  readonly skipWords: readonly string[];
  readonly groups: readonly TemplateGroup[];
}

export interface YamlDoc {
  readonly file: string;
  readonly text: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseOrThrow(file: string, template: string): Node {
  try {
    return parseTemplate(template);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

function parseList(file: string, name: string, def: unknown): ListDef {
  if (!isObj(def)) throw new Error(`${file}: list "${name}" must be a mapping with values, range or wildcard`);
  if (def.wildcard === true) return { kind: 'wildcard' };
  if (isObj(def.range)) {
    const r = def.range;
    const from = Number(r.from);
    const to = Number(r.to);
    if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) throw new Error(`${file}: list "${name}" has a range without numeric from ≤ to`);
    const step = Number(r.step ?? 1);
    if (!Number.isFinite(step) || step <= 0) throw new Error(`${file}: list "${name}" has a range step that is not a positive number (${JSON.stringify(r.step)}); leave it out for 1`);
    return { kind: 'range', from, to, step, type: typeof r.type === 'string' ? r.type : undefined };
  }
  if (Array.isArray(def.values)) {
    if (def.values.length === 0) throw new Error(`${file}: list "${name}" has no values; list at least one, or remove the list and the templates that use it`);
    const values = def.values.map((v) => {
      if (typeof v === 'string' || typeof v === 'number') return { in: parseOrThrow(file, String(v)) };
      if (isObj(v) && (typeof v.in === 'string' || typeof v.in === 'number')) {
        const out = typeof v.out === 'number' || typeof v.out === 'string' ? v.out : undefined;
        return { in: parseOrThrow(file, String(v.in)), out };
      }
      throw new Error(`${file}: list "${name}" has a value that is neither text nor {in, out}`);
    });
    return { kind: 'values', values };
  }
  throw new Error(`${file}: list "${name}" needs values, range or wildcard: true`);
}

function parseRules(file: string, rules: unknown): Map<string, Node> {
  const out = new Map<string, Node>();
  if (isObj(rules)) {
    for (const [k, v] of Object.entries(rules)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${file}: expansion rule "${k}" must be a template string (got ${v === null ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v}); write alternatives as "(a|b)"`);
      out.set(k, parseOrThrow(file, String(v)));
    }
  }
  return out;
}

function parseLists(file: string, lists: unknown): Map<string, ListDef> {
  const out = new Map<string, ListDef>();
  if (isObj(lists)) for (const [k, v] of Object.entries(lists)) out.set(k, parseList(file, k, v));
  return out;
}

/** Builds a grammar from YAML documents (common files and intent files, in any order). */
export function parseGrammar(docs: readonly YamlDoc[]): Grammar {
  let language = '';
  const rules = new Map<string, Node>();
  const lists = new Map<string, ListDef>();
  const skipWords: string[] = [];
  const groups: TemplateGroup[] = [];
  /** The directory each group's file is in (errors found after every file is read name it, as the file's own do). */
  const dirOf = new Map<TemplateGroup, string>();
  for (const doc of docs) {
    let y: unknown;
    try {
      y = parseYaml(doc.text);
    } catch (err) {
      // The yaml package's message: its first line says what and where (line, column); an excerpt follows.
      throw new Error(`${doc.file}: not valid YAML (${(err as Error).message.split('\n')[0].replace(/:$/, '')})`);
    }
    if (!isObj(y)) throw new Error(`${doc.file}: not a YAML mapping`);
    if (typeof y.language === 'string' && !language) language = y.language;
    for (const [k, v] of parseRules(doc.file, y.expansion_rules)) rules.set(k, v);
    for (const [k, v] of parseLists(doc.file, y.lists)) lists.set(k, v);
    if (Array.isArray(y.skip_words)) skipWords.push(...y.skip_words.map(String));
    if (!isObj(y.intents)) continue;
    for (const [intent, body] of Object.entries(y.intents)) {
      if (!isObj(body) || !Array.isArray(body.data)) throw new Error(`${doc.file}: intent ${intent} needs a data: list`);
      body.data.forEach((block: unknown, d: number) => {
        if (!isObj(block) || !Array.isArray(block.sentences)) throw new Error(`${doc.file}: ${intent} data[${d}] needs sentences:`);
        const group: TemplateGroup = {
          intent,
          file: basename(doc.file),
          sentences: block.sentences.map((s: unknown, j: number) => {
            if (typeof s !== 'string' && typeof s !== 'number') {
              throw new Error(`${doc.file}: ${intent} data[${d}] sentences[${j}] must be a template string (got ${s === null ? 'nothing' : Array.isArray(s) ? 'a list' : typeof s})`);
            }
            return { id: `${basename(doc.file)}#${intent}/${d}/${j}`, template: String(s), node: parseOrThrow(doc.file, String(s)) };
          }),
          requires: isObj(block.requires_context) ? block.requires_context : {},
          excludes: isObj(block.excludes_context) ? block.excludes_context : {},
          fixedSlots: isObj(block.slots) ? block.slots : {},
          rules: parseRules(doc.file, block.expansion_rules),
          lists: parseLists(doc.file, block.lists),
        };
        groups.push(group);
        dirOf.set(group, dirname(doc.file));
      });
    }
  }
  const grammar = { language, rules, lists, skipWords, groups };
  for (const group of groups) {
    try {
      checkReferences(grammar, group);
    } catch (err) {
      const dir = dirOf.get(group) ?? '.';
      throw dir === '.' ? err : new Error(`${dir}: ${(err as Error).message}`);
    }
  }
  return grammar;
}

/** Lists a household fills when the grammar does not define them (sample.ts). */
const HOUSEHOLD_LISTS: ReadonlySet<string> = new Set(['area', 'floor', 'name']);

/**
 * Every rule and list a group's templates can reach exists, and none reaches itself: checked here, at load, for every
 * branch (a draw may take only some), so a mistake names its template instead of failing a later expansion, and a
 * cycle (`a: "x <a>"`) is a message naming it, not a stack overflow. hassil rules cannot recurse either.
 */
function checkReferences(grammar: Grammar, group: TemplateGroup): void {
  const done = new Set<string>();
  const walk = (node: Node, path: readonly string[], where: string): void => {
    const refs = references(node);
    for (const name of refs.rules) {
      const rule = group.rules.get(name) ?? grammar.rules.get(name);
      if (!rule) throw new Error(`${where}: unknown expansion rule <${name}>${via(path)}; define it under expansion_rules`);
      enter(`<${name}>`, rule, path, where);
    }
    for (const name of refs.lists) {
      const def = group.lists.get(name) ?? grammar.lists.get(name);
      if (!def) {
        if (HOUSEHOLD_LISTS.has(name)) continue;
        throw new Error(`${where}: unknown list {${name}}${via(path)}; define it under lists`);
      }
      if (def.kind === 'values') enter(`{${name}}`, { kind: 'alt', options: def.values.map((v) => v.in), optional: false }, path, where);
    }
  };
  const enter = (key: string, node: Node, path: readonly string[], where: string): void => {
    const at = path.indexOf(key);
    if (at >= 0) throw new Error(`${where}: ${[...path.slice(at), key].join(' → ')} refers back to itself; a template must expand to a finite sentence, so break the cycle`);
    if (done.has(key)) return;
    walk(node, [...path, key], where);
    done.add(key);
  };
  for (const sentence of group.sentences) walk(sentence.node, [], sentence.id);
}

const via = (path: readonly string[]): string => (path.length > 0 ? ` (used by ${path.join(' → ')})` : '');

/** Reads every `*.yaml` in a directory (`_common.yaml` first) into one grammar. */
export function loadGrammar(dir: string): Grammar {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort((a, b) => (a.startsWith('_') === b.startsWith('_') ? a.localeCompare(b) : a.startsWith('_') ? -1 : 1));
  return parseGrammar(files.map((f) => ({ file: join(dir, f), text: readFileSync(join(dir, f), 'utf8') })));
}
