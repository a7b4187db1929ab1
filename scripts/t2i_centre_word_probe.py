"""Where is the centre colour lost? Linear read-out of the held-out centre from (1) the mean-pooled text vector,
(2) the LSTM output AT the centre-colour word (oracle position), (3) the word embedding there, (4) the LSTM output
at the last word. Phase 1 reproduced as train() does it."""
import time
import numpy as np
import keras, tensorflow as tf
from sklearn.linear_model import LogisticRegression
from common.captions import Vocabulary, pad_batch
from training.text2image import flowers
from training.text2image.presets import PRESETS
from training.text2image.train import build_trainer

p = PRESETS["tiny"].with_options(jit_compile="true", text_pool="mean")  # the LSTM encoder this probe reads
split = flowers.make_split(p.n_train, p.n_val, p.n_test, p.seed)
vocab = Vocabulary.build(c for caps in split.train.captions for c in caps)
cfg, trainer, batches = build_trainer(p, split.train, vocab)  # every option, as train() builds them
trainer.train_encoders(batches, p.encoder_steps, tf.summary.create_noop_writer(), p.log_every)
enc = trainer.text_encoder
seq = keras.Model(enc.inputs, [enc.get_layer("embedding").output, enc.get_layer("lstm").output])

def table(fs):
    caps, cen, pos = [], [], []
    for i, cs in enumerate(fs.captions):
        a = fs.attributes[i]
        wid = vocab.encode(a.centre).ids[0]
        for c in cs:
            if not flowers.caption_mentions_centre(c, a):
                continue
            ids = vocab.encode(c).ids
            caps.append(ids); cen.append(fs.centre_idx[i]); pos.append(max(k for k, t in enumerate(ids) if t == wid))
    ids = pad_batch(caps)
    vec = enc.predict(ids, batch_size=512, verbose=0)
    emb, out = seq.predict(ids, batch_size=512, verbose=0)
    n = np.arange(len(caps)); pos = np.array(pos); length = (ids > 0).sum(1)
    return {"mean-pooled text vector": vec, "LSTM output at the centre word": out[n, pos], "embedding of the centre word": emb[n, pos],
            "LSTM output at the last word": out[n, length - 1]}, np.array(cen)

tr, ytr = table(split.train)
te, yte = table(split.test)
for k in tr:
    for C in (0.1, 1.0):
        clf = LogisticRegression(max_iter=3000, C=C).fit(tr[k], ytr)
        print(f"{k} C={C}: held-out centre {clf.score(te[k], yte):.3f} (n={len(yte)})", flush=True)
