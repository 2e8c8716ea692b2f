"""The search page in real headless Chromium (Debian's chromium and chromium-driver, which `make test`
installs), driven by Selenium, against `newsdex web` running as a process on an index built by
`newsdex run` from the samples and a hostile document."""

from __future__ import annotations

import json
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import newsdex
from tests.conftest import ROOT, SAMPLES
from tests.webserver import HOSTILE_TITLE, hostile_inputs, web_server

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 30


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `newsdex web` over the samples and a hostile document."""
    tmp = tmp_path_factory.mktemp("page")
    hostile = hostile_inputs(tmp)
    result = newsdex("--data-dir", str(tmp / "data"), "run", "--quiet", str(SAMPLES), str(hostile), cwd=tmp)
    assert result.returncode == 0, result.stderr
    with web_server("--data-dir", str(tmp / "data"), cwd=tmp) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through chromium-driver (no driver or browser download)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            "the browser tests need chromium and chromedriver: `make test` installs them (make browser)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition)


def _hit_titles(driver: Any) -> list[str]:
    # Read in one script: the page redraws the list as answers come, so element handles go stale.
    return driver.execute_script(
        "return [...document.querySelectorAll('#results .hit .title')].map(a => a.textContent)"
    )


def _summary_count(driver: Any) -> int:
    text = driver.execute_script("return document.getElementById('summary').textContent")
    return int(text.split()[0]) if text[:1].isdigit() else 0


def _settled(driver: Any) -> None:
    """Wait until the page is not loading and has drawn its summary or a message."""
    _wait(
        driver,
        lambda d: d.execute_script(
            "return !document.body.classList.contains('loading') && "
            "(document.getElementById('summary').textContent !== '' || !document.getElementById('message').hidden "
            "|| !document.getElementById('doc-view').hidden)"
        ),
    )


def test_search_facet_article_and_back(site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/")
    _settled(browser)
    box = browser.find_element(By.ID, "q")
    box.send_keys("Ryabkov", Keys.ENTER)
    _wait(browser, lambda d: "q=Ryabkov" in d.current_url and _summary_count(d) == 5)
    everyone = _hit_titles(browser)
    assert len(everyone) == 5

    # The person facet narrows the hits and shows as a removable chip; the URL carries it.
    facet = browser.find_element(
        By.CSS_SELECTOR, '#facets a[data-facet="person"][data-value="Dmitry Peskov"]'
    )
    facet.click()
    _wait(browser, lambda d: "person=Dmitry+Peskov" in d.current_url and 0 < _summary_count(d) < 5)
    narrowed = _hit_titles(browser)
    assert 0 < len(narrowed) < len(everyone) and set(narrowed) <= set(everyone)
    chip = browser.find_element(By.CSS_SELECTOR, "#chips .chip")
    assert "Dmitry Peskov" in chip.text
    bookmark = browser.current_url

    # The article: the whole body, entities highlighted in it, the original URL.
    browser.find_element(By.CSS_SELECTOR, "#results .hit .title").click()
    _wait(browser, lambda d: "doc=" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".doc-body p"))
    # The article replaces the results on screen (not only in the DOM).
    assert browser.find_element(By.ID, "doc-view").is_displayed()
    assert not browser.find_element(By.ID, "search-view").is_displayed()
    marks = browser.find_elements(By.CSS_SELECTOR, ".doc-body mark.entity")
    kinds = {m.get_attribute("data-kind") for m in marks}
    names = {m.text for m in marks}
    assert {"person", "location"} <= kinds
    assert "Peskov" in " ".join(names)
    doc_id = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)["doc"][0]
    api = json.loads(
        browser.execute_script(
            "const r = new XMLHttpRequest(); r.open('GET', '/api/doc/' + encodeURIComponent(arguments[0]), false);"
            "r.send(); return r.responseText;",
            doc_id,
        )
    )
    body_text = browser.find_element(By.CSS_SELECTOR, ".doc-body").text
    last_paragraph = api["document"]["body"].strip().split("\n\n")[-1].strip()
    assert " ".join(last_paragraph.split()) in " ".join(body_text.split())

    # Back: the narrowed results again; back once more: the unfiltered search.
    browser.back()
    _wait(browser, lambda d: d.current_url == bookmark and _hit_titles(d) == narrowed)
    assert browser.find_element(By.ID, "search-view").is_displayed()
    assert not browser.find_element(By.ID, "doc-view").is_displayed()
    browser.back()
    _wait(browser, lambda d: "person=" not in d.current_url and _hit_titles(d) == everyone)

    # The bookmarked URL restores the state in a fresh load; the chip's × removes the filter.
    browser.get(bookmark)
    _wait(browser, lambda d: _hit_titles(d) == narrowed)
    browser.find_element(By.CSS_SELECTOR, "#chips .chip .remove").click()
    _wait(browser, lambda d: _hit_titles(d) == everyone)


def test_timeline_bars_filter_by_month(site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site + "/?q=Ryabkov")
    _settled(browser)
    bars = browser.find_elements(By.CSS_SELECTOR, '.timeline[data-facet="mentioned"] .bar')
    assert {b.get_attribute("data-month") for b in bars} >= {"1962-10"}
    before = _summary_count(browser)
    browser.find_element(
        By.CSS_SELECTOR, '.timeline[data-facet="mentioned"] .bar[data-month="1962-10"]'
    ).click()
    _wait(browser, lambda d: "mfrom=1962-10" in d.current_url and "mto=1962-10" in d.current_url)
    _wait(browser, lambda d: 0 < _summary_count(d) <= before)
    assert "mentions 1962-10" in browser.find_element(By.ID, "chips").text
    # Publication months: a bar, then a shift-click on another makes a range; the typed days too.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/?q=Ryabkov")
    _settled(browser)
    months = [
        b.get_attribute("data-month")
        for b in browser.find_elements(By.CSS_SELECTOR, '.timeline[data-facet="month"] .bar')
    ]
    assert months == ["2022-01", "2022-02"]
    browser.find_element(By.CSS_SELECTOR, '.timeline[data-facet="month"] .bar[data-month="2022-02"]').click()
    _wait(browser, lambda d: "from=2022-02&to=2022-02" in d.current_url and _summary_count(d) == 1)
    bar = browser.find_element(By.CSS_SELECTOR, '.timeline[data-facet="month"] .bar[data-month="2022-01"]')
    ActionChains(browser).key_down(Keys.SHIFT).click(bar).key_up(Keys.SHIFT).perform()
    _wait(browser, lambda d: "from=2022-01&to=2022-02" in d.current_url and _summary_count(d) == 2)
    assert "published 2022-01 – 2022-02" in browser.find_element(By.ID, "chips").text
    start = browser.find_element(By.CSS_SELECTOR, '.timeline[data-facet="month"] input[name="from"]')
    start.clear()
    start.send_keys("2022-01-20", Keys.ENTER)
    _wait(browser, lambda d: "from=2022-01-20&to=2022-02" in d.current_url and _summary_count(d) == 1)


def test_hostile_document_renders_as_text(site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site + "/?q=dossier")
    _wait(browser, lambda d: _summary_count(d) == 1)
    assert _hit_titles(browser) == [HOSTILE_TITLE]
    assert "+1 copy" in browser.find_element(By.CSS_SELECTOR, "#results .hit .copies").text
    # The duplicates toggle shows the copy too, and the URL says so.
    browser.find_element(By.ID, "dups").click()
    _wait(browser, lambda d: "dups=1" in d.current_url and _summary_count(d) == 2)
    assert _hit_titles(browser) == [HOSTILE_TITLE, HOSTILE_TITLE]
    browser.find_element(By.ID, "dups").click()
    _wait(browser, lambda d: "dups=1" not in d.current_url and _summary_count(d) == 1)
    assert not browser.find_elements(By.CSS_SELECTOR, "#results img, #results script")
    browser.find_element(By.CSS_SELECTOR, "#results .hit .title").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".doc-body p"))
    assert browser.find_element(By.CSS_SELECTOR, ".doc-title").text == HOSTILE_TITLE
    related = browser.find_element(By.CSS_SELECTOR, ".related").get_attribute("textContent")
    assert "Copies (1)" in related and "mirror.example" in related
    body = browser.find_element(By.CSS_SELECTOR, ".doc-body").text
    assert "<script>window.__pwned = 3</script>" in body and 'onerror="window.__pwned = 4"' in body
    assert not browser.find_elements(By.CSS_SELECTOR, "#doc-view img, #doc-view script, .doc-body a")
    assert browser.execute_script("return window.__pwned === undefined")


def test_bad_input_shows_a_clear_message(site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site + "/?q=" + "x" * 600)
    _wait(browser, lambda d: not d.find_element(By.ID, "message").get_attribute("hidden"))
    assert "at most 500" in browser.find_element(By.ID, "message").text
    browser.get(site + "/?q=" + urllib.parse.quote("Ryabkov* NEAR: Cuba"))
    _settled(browser)
    assert "not operators here" in browser.find_element(By.ID, "notice").text
    browser.get(site + "/?from=yesterday")
    _wait(browser, lambda d: "not a day" in d.find_element(By.ID, "message").text)
    browser.get(site + "/?doc=no-such-id")
    _wait(browser, lambda d: "no document with id" in d.find_element(By.ID, "message").text)


def test_a_page_with_no_index_says_run_first(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    with web_server("--data-dir", str(tmp_path / "none"), cwd=tmp_path) as (url, _):
        browser.get(url + "/")
        _wait(browser, lambda d: "no index yet" in d.find_element(By.ID, "message").text)
        assert "newsdex run" in browser.find_element(By.ID, "message").text


def test_screenshot_for_the_readme(site: str, browser: Any) -> None:
    """Keeps docs/web-page.png what the page looks like on the samples (`NEWSDEX_SCREENSHOT=1` rewrites it)."""
    import os

    from selenium.webdriver.common.by import By

    browser.get(site + "/?q=" + urllib.parse.quote("Ryabkov -dossier"))  # the samples only
    _wait(browser, lambda d: _summary_count(d) == 4)
    assert browser.find_elements(By.CSS_SELECTOR, "#facets .facet")
    target = ROOT / "docs" / "web-page.png"
    if os.environ.get("NEWSDEX_SCREENSHOT"):
        browser.save_screenshot(str(target))
    assert target.exists(), "docs/web-page.png: run this test with NEWSDEX_SCREENSHOT=1"


@pytest.fixture(scope="module")
def reuse_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `newsdex web` over an article and, indexed by a later run, one quoting it."""
    from tests.flows.test_passages import ORIGINAL, QUOTING

    tmp = tmp_path_factory.mktemp("reuse")
    for n, record in enumerate((ORIGINAL, QUOTING)):
        inbox = tmp / f"run{n}.jsonl"
        inbox.write_text(json.dumps(record) + "\n", encoding="utf-8")
        result = newsdex("--data-dir", str(tmp / "data"), "run", "--quiet", str(inbox), cwd=tmp)
        assert result.returncode == 0, result.stderr
    with web_server("--data-dir", str(tmp / "data"), cwd=tmp) as (url, _):
        yield url


