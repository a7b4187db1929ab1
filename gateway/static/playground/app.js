// The playground: a client of the gateway's public HTTP API (GET /models, POST /predict), nothing more.
// Every URL is relative to the page, so the page works behind a path prefix and never leaves the gateway.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v; // CSSOM: the page's CSP refuses style attributes
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};
const pct = (p) => `${(100 * p).toFixed(1)}%`;
const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const pngUrl = (b64) => `data:image/png;base64,${b64}`;

const state = {
  models: {},       // name -> GET /models/{name}
  examples: {},     // examples/index.json
  busy: new Set(),  // panels with a request in flight
};
window.playground = state; // for people poking around in the console

// ------------------------------------------------------------------ the API
function apiKey() { return $("#api-key").value.trim(); }

function gatewayUrl(path) { return new URL(path, document.baseURI).href; }

/** POST /predict; returns {ok, status, body, requestId, clientMs}. Never throws for an HTTP error. */
async function predict(body, isForm) {
  const headers = {};
  if (!isForm) headers["Content-Type"] = "application/json";
  if (apiKey()) headers["X-API-Key"] = apiKey();
  const started = performance.now();
  let resp;
  try {
    resp = await fetch("predict", { method: "POST", headers, body: isForm ? body : JSON.stringify(body) });
  } catch (e) {
    return { ok: false, status: 0, body: null, requestId: null, clientMs: performance.now() - started,
             networkError: `could not reach the gateway (${e.message})` };
  }
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: shown as text below */ }
  return { ok: resp.ok, status: resp.status, statusText: resp.statusText, body: json, text,
           requestId: resp.headers.get("X-Request-ID"), clientMs: performance.now() - started };
}

// -------------------------------------------------------- curl equivalents
const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function curlJson(body) {
  const key = apiKey() ? ` \\\n  -H 'X-API-Key: $API_KEY'` : "";
  return `curl -s ${shq(gatewayUrl("predict"))} \\\n  -H 'Content-Type: application/json'${key} \\\n  -d ${shq(JSON.stringify(body))}`;
}

/** fields: [[name, value]]; files: [[field, filename]] */
function curlForm(fields, files) {
  const parts = [`curl -s ${shq(gatewayUrl("predict"))}`];
  if (apiKey()) parts.push("-H 'X-API-Key: $API_KEY'");
  for (const [k, v] of fields) parts.push(`-F ${shq(`${k}=${v}`)}`);
  for (const [k, name] of files) parts.push(`-F ${shq(`${k}=@${name}`)}`);
  return parts.join(" \\\n  ");
}

// ------------------------------------------------------------ model list
const STATUS_CLASS = { available: "ok", loading: "warn", pending: "idle", unsupported: "bad" };
const FAMILY_TAB = { antispam: "antispam", classifier: "classifier", unet: "unet", srgan: "srgan", text2image: "text2image" };

// manifest metrics are nested (held_out.accuracy, exported.psnr_rgb, ...): the card shows the headline ones
const METRIC_PRIORITY = [/^held_out\.accuracy$/, /^held_out\.spam_f1$/, /held_out_top1$/, /held_out_top5$/,
  /^held_out\.volume_hard_dice$/, /^held_out\.slice_hard_dice$/, /^exported\.psnr_rgb$/, /^exported\.ssim_rgb$/,
  /psnr_rgb_gain_over_bicubic$/, /^held_out_unknown_token_ratio$/, /(^|\.)(fid|inception_score|r_precision)$/, /^train_seconds$/];

function flatMetrics(obj, prefix = "", out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "number") out.push([key, v]);
    else if (v && typeof v === "object" && !Array.isArray(v) && !/per_image|confusion|robustness|split/.test(k) && key.split(".").length < 3) flatMetrics(v, key, out);
  }
  return out;
}

