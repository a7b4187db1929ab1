"""The playground page in a real headless Chromium against a real stack (tests/playground/conftest.py).

For every family: load the page, submit a bundled example as a person would (click it), wait for the result,
and check that what the page shows is what the API answers for the same input, sent here with httpx. The
equivalent `curl` the page prints is run as shown, and must answer the same. After each test no request may
have left the gateway (Chrome's network log). A screenshot of each family's panel is saved under
reports/playground/ (PLAYGROUND_SCREENSHOTS overrides); the paths are printed.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest

from gateway.api.routes.playground import STATIC_DIR
from tests.playground.conftest import MAX_BODY_BYTES, save_screenshot

EXAMPLES = STATIC_DIR / "examples"
INDEX = json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8"))
RESULT_TIMEOUT_S = 180  # a loaded 2-core CI machine; the wait ends as soon as the result is there


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


@pytest.fixture(scope="module")
def api(stack) -> httpx.Client:
    with httpx.Client(base_url=stack.url, timeout=120.0) as c:
        yield c


def open_tab(driver, url: str, tab: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")  # a new load even when only the #fragment differs from the current page
    driver.get(f"{url}/#{tab}")
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    panel = driver.find_element(By.ID, f"panel-{tab}")
    assert panel.is_displayed()
    return panel


def click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def wait_result(driver, panel, expect: str = "done") -> None:
    """Until the panel's call has finished; a failed call shows its error card's text in the assertion."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, RESULT_TIMEOUT_S, poll_frequency=0.2).until(lambda d: panel.get_attribute("data-state") in ("done", "error"))
    state = panel.get_attribute("data-state")
    if state != expect:
        cards = panel.find_elements(By.CSS_SELECTOR, ".call .card")
        pytest.fail(f"panel {panel.get_attribute('id')} ended {state!r}, expected {expect!r}: {cards[0].text if cards else '(no card)'}")


def call_details(panel) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    card = panel.find_element(By.CSS_SELECTOR, ".call .call-card")
    get = lambda k: card.find_element(By.CSS_SELECTOR, f"[data-k='{k}']").text  # noqa: E731
    stages = {s.get_attribute("data-stage"): s.text for s in card.find_elements(By.CSS_SELECTOR, "[data-stage]")}
    return {"model": get("model"), "version": get("version"), "label": get("label"), "request_id": get("request-id"),
            "curl": card.find_element(By.CSS_SELECTOR, "pre").get_attribute("textContent"), "stages": stages}


def check_call(panel, model: str, stack) -> dict[str, str]:
    """The call box: the version that answered, its label, the request id, the latency split, the curl."""
    from selenium.webdriver.common.by import By

    d = call_details(panel)
    assert d["model"] == model and d["version"] == "version 1"
    assert d["label"] == "no label (latest)"  # the test repository sets no label
    assert re.fullmatch(r"[0-9a-f]{32}", d["request_id"]), d["request_id"]
    assert set(d["stages"]) == {"preprocess", "backend", "postprocess", "total"}
    assert all(re.search(r"\d ms$", v) for v in d["stages"].values()), d["stages"]
    segments = panel.find_elements(By.CSS_SELECTOR, ".call .timing-bar .seg")
    assert [s.get_attribute("class").split()[1] for s in segments] == ["preprocess", "backend", "postprocess"]
    assert all(float(s.value_of_css_property("width")[:-2]) > 0 for s in segments)  # the bar is drawn
    assert d["curl"].startswith(f"curl -s '{stack.url}/predict'"), d["curl"]
    return d


