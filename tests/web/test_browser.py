"""The agent's page in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by selenium opens the page served by `recon web`, takes a token and an
order number, and the test reads the rendered timeline. It leaves a screenshot in
docs/lookup-page.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.lookup_bench import free_port, start_service, stop_service
from tests.web.conftest import bearer, config_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "lookup-page.png"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # without these, this closed network refuses it
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,1500",
    "--lang=zh-CN",
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium not found: install it with "
    "`apt-get install -y chromium chromium-driver` to run the browser test",
)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_the_page_shows_the_timeline(browser, web_demo, demo_run, client, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    key = web_demo.refs["DUPLICATE_DEBIT"][0]
    api = client.get("/api/v1/trace", params={"key": key}, headers=bearer(web_demo.service))
    (expected,) = api.json()["repayments"]
    port = free_port()
    proc = start_service(
        config_file(demo_run, web_demo.config.data_dir, tmp_path), port, web_demo.service
    )
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(browser, 30)
        wait.until(ready.visibility_of_element_located((By.ID, "token")))
        browser.find_element(By.ID, "token").send_keys(web_demo.service)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        wait.until(ready.visibility_of_element_located((By.ID, "key")))
        browser.find_element(By.ID, "key").send_keys(key)
        browser.find_element(By.ID, "go").click()
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "ol.timeline li.hop")))
        hops = browser.find_elements(By.CSS_SELECTOR, "ol.timeline li.hop")
        shown = [(h.get_attribute("data-hop"), h.get_attribute("data-status")) for h in hops]
        assert shown == [(h["hop"], h["status"]) for h in expected["hops"]]
        texts = [h.text for h in hops]
        assert texts[0].startswith("平台订单") and "完成" in texts[0]
        assert any("不符" in t and "重复扣款" in t for t in texts), "the second debit, in Chinese"
        colour = {
            h.get_attribute("data-status"): h.find_element(
                By.CSS_SELECTOR, ".badge"
            ).value_of_css_property("background-color")
            for h in hops
        }
        assert colour["done"] != colour["differs"], "each status has its colour"
        sentence = browser.find_element(By.CSS_SELECTOR, ".sentence").text
        assert expected["sentence"] in sentence and sentence.startswith("可告知借款人")
        row = browser.find_element(
            By.CSS_SELECTOR, "table.exceptions tr[data-type='DUPLICATE_DEBIT']"
        )
        assert (
            "重复扣款" in row.text and "尚未处理" in row.text
        )  # what finance decided: nothing yet
        assert (
            browser.execute_script("return sessionStorage.getItem('recon.web.token')")
            == web_demo.service
        )
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.find_element(By.TAG_NAME, "body").screenshot(str(SCREENSHOT))
        assert SCREENSHOT.stat().st_size > 10_000
        # a key that is nowhere: the API's message, as text
        field = browser.find_element(By.ID, "key")
        field.clear()
        field.send_keys("<img src=x onerror=alert(1)>")
        browser.find_element(By.ID, "go").click()
        wait.until(ready.text_to_be_present_in_element((By.ID, "message"), "查询内容格式不正确"))
        assert browser.find_elements(By.CSS_SELECTOR, "#results *") == []
        assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    finally:
        stop_service(proc)