function metricChips(metrics) {
  const leaves = flatMetrics(metrics);
  const rank = ([k]) => { const i = METRIC_PRIORITY.findIndex((re) => re.test(k)); return i < 0 ? 99 : i; };
  const chosen = leaves.filter((l) => rank(l) < 99).sort((a, b) => rank(a) - rank(b)).slice(0, 4);
  return chosen.map(([k, v]) => {
    const shown = Number.isInteger(v) ? String(v) : Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1);
    const name = k.replace(/^(held_out|exported)\./, "").replace(/^held_out_/, "").replace(/_/g, " ");
    return el("span", { class: "metric", title: k }, el("b", { text: shown }), ` ${name}`);
  });
}

function renderModels() {
  const list = $("#model-list");
  const names = Object.keys(state.models).sort();
  if (!names.length) return;
  list.replaceChildren(...names.map((name) => {
    const m = state.models[name];
    const served = m.versions.filter((v) => v.served).map((v) => v.version);
    const dv = m.versions.find((v) => v.version === m.default_version);
    const labels = Object.entries(m.labels).map(([l, v]) => el("span", { class: `chip label-${l}` }, `${l} → v${v}`));
    if (m.canary_share > 0) labels.push(el("span", { class: "chip canary" }, `canary share ${pct(m.canary_share)}`));
    const card = el("button", { class: "model-card", type: "button", "data-model": name, title: m.message || "" },
      el("div", { class: "model-name", text: name }),
      el("div", { class: "model-top" },
        el("span", { class: `status ${STATUS_CLASS[m.status] || "idle"}`, "data-k": "status", text: m.status }),
        el("span", { class: "model-sub muted", text: m.family || "no family" })),
      el("div", { class: "model-sub muted" },
        el("span", { "data-k": "served" }, served.length ? `serving v${served.join(", v")}` : "no version served"),
        m.default_version !== null && served.length > 1 ? ` · default v${m.default_version}` : ""),
      el("div", { class: "chips" }, ...labels),
      el("div", { class: "metrics", title: dv && dv.metrics ? flatMetrics(dv.metrics).map(([k, v]) => `${k}: ${v}`).join("\n") : "no metrics in the manifest" },
        ...metricChips(dv && dv.metrics)));
    card.addEventListener("click", () => {
      const tab = FAMILY_TAB[m.family];
      if (!tab) return;
      if (m.family === "classifier") selectClassifier(name);
      showTab(tab);
    });
    return card;
  }));
  $("#models-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  for (const panel of $$(".panel")) panelStatus(panel);
}

async function refreshModels() {
  try {
    const resp = await fetch("models");
    if (!resp.ok) throw new Error(`GET /models answered ${resp.status}`);
    const { models } = await resp.json();
    const details = await Promise.all(models.map((m) => fetch(`models/${encodeURIComponent(m.name)}`).then((r) => r.json())));
    state.models = Object.fromEntries(details.filter((d) => d.name).map((d) => [d.name, d]));
    renderModels();
  } catch (e) {
    $("#model-list").replaceChildren(el("p", { class: "warn", text: `Cannot list models: ${e.message}` }));
  }
}

function panelStatus(panel) {
  const box = $(".panel-status", panel);
  const m = state.models[panel.dataset.model];
  box.replaceChildren();
  if (!m) {
    box.append(el("p", { class: "notice", text: `Model ${panel.dataset.model} is not configured on this gateway.` }));
  } else if (m.status !== "available") {
    box.append(el("p", { class: "notice" }, `${panel.dataset.model} is ${m.status}`, m.message ? ` — ${m.message}` : "",
      ". Requests are answered 503 until a version is served."));
  }
}

/** Labels of the version that answered, from the model's record ("" when none points at it). */
function labelsOf(model, version) {
  const m = state.models[model];
  if (!m) return [];
  return Object.entries(m.labels).filter(([, v]) => v === version).map(([l]) => l);
}

// ---------------------------------------------------------- call details
function clear(panel) {
  $(".call", panel).replaceChildren();
}

function copyButton(root, text) {
  const btn = $(".copy", root);
  btn.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(text); btn.textContent = "Copied"; }
    catch { const r = document.createRange(); r.selectNodeContents($("pre", root)); getSelection().removeAllRanges(); getSelection().addRange(r); btn.textContent = "Selected"; }
    setTimeout(() => (btn.textContent = "Copy"), 1500);
  });
}

