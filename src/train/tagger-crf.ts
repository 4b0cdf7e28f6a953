/**
 * Linear-chain CRF over BIO tags (forward-backward in probability space with
 * per-step scaling), for training the slot tagger's transition scores jointly
 * with its per-token emission scores. The BIO structure keeps it cheap: O and
 * B-x may follow any tag, I-x only B-x or I-x, so a step costs about
 * (1 + types)·tags instead of tags² (tags = 1 + 2·types).
 *
 * Transition layout (`BioTransitions` in src/model/slot-tagger.ts): rows 0..tags-1
 * are from-tags, row `tags` the start scores, row `tags + 1` the end scores.
 */
import { BioCrf } from '../model/slot-tagger.js';

export { BioCrf };

/** Score of a given tag path (emissions + transitions), for the loss log Z − score. */
export function pathScore(scores: Float32Array, n: number, nTags: number, tags: Int32Array, trans: Float32Array): number {
  let s = trans[nTags * nTags + tags[0]] + trans[(nTags + 1) * nTags + tags[n - 1]];
  for (let t = 0; t < n; t++) {
    s += scores[t * nTags + tags[t]];
    if (t > 0) s += trans[tags[t - 1] * nTags + tags[t]];
  }
  return s;
}
