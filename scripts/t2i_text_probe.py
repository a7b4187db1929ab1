"""Linear read-out of colours from the tiny text vector (phase 1 reproduced in-process, as train() does it)
and, given exported versions, from each of G's text slot codes. Train: captions of training pairs; test:
captions of the held-out pairs (all 10 per test image).
Arguments: preset options as key=value (e.g. text_pool=mean), then exported version directories."""
import sys, time
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from common.captions import Vocabulary, pad_batch
from training.text2image import flowers
from training.text2image.presets import PRESETS
from training.text2image.train import build_trainer

t0 = time.time()
opts = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
paths = [a for a in sys.argv[1:] if "=" not in a]
p = PRESETS["tiny"].with_options(jit_compile="true", **opts)
split = flowers.make_split(p.n_train, p.n_val, p.n_test, p.seed)
vocab = Vocabulary.build(c for caps in split.train.captions for c in caps)
cfg, trainer, batches = build_trainer(p, split.train, vocab)
writer = tf.summary.create_noop_writer()
trainer.train_encoders(batches, p.encoder_steps, writer, p.log_every)
print(f"phase 1 done {time.time()-t0:.0f}s", flush=True)

def table(fs):
    caps, petal, centre = [], [], []
    for i, cs in enumerate(fs.captions):
        for c in cs:
            caps.append(c); petal.append(fs.petal_idx[i])
            centre.append(fs.centre_idx[i] if flowers.caption_mentions_centre(c, fs.attributes[i]) else -1)
    ids = pad_batch([vocab.encode(c).ids for c in caps])
    vec = trainer.text_encoder.predict(ids, batch_size=512, verbose=0)
    return vec, np.array(petal), np.array(centre)

tr_vec, tr_p, tr_c = table(split.train)
te_vec, te_p, te_c = table(split.test)
va_vec, va_p, va_c = table(split.val)

def probe(name, ftr, fva, fte):
    out = []
    for lab, (ytr, yva, yte) in (("petal", (tr_p, va_p, te_p)), ("centre", (tr_c, va_c, te_c))):
        m = ytr >= 0
        clf = LogisticRegression(max_iter=3000, C=1.0).fit(ftr[m], ytr[m])
        mv, mt = yva >= 0, yte >= 0
        out.append(f"{lab}: train-pair captions (val images) {clf.score(fva[mv], yva[mv]):.3f}, held-out {clf.score(fte[mt], yte[mt]):.3f} (n={mt.sum()})")
    print(f"{name}: " + "; ".join(out), flush=True)

probe("text vector", tr_vec, va_vec, te_vec)
m = tr_c >= 0
te_pair = np.array([fs_i for fs_i, cs in enumerate(split.test.captions) for _ in cs])
for C in (0.01, 0.1, 1.0, 10.0):
    clf = LogisticRegression(max_iter=3000, C=C).fit(tr_vec[m], tr_c[m])
    mt = te_c >= 0
    pred = clf.predict(te_vec[mt])
    per = {}
    for (pi, ci) in sorted(set(zip(split.test.petal_idx, split.test.centre_idx))):
        sel = (te_p[mt] == pi) & (te_c[mt] == ci)
        per[f"{flowers.PETAL_NAMES[pi]}/{flowers.CENTRE_NAMES[ci]}"] = round(float(np.mean(pred[sel] == ci)), 2)
    print(f"text vector centre C={C}: held-out {np.mean(pred == te_c[mt]):.3f}", per, flush=True)

for path in paths:
    loaded = tf.saved_model.load(path)
    vars_ = {v.name: v for v in loaded.variables}
    def get(layer, w):
        hits = [v for n, v in vars_.items() if n.split(":")[0].endswith(f"{layer}/{w}")]
        assert len(hits) == 1, (layer, w, [n for n in vars_ if layer in n])
        return hits[0].numpy()
    # check the reproduced text encoder equals the exported one
    emb = get("embedding", "embeddings")
    print(path, "text encoder reproduced:", np.allclose(emb, trainer.text_encoder.get_layer("embedding").get_weights()[0]))
    def slot(vec, k):
        x = vec @ get(f"slot{k}", "kernel") + get(f"slot{k}", "bias")
        return np.where(x > 0, x, 0.2 * x)
    for k in range(2):
        probe(f"{path} slot{k}", slot(tr_vec, k), slot(va_vec, k), slot(te_vec, k))
print(f"total {time.time()-t0:.0f}s")
