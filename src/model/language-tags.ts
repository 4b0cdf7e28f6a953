/**
 * Language tags: the languages hubnlu ships models for and their normal form. No model code: the agent's main thread
 * imports this without loading onnxruntime (models.thread worker).
 */

/** The languages hubnlu ships (or can ship) models for, in label order of the langid model. */
export const LANGUAGES = ['en', 'de', 'fr', 'es', 'zh-cn'] as const;

const SIMPLIFIED = new Set(['zh', 'zh-cn', 'zh-hans', 'zh-sg', 'zh-hans-cn', 'zh-my', 'cmn', 'cmn-hans']);
const TRADITIONAL = new Set(['zh-tw', 'zh-hk', 'zh-mo', 'zh-hant', 'zh-hant-tw', 'zh-hant-hk', 'cmn-hant']);

/**
 * `de-DE` → `de`, `zh`/`zh-CN` → `zh-cn`, `EN_us` → `en`. Returns null for
 * something that is not a language tag (empty, digits, spaces).
 */
export function normalizeLang(code: string): string | null {
  const c = code.trim().toLowerCase().replace(/_/g, '-');
  if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(c)) return null;
  if (SIMPLIFIED.has(c)) return 'zh-cn';
  if (TRADITIONAL.has(c)) return 'zh-tw';
  if (c.startsWith('zh-')) return c.includes('hant') ? 'zh-tw' : 'zh-cn';
  return c.split('-')[0];
}