function showCall(panel, res, curl) {
  const box = $(".call", panel);
  if (!res.ok) {
    const node = $("#error-template").content.firstElementChild.cloneNode(true);
    const err = res.body && res.body.error;
    $("[data-k=status]", node).textContent = res.status ? `HTTP ${res.status}` : "no answer";
    $("[data-k=code]", node).textContent = err ? err.code : "";
    $("[data-k=message]", node).textContent = err ? err.message
      : res.networkError || `${res.statusText || "error"}: ${(res.text || "").slice(0, 300)}`;
    $("[data-k=request-id]", node).textContent = (err && err.request_id) || res.requestId || "—";
    $("[data-k=curl]", node).textContent = curl;
    copyButton(node, curl);
    box.replaceChildren(node);
    return;
  }
  const body = res.body;
  const node = $("#call-template").content.firstElementChild.cloneNode(true);
  const labels = labelsOf(body.model, body.version);
  $("[data-k=model]", node).textContent = body.model;
  $("[data-k=version]", node).textContent = `version ${body.version}`;
  $("[data-k=label]", node).textContent = labels.length ? labels.join(", ") : "no label (latest)";
  $("[data-k=label]", node).classList.add(labels.includes("canary") ? "canary" : labels.length ? "stable" : "plain");
  $("[data-k=request-id]", node).textContent = res.requestId;
  $("[data-k=status]", node).textContent = `HTTP ${res.status} · round trip ${fmtMs(res.clientMs)} ms`;
  const t = body.timing_ms;
  const stages = [["preprocess", "pre"], ["backend", "backend"], ["postprocess", "post"]];
  const sum = stages.reduce((a, [k]) => a + (t[k] || 0), 0) || 1;
  const bar = el("div", { class: "timing-bar" }, ...stages.map(([k, short]) =>
    el("span", { class: `seg ${k}`, style: `flex-grow:${Math.max(t[k] / sum, 0.02)}`, title: `${k} ${t[k]} ms` })));
  const legend = el("div", { class: "timing-legend" }, ...stages.map(([k, short]) =>
    el("span", { class: `key ${k}`, "data-stage": k }, el("i"), `${short} `, el("b", { text: `${fmtMs(t[k])} ms` }))),
    el("span", { class: "key total", "data-stage": "total" }, "gateway total ", el("b", { text: `${fmtMs(t.total)} ms` })));
  $("[data-k=timing]", node).replaceChildren(bar, legend);
  $("[data-k=curl]", node).textContent = curl;
  copyButton(node, curl);
  box.replaceChildren(node);
}

/** Run one call for a panel: busy state, the request, the call box; `render` gets the outputs on success. */
async function run(panel, { body, form, curl, render }) {
  const button = $("button.primary", panel);
  panel.classList.add("busy");
  button.disabled = true;
  const label = button.textContent;
  button.textContent = "Running…";
  panel.dataset.state = "running";
  try {
    const res = form ? await predict(form, true) : await predict(body, false);
    if (res.ok) {
      await render(res.body.outputs, res.body);
      $(".placeholder", panel).hidden = true;
    }
    showCall(panel, res, curl);
    panel.dataset.state = res.ok ? "done" : "error";
  } catch (e) {
    showCall(panel, { ok: false, status: 0, networkError: `the page could not show the answer: ${e.message}` }, curl);
    panel.dataset.state = "error";
  } finally {
    panel.classList.remove("busy");
    button.disabled = false;
    button.textContent = label;
  }
}

