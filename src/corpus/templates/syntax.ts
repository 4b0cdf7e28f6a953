/**
 * The hassil sentence-template syntax (Home Assistant intents, and households' `custom_sentences/*.yaml`):
 *   `(a|b)` alternatives, `[x]` / `[a|b]` optional, `(a;b)` permutation (any order, space-joined),
 *   `<rule>` expansion rules, `{list}` or `{list:slot}` slot lists, `\` escapes the next character.
 * Parsed once into a small tree; `sample.ts` walks it with a seeded PRNG.
 */

export type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  /** `(a|b)`, or `[a|b]` with `optional` (the empty choice added). */
  | { readonly kind: 'alt'; readonly options: readonly Node[]; readonly optional: boolean }
  /** `(a;b;c)`: every order of the parts, joined by spaces. */
  | { readonly kind: 'perm'; readonly parts: readonly Node[] }
  | { readonly kind: 'rule'; readonly name: string }
  /** `{list}` fills slot `list`; `{list:slot}` fills slot `slot` from list `list`. */
  | { readonly kind: 'list'; readonly list: string; readonly slot: string };

export class TemplateSyntaxError extends Error {
  constructor(template: string, at: number, what: string) {
    super(`template "${template}" at character ${at}: ${what}`);
    this.name = 'TemplateSyntaxError';
  }
}

/** Deeper nesting is no sentence anyone writes; past it a hostile template would overflow the stack here and in every walk of the tree. */
const MAX_DEPTH = 100;

/** Parses one template string. Throws TemplateSyntaxError naming the template and the position. */
export function parseTemplate(template: string): Node {
  let i = 0;
  let depth = 0;

  // Parses until one of `stops` (not consumed) or the end; returns the alternatives split on `|` and `;`.
  function parseGroup(close: string | null): { options: Node[]; sep: '|' | ';' | null } {
    const options: Node[] = [];
    let items: Node[] = [];
    let text = '';
    let sep: '|' | ';' | null = null;
    const flush = (): void => {
      if (text) items.push({ kind: 'text', text });
      text = '';
    };
    const endOption = (): void => {
      flush();
      options.push(items.length === 1 ? items[0] : { kind: 'seq', items });
      items = [];
    };
    while (i < template.length) {
      const c = template[i];
      if (c === '\\' && i + 1 < template.length) {
        text += template[i + 1];
        i += 2;
        continue;
      }
      if (close !== null && c === close) {
        endOption();
        return { options, sep };
      }
      if (c === ')' || c === ']') throw new TemplateSyntaxError(template, i, `unexpected "${c}"`);
      if ((c === '|' || c === ';') && close !== null) {
        if (sep !== null && sep !== c) throw new TemplateSyntaxError(template, i, 'a group mixes "|" and ";"');
        sep = c;
        endOption();
        i++;
        continue;
      }
      if (c === '(' || c === '[') {
        flush();
        const start = i;
        if (++depth > MAX_DEPTH) throw new TemplateSyntaxError(template, i, `groups nested deeper than ${MAX_DEPTH} levels`);
        i++;
        const inner = parseGroup(c === '(' ? ')' : ']');
        depth--;
        if (i >= template.length) throw new TemplateSyntaxError(template, start, `"${c}" is never closed`);
        i++; // the closing bracket
        if (inner.sep === ';') {
          if (c === '[') throw new TemplateSyntaxError(template, start, 'a permutation must use (…;…)');
          items.push({ kind: 'perm', parts: inner.options });
        } else {
          items.push({ kind: 'alt', options: inner.options, optional: c === '[' });
        }
        continue;
      }
      if (c === '<' || c === '{') {
        const closing = c === '<' ? '>' : '}';
        const end = template.indexOf(closing, i + 1);
        if (end < 0) throw new TemplateSyntaxError(template, i, `"${c}" is never closed`);
        const name = template.slice(i + 1, end).trim();
        if (!name) throw new TemplateSyntaxError(template, i, `empty ${c}${closing}`);
        flush();
        if (c === '<') items.push({ kind: 'rule', name });
        else {
          const [list, slot] = name.split(':').map((s) => s.trim());
          items.push({ kind: 'list', list, slot: slot || list });
        }
        i = end + 1;
        continue;
      }
      if (c === '|' || c === ';') {
        // Top level: hassil allows `a|b` without brackets as alternatives of the whole sentence.
        if (sep !== null && sep !== c) throw new TemplateSyntaxError(template, i, 'a group mixes "|" and ";"');
        sep = c;
        endOption();
        i++;
        continue;
      }
      text += c;
      i++;
    }
    if (close !== null) return { options, sep }; // caller reports the missing bracket
    endOption();
    return { options, sep };
  }

  const top = parseGroup(null);
  if (top.options.length === 1) return top.options[0];
  if (top.sep === ';') return { kind: 'perm', parts: top.options };
  return { kind: 'alt', options: top.options, optional: false };
}

/** Names of the rules and lists a tree refers to (for checking a grammar before sampling). */
export function references(node: Node, out = { rules: new Set<string>(), lists: new Set<string>() }): typeof out {
  switch (node.kind) {
    case 'rule':
      out.rules.add(node.name);
      break;
    case 'list':
      out.lists.add(node.list);
      break;
    case 'seq':
      for (const n of node.items) references(n, out);
      break;
    case 'alt':
      for (const n of node.options) references(n, out);
      break;
    case 'perm':
      for (const n of node.parts) references(n, out);
      break;
    default:
      break;
  }
  return out;
}
