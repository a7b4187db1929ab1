"""After `servectl train` publishes version N+1: evaluate it and the model's current `stable` version on the
same held-out set, print the comparison and record it in N+1's manifest (`comparison`), so the quality gate
of `servectl promote` compares numbers measured on identical data (issue 10).

The evaluation hook is per family: `evaluate_version(version_dir, *, data, preset, **options) -> metrics`
found on the family's training module (`training.<family>.train`); until a family provides one, a fallback
here is used (anti-spam: the exported graph + its own shipped assets on the held-out split of `data`).
Also: before training, `pin_labelled_versions` widens a `latest {n}` policy by one so that publishing N+1
does not make the server unload the version `stable` points at (TF Serving would otherwise drop it).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable

from common import label_files as LF
from common import labels as L
from common import manifest as mf
from common import repository as repo
from common.quality import GATED_METRICS, gate_manifest_metrics, metric_at

GATE_MARGIN = 0.01  # servectl promote's default --margin
COMPARED = ("accuracy", "spam_precision", "spam_recall", "spam_f1")


def antispam_evaluate_version(version_dir: Path, *, data: Path | None, preset: str = "tiny", **options: Any) -> dict[str, Any]:
    """Held-out metrics of one published anti-spam version, using only what the version ships (graph,
    vocabulary, vectors, text policy) — as the gateway would serve it."""
    import numpy as np
    import tensorflow as tf

    from common.text_zh import TextPolicy, Vocabulary, get_segmenter, lookup_batch, model_tokens
    from training.antispam import data as data_mod
    from training.antispam.evaluate import classification_metrics, robustness_suite
    from training.antispam.train import resolve_preset

    p = resolve_preset(preset, options)
    limit = int(options["limit"]) if "limit" in options else None
    corpus = data_mod.load_corpus(data, seed=p.split_seed, val_fraction=p.val_fraction, test_fraction=p.test_fraction, limit=limit)
    te = corpus.indices("test")
    assets = mf.assets_dir(version_dir)
    params = json.loads((assets / "preprocessing.json").read_text(encoding="utf-8"))
    vocab = Vocabulary.from_text((assets / params.get("vocab_file", "vocab.txt")).read_text(encoding="utf-8"))
    vectors = np.load(assets / params.get("vectors_file", "vectors.npy"))
    user_dict = assets / params["user_dict_file"] if params.get("user_dict_file") else None
    policy = TextPolicy.from_dict(params["policy"])
    segmenter = get_segmenter(user_dict)
    loaded = tf.saved_model.load(str(version_dir))
    fn = loaded.signatures["serving_default"]

    def predict_texts(texts: list[str]) -> np.ndarray:
        ids = [vocab.encode(model_tokens(t, policy, vocab, segmenter)) for t in texts]
        probs = np.zeros((len(ids), 2), dtype=np.float32)
        for s in range(0, len(ids), 256):
            x = lookup_batch(ids[s : s + 256], vectors)
            probs[s : s + 256] = fn(x=tf.constant(x, tf.float32))["probabilities"].numpy()
        return probs

    m = classification_metrics(corpus.labels[te], predict_texts([corpus.texts[i] for i in te]))
    robustness = robustness_suite(predict_texts, [corpus.segmented[i] for i in te], corpus.labels[te])
    return {"held_out": {k: m[k] for k in ("n",) + COMPARED}, "robustness": robustness, "data_hash": corpus.data_hash}


FALLBACKS: dict[str, Callable[..., dict[str, Any]]] = {"antispam": antispam_evaluate_version}


def evaluator(family: str) -> Callable[..., dict[str, Any]] | None:
    try:
        module = importlib.import_module(f"training.{family}.train")
    except ModuleNotFoundError:
        module = None
    return getattr(module, "evaluate_version", None) or FALLBACKS.get(family)


def pin_labelled_versions(servables: Path, models: tuple[str, ...]) -> list[str]:
    """Grow `latest {n}` by one for models whose labelled versions would fall out of it when a new version
    appears. Returns what changed (for printing)."""
    changed: list[str] = []
    if not (Path(servables) / repo.CONFIG_NAME).exists():
        return changed
    for model in models:
        def grow(f: LF.ModelFiles) -> str | None:
            need = L.keep_labelled_loaded(f.mc, f.on_disk)
            return None if need is None else f"{model}: version policy latest {{{need}}} so labelled versions stay loaded"

        try:
            note = LF.edit(servables, model, grow)
        except L.LabelError:
            continue
        if note:
            changed.append(note)
    return changed


def compare_with_stable(family: str, model: str, servables: Path, new_version: int, *, data: Path | None, preset: str,
                        options: dict[str, Any], margin: float = GATE_MARGIN) -> dict[str, Any] | None:
    """Evaluate the new version and the stable one on the same held-out set; write `comparison` into the new
    version's manifest (atomically), with the robustness gate's verdict (`gate`: would `servectl promote`
    refuse it, and on which metric). None when the family has no evaluator."""
    fn = evaluator(family)
    if fn is None:
        return None
    files = LF.read(servables, model)
    stable = files.mc.version_labels.get(L.STABLE) if L.STABLE in files.mc.version_labels else None
    new_dir = files.model_dir / str(new_version)
    new = fn(new_dir, data=data, preset=preset, **options)
    comparison: dict[str, Any] = {"new_version": new_version, "stable_version": stable, "heldout": f"held-out split of {data or 'default data'}",
                                  "data_hash": new.get("data_hash"), "new": new, "stable": None, "metrics": {}}
    if stable is not None and stable != new_version and (files.model_dir / str(stable)).is_dir():
        old = fn(files.model_dir / str(stable), data=data, preset=preset, **options)
        comparison["stable"] = old
        for path in [f"held_out.{k}" for k in COMPARED] + list(GATED_METRICS.get(family, ())):
            a, b = metric_at(new, path), metric_at(old, path)
            if a is not None and b is not None:
                comparison["metrics"][path] = {"new": a, "stable": b, "delta": round(a - b, 5)}
        verdict = gate_manifest_metrics(family, new, old, margin, candidate_version=new_version, stable_version=stable)
        comparison["gate"] = {"ok": verdict.ok, "message": verdict.message, "failed": list(verdict.failed), "margin": margin}
    manifest = mf.read_manifest(new_dir)
    manifest["comparison"] = comparison
    repo.atomic_write_text(mf.manifest_path(new_dir), json.dumps(manifest, ensure_ascii=False, indent=1))
    return comparison


def format_comparison(c: dict[str, Any]) -> str:
    if c["stable"] is None:
        acc = c["new"].get("held_out", {}).get("accuracy")
        return f"version {c['new_version']}: no stable version to compare with (held-out accuracy {acc})"
    lines = [f"version {c['new_version']} vs stable version {c['stable_version']} on the same held-out set:"]
    for k, m in c["metrics"].items():
        lines.append(f"  {k:32s} new {m['new']:.4f}  stable {m['stable']:.4f}  delta {m['delta']:+.4f}")
    gate = c.get("gate")
    if gate:
        lines.append(("robustness gate: passes (" if gate["ok"] else "robustness gate: REFUSED, servectl promote will refuse "
                      "this version without --force (") + gate["message"] + ")")
    return "\n".join(lines)