async function fetchExample(path) {
  const resp = await fetch(`playground/examples/${path}`);
  if (!resp.ok) throw new Error(`example ${path}: HTTP ${resp.status}`);
  const blob = await resp.blob();
  return new File([blob], path.split("/").pop(), { type: blob.type });
}

// ----------------------------------------------------------------- tabs
function showTab(name) {
  for (const b of $$(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of $$(".panel")) p.hidden = p.dataset.family !== name;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

// ----------------------------------------------------------- anti-spam
function setupAntispam() {
  const panel = $("#panel-antispam");
  const form = $("#as-form");
  for (const ex of state.examples.antispam || []) {
    $("#as-examples").append(el("button", { type: "button", class: "example", title: ex.text,
      onclick: () => { $("#as-text").value = ex.text; form.requestSubmit(); } }, ex.title));
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("#as-text").value;
    const body = { model: "antispam", inputs: { text, debug: true } };
    run(panel, {
      body, curl: curlJson(body),
      render: (out) => {
        const spam = out.label === "spam";
        const badge = $("#as-label");
        badge.textContent = out.label.toUpperCase();
        badge.className = `badge-big ${spam ? "spam" : "pass"}`;
        $("#as-prob").textContent = pct(out.spam_probability);
        $("#as-meter").style.width = pct(out.spam_probability);
        $("#as-meter").className = spam ? "spam" : "pass";
        $("#as-meta").textContent = `${out.n_tokens} tokens · ${pct(out.unknown_ratio)} unknown`;
        const unknown = new Set(out.unknown_tokens || []);
        $("#as-tokens").replaceChildren(...(out.tokens || []).map((t) =>
          el("span", { class: unknown.has(t) ? "tok unk" : "tok", title: unknown.has(t) ? "not in the vocabulary: read as <unk>" : "" }, t)));
        $("#as-result").hidden = false;
      },
    });
  });
}

// ---------------------------------------------------------- classifier
let clsFile = null;

function selectClassifier(model) {
  const radio = $(`#cls-models input[value="${model}"]`);
  if (radio) radio.checked = true;
  $("#panel-classifier").dataset.model = model;
  panelStatus($("#panel-classifier"));
}

function setPreview(img, file, drop) {
  img.src = URL.createObjectURL(file);
  img.hidden = false;
  drop.classList.add("has-file");
  $(".drop-hint", drop).textContent = file.name;
}

function wireDrop(drop, input, onFile) {
  input.addEventListener("change", () => input.files[0] && onFile(input.files[0]));
  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files[0]) onFile(e.dataTransfer.files[0]); });
}

function thumbButton(ex, onPick) {
  return el("button", { type: "button", class: "thumb", title: ex.title, onclick: onPick },
    el("img", { src: `playground/examples/${ex.file}`, alt: ex.title }), el("span", { text: ex.title }));
}

function setupClassifier() {
  const panel = $("#panel-classifier");
  const form = $("#cls-form");
  const pick = (file) => { clsFile = file; setPreview($("#cls-preview"), file, $("#cls-drop")); };
  wireDrop($("#cls-drop"), $("#cls-file"), pick);
  for (const r of $$("#cls-models input")) r.addEventListener("change", () => selectClassifier(r.value));
  for (const ex of state.examples.classifier || []) {
    $("#cls-examples").append(thumbButton(ex, async () => { pick(await fetchExample(ex.file)); form.requestSubmit(); }));
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const model = panel.dataset.model;
    const topK = $("#cls-topk").value || "5";
    const fd = new FormData();
    fd.append("model", model);
    fd.append("top_k", topK);
    if (clsFile) fd.append("image", clsFile, clsFile.name);
    run(panel, {
      form: fd, curl: curlForm([["model", model], ["top_k", topK]], clsFile ? [["image", clsFile.name]] : []),
      render: (out) => {
        const top = out.predictions[0].top_k;
        $("#cls-topk-list").replaceChildren(...top.map((p, i) => el("li", { class: i === 0 ? "top" : "" },
          el("span", { class: "bar-label", "data-k": "label", text: p.label }),
          el("span", { class: "bar" }, el("span", { style: `width:${(100 * p.probability).toFixed(2)}%` })),
          el("span", { class: "bar-value", "data-k": "probability", text: pct(p.probability) }))));
        $("#cls-result").hidden = false;
      },
    });
  });
}