def test_article_view_marks_shared_passages_with_links(reuse_site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    from tests.flows.test_passages import QUOTED

    browser.get(reuse_site + "/?q=" + urllib.parse.quote("container terminal"))
    _wait(browser, lambda d: _summary_count(d) == 2)
    browser.find_element(By.XPATH, "//a[@class='title'][contains(., 'Harbour approves')]").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".doc-body mark.shared"))
    # The passage is marked where it stands in the body, and listed with a link to the quoting article.
    marked = browser.find_element(By.CSS_SELECTOR, ".doc-body mark.shared")
    assert " ".join(marked.text.split()) == QUOTED
    listed = browser.find_elements(By.CSS_SELECTOR, ".shared-passage")
    assert len(listed) == 1 and QUOTED in " ".join(listed[0].text.split())
    link = listed[0].find_element(By.CSS_SELECTOR, "a.shared-doc")
    assert link.text == "Terminal jobs welcomed in the valley"
    link.click()
    # The other article shows the same link back to the first.
    _wait(
        browser,
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, ".doc-title")
            and d.find_element(By.CSS_SELECTOR, ".doc-title").text == "Terminal jobs welcomed in the valley"
        ),
    )
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".shared-passage a.shared-doc"))
    back = browser.find_element(By.CSS_SELECTOR, ".shared-passage a.shared-doc")
    assert back.text == "Harbour approves container terminal"
    assert "some 300 jobs" in browser.find_element(By.CSS_SELECTOR, ".doc-body mark.shared").text