def run_curl(command: str, cwd: Path) -> dict:
    """The page's curl command, run by bash exactly as a user would paste it."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def multipart(api: httpx.Client, fields: dict[str, str], files: dict[str, Path]) -> httpx.Response:
    return api.post("/predict", data=fields, files={k: (p.name, p.read_bytes()) for k, p in files.items()})


# ------------------------------------------------------------------ families
def test_antispam(page, stack, api, screenshot_dir, tmp_path):
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "antispam")
    example = INDEX["antispam"][0]
    click(page, panel.find_elements(By.CSS_SELECTOR, "#as-examples button")[0])
    wait_result(page, panel)
    answer = api.post("/predict", json={"model": "antispam", "inputs": {"text": example["text"], "debug": True}}).json()["outputs"]
    assert panel.find_element(By.ID, "as-label").text == answer["label"].upper()
    assert panel.find_element(By.ID, "as-prob").text == pct(answer["spam_probability"])
    tokens = panel.find_elements(By.CSS_SELECTOR, "#as-tokens .tok")
    assert [t.text for t in tokens] == answer["tokens"]
    marked = [t.text for t in tokens if "unk" in t.get_attribute("class").split()]
    assert marked == [t for t in answer["tokens"] if t in set(answer["unknown_tokens"])]
    d = check_call(panel, "antispam", stack)
    assert run_curl(d["curl"], tmp_path)["outputs"]["label"] == answer["label"]
    save_screenshot(page, screenshot_dir, "antispam")


@pytest.mark.parametrize("model", ["vgg16", "inception_v3"])
def test_classifier(page, stack, api, screenshot_dir, tmp_path, model):
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "classifier")
    click(page, panel.find_element(By.CSS_SELECTOR, f"#cls-models input[value='{model}'] + span"))
    example = INDEX["classifier"][0]
    click(page, panel.find_elements(By.CSS_SELECTOR, "#cls-examples .thumb")[0])
    wait_result(page, panel)
    path = EXAMPLES / example["file"]
    answer = multipart(api, {"model": model, "top_k": "5"}, {"image": path}).json()["outputs"]["predictions"][0]["top_k"]
    rows = panel.find_elements(By.CSS_SELECTOR, "#cls-topk-list li")
    shown = [(r.find_element(By.CSS_SELECTOR, "[data-k=label]").text, r.find_element(By.CSS_SELECTOR, "[data-k=probability]").text) for r in rows]
    assert shown == [(p["label"], pct(p["probability"])) for p in answer]
    widths = [r.find_element(By.CSS_SELECTOR, ".bar span").value_of_css_property("width") for r in rows]
    full = rows[0].find_element(By.CSS_SELECTOR, ".bar").value_of_css_property("width")
    assert [round(float(w[:-2]) / float(full[:-2]), 2) for w in widths] == [round(p["probability"], 2) for p in answer]
    assert panel.find_element(By.ID, "cls-preview").is_displayed()
    d = check_call(panel, model, stack)
    shutil.copy(path, tmp_path / path.name)
    assert run_curl(d["curl"], tmp_path)["outputs"]["predictions"][0]["top_k"] == answer
    save_screenshot(page, screenshot_dir, f"classifier-{model}")


def test_unet_slice(page, stack, api, screenshot_dir):
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "unet")
    example = next(e for e in INDEX["unet"] if e["kind"] == "slice")
    click(page, panel.find_element(By.CSS_SELECTOR, "#unet-examples button[data-kind=slice]"))
    wait_result(page, panel)
    fields = {"model": "unet", "threshold": "0.50", "spacing": example["spacing"]}
    answer = multipart(api, fields, {m: EXAMPLES / p for m, p in example["files"].items()}).json()["outputs"]
    overlay = panel.find_element(By.ID, "unet-overlay")
    assert overlay.is_displayed()
    assert overlay.get_attribute("src") == "data:image/png;base64," + answer["overlay_png"]
    assert overlay.get_attribute("data-mask") == answer["mask_png"]
    assert panel.find_element(By.CSS_SELECTOR, "#unet-stats [data-k='tumour pixels']").text == str(answer["tumour_pixels"])
    check_call(panel, "unet", stack)
    save_screenshot(page, screenshot_dir, "unet-slice")


def test_unet_volume(page, stack, api, screenshot_dir):
    import nibabel as nib
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "unet")
    example = next(e for e in INDEX["unet"] if e["kind"] == "volume")
    click(page, panel.find_element(By.CSS_SELECTOR, "#unet-examples button[data-kind=volume]"))
    wait_result(page, panel)
    answer = multipart(api, {"model": "unet", "threshold": "0.50"}, {m: EXAMPLES / p for m, p in example["files"].items()}).json()["outputs"]
    assert answer["kind"] == "volume"
    nx, ny, nz = answer["shape"]
    slider = panel.find_element(By.ID, "unet-slice")
    assert slider.is_displayed() and slider.get_attribute("max") == str(nz - 1)

    def read_mask(b64: str) -> np.ndarray:
        img = nib.Nifti1Image.from_bytes(gzip.decompress(base64.b64decode(b64)))
        return np.asarray(img.dataobj)

    href = panel.find_element(By.ID, "unet-download").get_attribute("href")
    assert href.startswith("data:application/gzip;base64,")
    mask = read_mask(href.partition(",")[2])
    assert np.array_equal(mask, read_mask(answer["mask_nifti"]))
    assert panel.find_element(By.CSS_SELECTOR, "#unet-stats [data-k='tumour voxels']").text == str(answer["tumour_pixels"])
    # every slice the slider reaches draws exactly its mask voxels in red over the FLAIR
    count_red = "const c = document.getElementById('unet-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;" \
                "let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] - d[i + 1] > 40) n++; return [c.width, c.height, n];"
    for k in sorted({0, nz // 2, int(np.argmax(answer["slice_areas_pixels"]))}):
        page.execute_script("const s = document.getElementById('unet-slice'); s.value = arguments[0]; s.dispatchEvent(new Event('input'));", k)
        width, height, red = page.execute_script(count_red)
        assert (height, width) == (nx, ny)
        assert red == int((mask[:, :, k] > 0).sum()) == answer["slice_areas_pixels"][k]
    check_call(panel, "unet", stack)
    save_screenshot(page, screenshot_dir, "unet-volume")


def test_srgan(page, stack, api, screenshot_dir):
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "srgan")
    example = INDEX["srgan"][0]
    click(page, panel.find_elements(By.CSS_SELECTOR, "#sr-examples .thumb")[0])
    wait_result(page, panel)
    answer = multipart(api, {"model": "srgan", "compare": "true"}, {"image": EXAMPLES / example["file"]}).json()["outputs"]
    assert panel.find_element(By.ID, "sr-sr").get_attribute("src") == "data:image/png;base64," + answer["image_png"]
    assert panel.find_element(By.ID, "sr-bicubic").get_attribute("src") == "data:image/png;base64," + answer["bicubic_png"]
    size = f"{answer['input_width']}×{answer['input_height']} → {answer['width']}×{answer['height']} px"
    assert panel.find_element(By.ID, "sr-size").text == size
    assert panel.find_element(By.ID, "sr-tiles").get_attribute("data-tiles") == str(answer["tiles"])
    # the synced zoomed crops are drawn (not blank) in both canvases
    for cid in ("sr-zoom-bicubic", "sr-zoom-sr"):
        lit = page.execute_script("const d = document.getElementById(arguments[0]).getContext('2d').getImageData(0, 0, 256, 256).data;"
                                  "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;", cid)
        assert lit == 256 * 256, cid
    check_call(panel, "srgan", stack)
    save_screenshot(page, screenshot_dir, "srgan")


def test_text2image(page, stack, api, screenshot_dir, tmp_path):
    from selenium.webdriver.common.by import By

    panel = open_tab(page, stack.url, "text2image")
    caption = "the petals on this flower are zorbly white with a yellow center"  # one word the model cannot know
    box = panel.find_element(By.ID, "t2i-caption")
    box.clear()
    box.send_keys(caption)
    click(page, panel.find_element(By.ID, "t2i-submit"))
    wait_result(page, panel)
    answer = api.post("/predict", json={"model": "text2image", "inputs": {"caption": caption, "n": 4, "seed": 42}}).json()["outputs"]
    shown = [img.get_attribute("src") for img in panel.find_elements(By.CSS_SELECTOR, "#t2i-grid img")]
    assert shown == ["data:image/png;base64," + b for b in answer["images"]]
    tokens = panel.find_elements(By.CSS_SELECTOR, "#t2i-tokens .tok")
    assert [t.text for t in tokens] == answer["tokens"]
    assert [t.text for t in tokens if "unk" in t.get_attribute("class").split()] == answer["unknown_words"] == ["zorbly"]
    assert "zorbly" in panel.find_element(By.ID, "t2i-unknown").text
    d = check_call(panel, "text2image", stack)
    assert run_curl(d["curl"], tmp_path)["outputs"]["images"] == answer["images"]
    # a bundled example caption, clicked
    click(page, panel.find_elements(By.CSS_SELECTOR, "#t2i-examples button")[0])
    wait_result(page, panel)  # the click set the panel's state to running before it returned
    assert len(panel.find_elements(By.CSS_SELECTOR, "#t2i-grid img")) == 4
    save_screenshot(page, screenshot_dir, "text2image")


def test_model_list(page, stack, api):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(page, stack.url, "antispam")
    models = api.get("/models").json()["models"]
    WebDriverWait(page, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model-list .model-card")) == len(models))
    for m in models:
        card = page.find_element(By.CSS_SELECTOR, f"#model-list .model-card[data-model='{m['name']}']")
        assert card.find_element(By.CSS_SELECTOR, "[data-k=status]").text.lower() == m["status"]
        assert card.find_element(By.CSS_SELECTOR, "[data-k=served]").text == "serving v" + ", v".join(map(str, m["served_versions"]))
    assert {m["name"] for m in models} >= {"antispam", "vgg16", "inception_v3", "unet", "srgan", "text2image"}
    # a card opens its family's panel
    click(page, page.find_element(By.CSS_SELECTOR, "#model-list .model-card[data-model='inception_v3']"))
    assert page.find_element(By.ID, "panel-classifier").is_displayed()
    assert page.find_element(By.CSS_SELECTOR, "#cls-models input[value='inception_v3']").is_selected()


# --------------------------------------------------------------- bad uploads
def error_card(panel) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    card = panel.find_element(By.CSS_SELECTOR, ".call .error-card")
    get = lambda k: card.find_element(By.CSS_SELECTOR, f"[data-k='{k}']").text  # noqa: E731
    return {"status": get("status"), "code": get("code"), "message": get("message")}


def upload_and_fail(page, panel, input_css: str, path: Path, submit_id: str) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    page.execute_script("arguments[0].dataset.state = 'idle'", panel)
    panel.find_element(By.CSS_SELECTOR, input_css).send_keys(str(path))
    click(page, panel.find_element(By.ID, submit_id))
    wait_result(page, panel, expect="error")
    return error_card(panel)


def test_bad_uploads_show_the_gateways_error(page, stack, api, tmp_path, screenshot_dir):
    panel = open_tab(page, stack.url, "classifier")
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n")
    shown = upload_and_fail(page, panel, "#cls-file", text, "cls-submit")
    r = multipart(api, {"model": "vgg16", "top_k": "5"}, {"image": text})
    assert r.status_code == 415
    assert shown == {"status": "HTTP 415", "code": r.json()["error"]["code"], "message": r.json()["error"]["message"]}

    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(MAX_BODY_BYTES + (MAX_BODY_BYTES >> 1)))
    shown = upload_and_fail(page, panel, "#cls-file", big, "cls-submit")
    r = multipart(api, {"model": "vgg16", "top_k": "5"}, {"image": big})
    assert r.status_code == 413 and shown["status"] == "HTTP 413" and shown["code"] == r.json()["error"]["code"]
    body_size = lambda m: re.sub(r"of \d+ bytes", "of N bytes", m)  # noqa: E731 (browser and httpx pick other boundaries)
    assert body_size(shown["message"]) == body_size(r.json()["error"]["message"]) and str(MAX_BODY_BYTES) in shown["message"]

    panel = open_tab(page, stack.url, "unet")
    corrupt = {}
    for mod in ("flair", "t1", "t1c", "t2"):
        corrupt[mod] = tmp_path / f"broken_{mod}.nii.gz"
        corrupt[mod].write_bytes(gzip.compress(b"\x5c\x01\x00\x00" + bytes(200)))  # a NIfTI header cut short
    from selenium.webdriver.common.by import By

    for mod, path in corrupt.items():
        panel.find_element(By.CSS_SELECTOR, f".mod input[data-mod='{mod}']").send_keys(str(path))
    page.execute_script("arguments[0].dataset.state = 'idle'", panel)
    click(page, panel.find_element(By.ID, "unet-submit"))
    wait_result(page, panel, expect="error")
    shown = error_card(panel)
    r = multipart(api, {"model": "unet", "threshold": "0.50"}, corrupt)
    assert 400 <= r.status_code < 500, r.text
    assert shown == {"status": f"HTTP {r.status_code}", "code": r.json()["error"]["code"], "message": r.json()["error"]["message"]}
    save_screenshot(page, screenshot_dir, "unet-error")


# ---------------------------------------------------------------------- docs
def test_docs_render_every_operation_offline(page, stack, api):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    spec = api.get("/openapi.json").json()
    operations = sorted((method.upper(), path) for path, item in spec["paths"].items() for method in item)
    assert ("POST", "/predict") in operations
    page.get(f"{stack.url}/docs")
    WebDriverWait(page, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operations))
    shown = sorted((b.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                    b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
                   for b in page.find_elements(By.CSS_SELECTOR, ".opblock"))
    assert shown == operations
    page.get(f"{stack.url}/redoc")
    WebDriverWait(page, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")) >= len(operations))


def test_labels_and_canary_share_are_shown(page, stack, api):
    """After the admin API labels a version and sets a canary share, the model card shows both and the call
    box names the labels of the version that answered (last test of the module: it changes the labels)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.gateway.gateway_process import ADMIN_TOKEN

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    model = "text2image"
    try:
        for label in ("stable", "canary"):
            r = api.put(f"/admin/models/{model}/labels/{label}", json={"version": 1}, headers=admin)
            assert r.status_code == 200, r.text
        r = api.put(f"/admin/models/{model}/canary", json={"share": 0.25}, headers=admin)
        assert r.status_code == 200, r.text
        WebDriverWait(page, 30).until(lambda _: api.get(f"/models/{model}").json()["canary_share"] == 0.25)
        panel = open_tab(page, stack.url, "text2image")
        card = page.find_element(By.CSS_SELECTOR, f"#model-list .model-card[data-model='{model}']")
        chips = {c.text for c in card.find_elements(By.CSS_SELECTOR, ".chip")}
        assert chips == {"stable → v1", "canary → v1", "canary share 25.0%"}
        click(page, panel.find_element(By.ID, "t2i-submit"))
        wait_result(page, panel)
        assert set(call_details(panel)["label"].split(", ")) == {"stable", "canary"}
    finally:
        api.put(f"/admin/models/{model}/canary", json={"share": 0.0}, headers=admin)
        for label in ("canary", "stable"):
            api.delete(f"/admin/models/{model}/labels/{label}", headers=admin)