// ---------------------------------------------------------------- U-Net
const unetFiles = {}; // modality -> File
let unetView = null;  // {vol, mask, win, areas, spacing}

function setUnetFile(mod, file) {
  unetFiles[mod] = file;
  const input = $(`.mod input[data-mod="${mod}"]`);
  $("em", input.parentElement).textContent = file ? file.name : "no file";
  input.parentElement.classList.toggle("has-file", !!file);
}

function drawUnetSlice() {
  if (!unetView) return;
  const k = Number($("#unet-slice").value);
  const canvas = $("#unet-canvas");
  NIfTI.drawSlice(canvas.getContext("2d"), unetView.vol, k, unetView.win, unetView.mask);
  const px = unetView.areas[k];
  const mm = unetView.areasMm ? ` · ${unetView.areasMm[k].toFixed(1)} mm²` : "";
  $("#unet-slice-v").textContent = `${k + 1} / ${unetView.vol.nz} · ${px} px${mm}`;
  const c = $("#unet-areas"), ctx = c.getContext("2d");
  c.width = c.clientWidth || 300;
  const max = Math.max(1, ...unetView.areas), w = c.width / unetView.areas.length;
  ctx.clearRect(0, 0, c.width, c.height);
  unetView.areas.forEach((a, i) => {
    ctx.fillStyle = i === k ? "#e0453a" : "#c9cfe0";
    const h = Math.max(1, (a / max) * (c.height - 4));
    ctx.fillRect(i * w + 1, c.height - h, Math.max(1, w - 2), h);
  });
}

