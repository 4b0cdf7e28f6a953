#!/usr/bin/python3
"""Intent teacher for distillation (issue 13): a word CNN (widths 1, 2, 3) plus a
hashed character 3/4-gram bag, trained with torch on the labelled intent rows
(`--rounds 2`: retrained once with soft pseudo-labels on the unlabelled text).
Writes soft labels (teacher probabilities) for the training rows and the unlabelled
text in the file format `hubnlu train --teacher` reads (src/train/teacher.ts).
Seeded; CPU only, one thread. See docs/intent-distillation.md.

usage: teacher.py --train a.jsonl,b.jsonl --unlabelled u.txt [--dev dev.jsonl] [--rounds 2]
                  --soft-out teacher.json.gz [--out debug.json]
"""
import argparse, gzip, json, re, random, time, zlib, sys
import torch, torch.nn as nn, torch.nn.functional as F

def toks(t):
    t = t.lower()
    t = re.sub(r"[^a-z0-9' ]+", ' ', t)
    return t.split()

def chgrams(words, buckets):
    out = []
    for w in words:
        s = '<' + w + '>'
        for n in (3, 4):
            for i in range(len(s) - n + 1):
                out.append(zlib.crc32(s[i:i+n].encode()) % buckets + 1)
    return out or [0]

class Net(nn.Module):
    def __init__(self, nv, nb, nc, d=100, h=128):
        super().__init__()
        self.emb = nn.Embedding(nv, d, padding_idx=0, sparse=True)
        self.cb = nn.EmbeddingBag(nb + 1, d, mode='mean', padding_idx=0, sparse=True)
        self.convs = nn.ModuleList([nn.Conv1d(d, h, k, padding=k // 2) for k in (1, 2, 3)])
        self.drop = nn.Dropout(0.4)
        self.out = nn.Linear(3 * h + d, nc)
    def forward(self, w, lens, c, coff):
        e = self.drop(self.emb(w)).transpose(1, 2)
        mask = (w != 0).unsqueeze(1)
        feats = []
        for conv in self.convs:
            o = F.relu(conv(e))[:, :, :w.shape[1]]
            feats.append(o.masked_fill(~mask, 0).max(2).values)
        cb = self.cb(c, coff)
        return self.out(self.drop(torch.cat(feats + [cb], 1)))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', required=True)
    ap.add_argument('--unlabelled')
    ap.add_argument('--dev')
    ap.add_argument('--out', help='debug JSON: full probabilities for train, unlabelled and dev rows')
    ap.add_argument('--soft-out', help='the training artifact: top-k soft labels by text, gzipped JSON (read by src/train/teacher.ts)')
    ap.add_argument('--top-k', type=int, default=8)
    ap.add_argument('--labels', help='comma-separated label order (default: sorted training labels)')
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--smoothing', type=float, default=0.1)
    ap.add_argument('--rounds', type=int, default=1, help='self-training rounds (each retrains on labelled + soft pseudo-labelled text)')
    ap.add_argument('--threshold', type=float, default=0.3)
    a = ap.parse_args()
    torch.manual_seed(a.seed); random.seed(a.seed); torch.set_num_threads(1)
    rows = [json.loads(l) for f in a.train.split(',') for l in open(f) if l.strip()]
    unl = [l.rstrip('\n') for l in open(a.unlabelled)] if a.unlabelled else []
    dev = [json.loads(l) for l in open(a.dev) if l.strip()] if a.dev else []
    labels = a.labels.split(',') if a.labels else sorted({r['intent'] for r in rows})
    li = {l: i for i, l in enumerate(labels)}
    vocab = {'<pad>': 0, '<unk>': 1}
    cnt = {}
    for t in [r['text'] for r in rows] + unl:
        for w in toks(t): cnt[w] = cnt.get(w, 0) + 1
    for w, c in sorted(cnt.items()):
        if c >= 1: vocab[w] = len(vocab)
    B = 30000
    def enc(texts):
        out = []
        for t in texts:
            ws = toks(t) or ['<unk>']
            out.append(([vocab.get(w, 1) for w in ws], chgrams(ws, B)))
        return out
    def batch(items, idx, wdrop=0.0):
        ws = [items[i][0] for i in idx]
        if wdrop > 0:
            ws = [[(1 if random.random() < wdrop else x) for x in w] for w in ws]
        L = max(len(w) for w in ws)
        W = torch.zeros(len(idx), L, dtype=torch.long)
        for j, w in enumerate(ws): W[j, :len(w)] = torch.tensor(w)
        lens = torch.tensor([len(w) for w in ws], dtype=torch.float)
        cs = [items[i][1] for i in idx]
        off = torch.tensor([0] + [len(c) for c in cs[:-1]]).cumsum(0)
        C = torch.tensor([x for c in cs for x in c])
        return W, lens, C, off
    X = enc([r['text'] for r in rows]); Y = torch.tensor([li[r['intent']] for r in rows])
    nc = len(labels)
    T_lab = torch.full((len(X), nc), a.smoothing / nc); T_lab[torch.arange(len(X)), Y] += 1 - a.smoothing
    U = enc(unl)
    D = enc([r['text'] for r in dev]); DG = [li.get(r['intent'], -1) for r in dev]
    net = None
    def predict(items):
        net.eval(); P = []
        with torch.no_grad():
            for s in range(0, len(items), 256):
                idx = list(range(s, min(len(items), s + 256)))
                P.append(F.softmax(net(*batch(items, idx)), -1))
        net.train()
        return torch.cat(P) if P else torch.zeros(0, nc)
    items, targets = X, T_lab
    for rnd in range(a.rounds):
        torch.manual_seed(a.seed + rnd); random.seed(a.seed + rnd)
        net = Net(len(vocab), B, nc)
        sp = [net.emb.weight, net.cb.weight]
        opt = torch.optim.Adam([p for p in net.parameters() if all(p is not q for q in sp)], lr=2e-3)
        opt2 = torch.optim.SparseAdam(sp, lr=2e-3)
        n = len(items); bs = 32
        steps = a.epochs * ((n + bs - 1) // bs)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
        sched2 = torch.optim.lr_scheduler.OneCycleLR(opt2, max_lr=3e-3, total_steps=steps, cycle_momentum=False)
        for ep in range(a.epochs):
            t0 = time.time(); perm = list(range(n)); random.shuffle(perm); tot = 0
            for s in range(0, n, bs):
                idx = perm[s:s+bs]
                logits = net(*batch(items, idx, wdrop=0.1))
                loss = -(targets[idx] * F.log_softmax(logits, -1)).sum(1).mean()
                opt.zero_grad(); opt2.zero_grad(); loss.backward(); opt.step(); opt2.step(); sched.step(); sched2.step(); tot += loss.item() * len(idx)
            msg = f'round {rnd+1} epoch {ep+1} loss {tot/n:.4f} {time.time()-t0:.1f}s'
            if dev:
                p = predict(D).argmax(1).tolist()
                msg += f' dev acc {sum(int(x == g) for x, g in zip(p, DG)) / len(DG):.4f}'
            print(msg, file=sys.stderr, flush=True)
        if rnd + 1 < a.rounds and U:
            PU = predict(U)
            keep = (PU.max(1).values >= a.threshold).nonzero().flatten().tolist()
            print(f'round {rnd+1}: {len(keep)} of {len(U)} unlabelled kept', file=sys.stderr, flush=True)
            items = X + [U[i] for i in keep]
            targets = torch.cat([T_lab, PU[keep]])
    PX = predict(X); PU = predict(U) if unl else torch.zeros(0, nc)
    if a.soft_out:
        seen = set(); out = []
        for t, p in zip([r['text'] for r in rows] + unl, torch.cat([PX, PU]).tolist()):
            if not t.strip() or t in seen: continue
            seen.add(t)
            top = sorted(range(nc), key=lambda c: -p[c])[:a.top_k]
            out.append([t, [x for c in top for x in (c, int(round(p[c] * 10000)))]])
        doc = {'format': 'hubnlu-teacher-v1', 'teacher': vars(a), 'labels': labels, 'scale': 10000, 'rows': out}
        with gzip.GzipFile(a.soft_out, 'wb', mtime=0) as f:
            f.write(json.dumps(doc, separators=(',', ':')).encode())
    if a.out:
        res = {'labels': labels, 'texts': [r['text'] for r in rows] + unl, 'train': PX.tolist(), 'unlabelled': PU.tolist(), 'dev': predict(D).tolist() if dev else []}
        for k in ('train', 'unlabelled', 'dev'):
            res[k] = [[round(x, 5) for x in p] for p in res[k]]
        json.dump(res, open(a.out, 'w'))

main()
