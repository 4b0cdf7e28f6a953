/**
 * foldText's ASCII fast path (issue 10) gives what NFKC + lower case + quote folding gives, for every ASCII
 * character (the backtick included) and for text that leaves ASCII.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldText, tokenize } from '../../src/model/text.js';

const reference = (text: string): string => text.normalize('NFKC').toLowerCase().replace(/[’‘`´]/g, "'");

test('foldText equals NFKC + lower case + quote folding on ASCII and beyond', () => {
  let ascii = '';
  for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c);
  const samples = [ascii, '', 'Turn OFF the Lights', "don`t", 'it’s', 'ﬁ ①', 'Straße', 'ÅNGSTRÖM', '客厅', 'Ｔｕｒｎ', 'x´y', 'İ', 'ΣΑΣ'];
  for (let c = 0; c < 0x80; c++) samples.push(String.fromCharCode(c), `a${String.fromCharCode(c)}Z`);
  for (const s of samples) assert.equal(foldText(s), reference(s), JSON.stringify(s));
});

test('tokenize looks for Han characters only from U+2E80 (none comes before it), and Chinese numerals are single characters', () => {
  for (let c = 0; c < 0x2e80; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    assert.equal(/\p{Script=Han}/u.test(String.fromCodePoint(c)), false, `U+${c.toString(16)}`);
  }
  assert.deepEqual(tokenize('关灯 𠀀 二十一度 ok1 2x').map((t) => t.norm), ['关', '灯', '𠀀', '21', '度', 'ok1', '2', 'x']);
});
