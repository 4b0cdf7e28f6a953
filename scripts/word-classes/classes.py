#!/usr/bin/python3
"""Issue 13, word classes for the slot tagger, step 2: PPMI over directional +-2 word contexts (the 3,000 most
frequent words and the sentence boundaries as contexts, context counts smoothed ^0.75), truncated SVD to 100
dimensions, then spherical k-means at each granularity in KS (40 iterations, seeded). Words seen fewer than MINC
times get no class. Seeded, CPU, one thread (Debian python3-torch).
  MINC=10 KS=16,64,256,1024 /usr/bin/python3 scripts/word-classes/classes.py /tmp/wc/corpus.txt scripts/word-classes/en.tsv
Output: word TAB class TAB class ... (coarse first), most frequent word first."""
import sys, collections, numpy as np, torch
torch.set_num_threads(1); torch.manual_seed(1); rng = np.random.default_rng(1)
corpus, out = sys.argv[1], sys.argv[2]
import os
MINC, NCTX, DIM = int(os.environ.get('MINC', 3)), 3000, 100
KS = tuple(int(k) for k in os.environ.get('KS', '64,512').split(','))
sents = [l.split() for l in open(corpus, encoding='utf8') if l.strip()]
cnt = collections.Counter(w for s in sents for w in s)
vocab = sorted([w for w, c in cnt.items() if c >= MINC], key=lambda w: (-cnt[w], w))
vi = {w: i for i, w in enumerate(vocab)}
ctxw = vocab[:NCTX]; ci = {w: i for i, w in enumerate(ctxw)}
pair = collections.Counter()
for s in sents:
    for i, w in enumerate(s):
        if w not in vi: continue
        for o, slot in ((-2, 0), (-1, 1), (1, 2), (2, 3)):
            j = i + o
            c = s[j] if 0 <= j < len(s) else ('<s>' if j < 0 else '</s>')
            k = ci.get(c, NCTX if c in ('<s>', '</s>') else -1)
            if c == '</s>': k = NCTX + 1
            if k < 0: continue
            pair[(vi[w], slot * (NCTX + 2) + k)] += 1
rows = np.array([k[0] for k in pair], dtype=np.int64); cols = np.array([k[1] for k in pair], dtype=np.int64)
vals = np.array(list(pair.values()), dtype=np.float64)
tot = vals.sum(); rs = np.bincount(rows, vals, len(vocab)); cs = np.bincount(cols, vals, 4 * (NCTX + 2)) ** 0.75
cs = cs / cs.sum()
pmi = np.log(vals / tot) - np.log(rs[rows] / tot) - np.log(cs[cols] + 1e-30)
keep = pmi > 0
M = torch.sparse_coo_tensor(np.vstack([rows[keep], cols[keep]]), torch.tensor(pmi[keep], dtype=torch.float32), (len(vocab), 4 * (NCTX + 2))).coalesce()
U, S, V = torch.svd_lowrank(M, q=DIM, niter=4)
X = U * S.sqrt()
X = X / X.norm(dim=1, keepdim=True).clamp_min(1e-8)
res = []
for K in KS:
    g = torch.Generator().manual_seed(K)
    C = X[torch.randperm(len(vocab), generator=g)[:K]].clone()
    for it in range(40):
        a = (X @ C.T).argmax(1)
        S_ = torch.zeros_like(C).index_add_(0, a, X); n_ = torch.bincount(a, minlength=K)
        C = torch.where(n_[:, None] > 0, S_, C)
        C = C / C.norm(dim=1, keepdim=True).clamp_min(1e-8)
    res.append(a.numpy())
with open(out, 'w', encoding='utf8') as f:
    for i, w in enumerate(vocab):
        f.write(w + '\t' + '\t'.join(str(int(r[i])) for r in res) + '\n')
print(len(vocab), 'words', len(pair), 'pairs')