function setupUnet() {
  const panel = $("#panel-unet");
  const form = $("#unet-form");
  for (const input of $$(".mod input", panel)) {
    input.addEventListener("change", () => { setUnetFile(input.dataset.mod, input.files[0] || null); panel.dataset.spacing = ""; });
  }
  $("#unet-threshold").addEventListener("input", (e) => ($("#unet-threshold-v").textContent = Number(e.target.value).toFixed(2)));
  for (const ex of state.examples.unet || []) {
    $("#unet-examples").append(el("button", { type: "button", class: "example", "data-kind": ex.kind, onclick: async () => {
      const files = await Promise.all(Object.entries(ex.files).map(async ([mod, path]) => [mod, await fetchExample(path)]));
      for (const [mod, file] of files) setUnetFile(mod, file);
      panel.dataset.spacing = ex.spacing || "";
      form.requestSubmit();
    } }, ex.title));
  }
  $("#unet-slice").addEventListener("input", drawUnetSlice);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const threshold = Number($("#unet-threshold").value).toFixed(2);
    const fields = [["model", "unet"], ["threshold", threshold]];
    if (panel.dataset.spacing) fields.push(["spacing", panel.dataset.spacing]);
    const fd = new FormData();
    for (const [k, v] of fields) fd.append(k, v);
    const files = Object.entries(unetFiles).filter(([, f]) => f);
    for (const [mod, f] of files) fd.append(mod, f, f.name);
    const flair = unetFiles.flair;
    run(panel, {
      form: fd, curl: curlForm(fields, files.map(([mod, f]) => [mod, f.name])),
      render: async (out) => {
        const stats = [["kind", out.kind], ["shape", out.shape.join(" × ")], ["threshold", out.threshold],
          [out.kind === "volume" ? "tumour voxels" : "tumour pixels", out.tumour_pixels],
          ["max probability", out.max_probability.toFixed(4)]];
        if (out.area_mm2 !== null && out.area_mm2 !== undefined) stats.push(["area", `${out.area_mm2.toFixed(1)} mm²`]);
        if (out.volume_mm3 !== null && out.volume_mm3 !== undefined) stats.push(["volume", `${out.volume_mm3.toFixed(1)} mm³`]);
        $("#unet-stats").replaceChildren(...stats.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { "data-k": k, text: String(v) })]));
        const download = $("#unet-download");
        if (out.kind === "slice") {
          unetView = null;
          $("#unet-overlay").src = pngUrl(out.overlay_png);
          $("#unet-overlay").dataset.mask = out.mask_png;
          $("#unet-overlay").hidden = false;
          $("#unet-canvas").hidden = true;
          $("#unet-volume-controls").hidden = true;
          download.hidden = true;
        } else {
          const maskBytes = Uint8Array.from(atob(out.mask_nifti), (c) => c.charCodeAt(0));
          const mask = await NIfTI.read(maskBytes);
          let vol = mask;
          try { if (flair) vol = await NIfTI.read(await flair.arrayBuffer()); } catch { vol = mask; }
          const canvas = $("#unet-canvas");
          canvas.width = vol.ny; canvas.height = vol.nx;
          unetView = { vol, mask, win: NIfTI.window(vol.data), areas: out.slice_areas_pixels, areasMm: out.slice_areas_mm2 };
          const slider = $("#unet-slice");
          slider.max = String(vol.nz - 1);
          const biggest = out.slice_areas_pixels.indexOf(Math.max(...out.slice_areas_pixels));
          slider.value = String(biggest >= 0 ? biggest : Math.floor(vol.nz / 2));
          $("#unet-overlay").hidden = true;
          canvas.hidden = false;
          $("#unet-volume-controls").hidden = false;
          download.href = `data:application/gzip;base64,${out.mask_nifti}`;
          download.download = `${(flair && flair.name.replace(/(_flair)?\.nii(\.gz)?$/i, "")) || "scan"}_mask.nii.gz`;
          download.hidden = false;
        }
        $("#unet-result").hidden = false;
        drawUnetSlice();
      },
    });
  });
}

// ---------------------------------------------------------------- SRGAN
let srFile = null;

function setupZoom() {
  const imgs = [$("#sr-bicubic"), $("#sr-sr")];
  const zooms = [$("#sr-zoom-bicubic"), $("#sr-zoom-sr")];
  const CROP = 64; // output pixels shown in each 256 px zoom canvas (x4 on screen)
  const draw = (fx, fy) => {
    imgs.forEach((img, i) => {
      if (!img.naturalWidth) return;
      const w = img.naturalWidth, h = img.naturalHeight, c = Math.min(CROP, w, h);
      const sx = Math.round(Math.min(Math.max(fx * w - c / 2, 0), w - c));
      const sy = Math.round(Math.min(Math.max(fy * h - c / 2, 0), h - c));
      const ctx = zooms[i].getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, 256, 256);
      ctx.drawImage(img, sx, sy, c, c, 0, 0, 256, 256);
      const lens = img.parentElement.querySelector(".lens");
      const r = img.getBoundingClientRect(), scale = r.width / w;
      Object.assign(lens.style, { left: `${sx * scale}px`, top: `${sy * scale}px`, width: `${c * scale}px`, height: `${c * scale}px`, display: "block" });
    });
  };
  for (const img of imgs) {
    img.addEventListener("pointermove", (e) => {
      const r = img.getBoundingClientRect();
      draw((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
    });
    img.addEventListener("load", () => draw(0.5, 0.4));
  }
}

function setupSrgan() {
  const panel = $("#panel-srgan");
  const form = $("#sr-form");
  const pick = (file) => { srFile = file; setPreview($("#sr-preview"), file, $("#sr-drop")); };
  wireDrop($("#sr-drop"), $("#sr-file"), pick);
  for (const ex of state.examples.srgan || []) {
    $("#sr-examples").append(thumbButton(ex, async () => { pick(await fetchExample(ex.file)); form.requestSubmit(); }));
  }
  setupZoom();
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fd = new FormData();
    fd.append("model", "srgan");
    fd.append("compare", "true");
    if (srFile) fd.append("image", srFile, srFile.name);
    run(panel, {
      form: fd, curl: curlForm([["model", "srgan"], ["compare", "true"]], srFile ? [["image", srFile.name]] : []),
      render: (out) => {
        $("#sr-bicubic").src = pngUrl(out.bicubic_png);
        $("#sr-sr").src = pngUrl(out.image_png);
        $("#sr-size").textContent = `${out.input_width}×${out.input_height} → ${out.width}×${out.height} px`;
        $("#sr-tiles").textContent = out.tiles > 1
          ? `Tiled: the input's longer side is above 800 px, so it was cut into ${out.tiles} overlapping tiles, sent as one batch and blended without seams.`
          : "One pass: the whole image went through the generator at once (tiling starts above 800 px).";
        $("#sr-tiles").dataset.tiles = String(out.tiles);
        $("#sr-result").hidden = false;
      },
    });
  });
}

// --------------------------------------------------------- text to image
function setupText2image() {
  const panel = $("#panel-text2image");
  const form = $("#t2i-form");
  $("#t2i-caption").value = (state.examples.text2image || [{ caption: "" }])[0].caption;
  for (const ex of state.examples.text2image || []) {
    $("#t2i-examples").append(el("button", { type: "button", class: "example",
      onclick: () => { $("#t2i-caption").value = ex.caption; form.requestSubmit(); } }, ex.title));
  }
  $("#t2i-n").addEventListener("input", (e) => ($("#t2i-n-v").textContent = e.target.value));
  $("#t2i-dice").addEventListener("click", () => ($("#t2i-seed").value = String(Math.floor(Math.random() * 1e9))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const inputs = { caption: $("#t2i-caption").value, n: Number($("#t2i-n").value) };
    const seed = $("#t2i-seed").value.trim();
    if (seed !== "") inputs.seed = Number(seed);
    const body = { model: "text2image", inputs };
    run(panel, {
      body, curl: curlJson(body),
      render: (out) => {
        $("#t2i-grid").replaceChildren(...out.images.map((b64, i) => el("img", { src: pngUrl(b64), alt: `image ${i + 1}`, title: `image ${i + 1}` })));
        $("#t2i-seed-note").textContent = `seed ${out.seed}`;
        $("#t2i-seed").value = String(out.seed);
        const unknown = new Set(out.unknown_words);
        $("#t2i-tokens").replaceChildren(...out.tokens.map((t) => el("span", { class: unknown.has(t) ? "tok unk" : "tok" }, t)));
        const warn = $("#t2i-unknown");
        warn.hidden = !out.unknown_words.length;
        warn.textContent = out.unknown_words.length ? `Unknown words (read as <UNK>): ${out.unknown_words.join(", ")}` : "";
        $("#t2i-result").hidden = false;
      },
    });
  });
}

// ---------------------------------------------------------------- start
async function main() {
  const saved = sessionStorage.getItem("playground-api-key");
  if (saved) $("#api-key").value = saved;
  $("#api-key").addEventListener("change", () => sessionStorage.setItem("playground-api-key", apiKey()));
  for (const b of $$(".tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  try {
    state.examples = await (await fetch("playground/examples/index.json")).json();
  } catch { state.examples = {}; }
  setupAntispam();
  setupClassifier();
  setupUnet();
  setupSrgan();
  setupText2image();
  const fromHash = () => { const tab = location.hash.slice(1); showTab(FAMILY_TAB[tab] ? tab : "antispam"); };
  window.addEventListener("hashchange", fromHash);
  fromHash();
  await refreshModels();
  setInterval(refreshModels, 5000);
  document.body.dataset.ready = "true";
}

main();
