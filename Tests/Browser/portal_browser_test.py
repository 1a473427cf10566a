#!/usr/bin/env python3
"""Real-browser end-to-end test of the Recraftor Edge portal pages.

Drives headless Chromium (Debian's chromium + chromedriver, through selenium) against a running
`edgeproxy serve` in offline mode. scripts/browser-test.sh starts the server and runs this file; see
Tests/Browser/README.md for what is covered.

The steps run in order and share state (a user signs up, creates a key, is charged, ...). A failed
step fails the run; the steps that depend on it are reported as skipped. The last line is
"N passed, N failed, N skipped".
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path

import yaml
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WAIT_SECONDS = 15
PHONE_WIDTH = 390
# Pages known to overflow at phone width (product bugs reported, not fixable from the templates):
# they are reported as notes, and a note says when one stops overflowing. Any other page fails.
KNOWN_PHONE_OVERFLOW: set[str] = set()

# Runs in every document before the page's own scripts (through CDP, so the page's CSP does not
# apply to it): collects CSP violation reports and uncaught errors for check_clean().
PAGE_PROBE = r"""
(function () {
  window.__edgeTest = { csp: [], errors: [] };
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__edgeTest.csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
      ' in ' + (e.sourceFile || e.documentURI) + ':' + e.lineNumber);
  }, true);
  window.addEventListener('error', function (e) {
    if (e instanceof ErrorEvent) {
      window.__edgeTest.errors.push('uncaught: ' + e.message + ' @ ' + e.filename + ':' + e.lineno);
    } else if (e.target && e.target !== window) {
      var t = e.target;
      window.__edgeTest.errors.push('failed to load ' + t.tagName + ' ' + (t.src || t.href || ''));
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    window.__edgeTest.errors.push('unhandled rejection: ' + String(e.reason));
  });
})();
"""


class StepFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise StepFailure(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise StepFailure(f"{what}: expected {expected!r}, got {actual!r}")


def fmt_tokens(value):
    """PortalFormat.tokens: en-US grouping."""
    return f"{int(value):,}"


def op_label(name):
    """PortalFormat.operationLabel: raster_generation -> Raster generation."""
    spaced = name.replace("_", " ")
    return spaced[:1].upper() + spaced[1:]


# ---------------------------------------------------------------------------------------------
# The policy: expected plans and prices are read from it, never hard-coded.

class Policy:
    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        self.operations = {name: int(price) for name, price in data["operations"].items()}
        plans = data["plans"]
        self.default_plan = plans["default"]
        self.plans = {name: int(plan["monthly_tokens"]) for name, plan in plans["catalog"].items()}
        self.max_images = int(data["pricing"]["max_images"])
        self.security_headers = data.get("security_headers", {})

    @property
    def starting_tokens(self):
        return self.plans[self.default_plan]


# ---------------------------------------------------------------------------------------------
# A browser with console-log checks.

class Browser:
    def __init__(self, name, args, run):
        self.name = name
        self.run = run
        self.profile = tempfile.mkdtemp(prefix=f"chromium-profile-{name}-", dir=args.profile_root)
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--window-size=1280,900", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
                     "--disable-gpu", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--force-device-scale-factor=1",
                     "--lang=en-US", f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_log = run.out_dir / f"chromedriver-{name}.log"
        # Explicit driver and browser paths: selenium-manager is never asked to download anything.
        service = Service(executable_path=args.chromedriver, log_output=str(driver_log),
                          service_args=["--log-level=WARNING"])
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(15)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_PROBE})
        self.desktop_viewport()
        self.base = args.base_url
        self.origin = args.base_url.rstrip("/")
        # Clipboard access for the Copy button check (granted only to the portal's origin).
        try:
            self.driver.execute_cdp_cmd("Browser.grantPermissions", {
                "origin": self.origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        except WebDriverException as error:
            run.note(f"{name}: could not grant clipboard permissions: {error.msg}")

    def desktop_viewport(self):
        """A 1280 x 900 viewport (headless Chromium's window size includes room for its toolbar)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def phone_viewport(self):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True})

    def horizontal_overflow(self):
        """None when the page fits the viewport's width, else what sticks out."""
        sizes = self.driver.execute_script(
            "return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,"
            " clientWidth: document.documentElement.clientWidth, bodyScrollWidth: document.body.scrollWidth};")
        if max(sizes["scrollWidth"], sizes["bodyScrollWidth"], sizes["innerWidth"]) <= PHONE_WIDTH:
            return None
        # What sticks out and is not clipped by a scrolling ancestor (an absolutely positioned element
        # escapes the overflow of ancestors that are not positioned, so it counts anyway).
        culprits = self.driver.execute_script("""
            var limit = document.documentElement.clientWidth + 1, out = [];
            function clipped(el) {
              if (getComputedStyle(el).position === 'absolute') return false;
              for (var a = el.parentElement; a && a !== document.body; a = a.parentElement) {
                if (getComputedStyle(a).overflowX !== 'visible') return true;
              }
              return false;
            }
            document.querySelectorAll('body *').forEach(function (el) {
              var r = el.getBoundingClientRect();
              if (r.right > limit && out.length < 6 && !clipped(el)) out.push('<' + el.tagName.toLowerCase()
                + (el.className && typeof el.className === 'string' ? ' class="' + el.className + '"' : '')
                + '> right=' + Math.round(r.right) + ' position=' + getComputedStyle(el).position);
            });
            return out;""")
        return f"{sizes}; widest: {culprits}"

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        shutil.rmtree(self.profile, ignore_errors=True)

    # --- navigation helpers

    def get(self, path):
        self.driver.get(self.origin + path)
        self.wait_ready()

    def wait_ready(self):
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete", "the page to load")

    def wait(self, condition, what, timeout=WAIT_SECONDS):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except TimeoutException:
            raise StepFailure(f"[{self.name}] timed out after {timeout} s waiting for {what} "
                              f"(at {self.driver.current_url})") from None

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def query(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.driver.current_url).query)

    def wait_path(self, path):
        self.wait(lambda d: urllib.parse.urlsplit(d.current_url).path == path, f"the browser to reach {path}")
        self.wait_ready()

    def one(self, css, root=None):
        elements = (root or self.driver).find_elements(By.CSS_SELECTOR, css)
        check(len(elements) >= 1, f"[{self.name}] no element matches {css!r} on {self.path()}")
        return elements[0]

    def all(self, css, root=None):
        return (root or self.driver).find_elements(By.CSS_SELECTOR, css)

    def text(self, css, root=None):
        return self.one(css, root).text.strip()

    def wait_text(self, css, predicate, what):
        def probe(driver):
            elements = driver.find_elements(By.CSS_SELECTOR, css)
            if not elements:
                return False
            text = elements[0].text.strip()
            return text if predicate(text) else False
        return self.wait(probe, what)

    def type_into(self, css, value, root=None):
        field = self.one(css, root)
        field.clear()
        field.send_keys(value)
        return field

    def nav(self, label):
        links = [a for a in self.all("nav.site-nav a") if a.text.strip() == label]
        check(links, f"[{self.name}] no navigation link {label!r} on {self.path()}")
        links[0].click()

    def screenshot(self, name, full_page=False):
        path = self.run.out_dir / f"{name}.png"
        if full_page:
            # The whole page, not only the viewport (CDP: Selenium's Chrome driver has no such option).
            width, height = self.driver.execute_script(
                "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]")
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 4000), "scale": 1}})
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            check(self.driver.save_screenshot(str(path)), f"could not save the screenshot {path}")
        self.run.screenshots.append(path)
        return path

    # --- console and CSP checks

    def check_clean(self, context, allow=()):
        """Fails on any CSP violation, JS error or unexpected console error/warning since the last call.

        allow: regular expressions for console messages that are expected here (e.g. the 401 of a
        wrong password).
        """
        problems = []
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            level = entry.get("level", "")
            source = entry.get("source", "")
            self.run.console.append(f"[{self.name}] {level} {source} {message}")
            csp = "Content Security Policy" in message or "Content-Security-Policy" in message
            if any(re.search(pattern, message) for pattern in allow) and not csp:
                continue
            if csp or level == "SEVERE" or (level == "WARNING" and source in ("javascript", "security", "network")):
                problems.append(f"console {level} ({source}): {message}")
        try:
            probe = self.driver.execute_script("return window.__edgeTest || null")
        except WebDriverException:
            probe = None
        if probe:
            problems += [f"CSP violation: {item}" for item in probe.get("csp", [])]
            problems += [f"page error: {item}" for item in probe.get("errors", [])]
            self.driver.execute_script("window.__edgeTest.csp = []; window.__edgeTest.errors = [];")
        check(not problems, f"[{self.name}] {context}: " + "; ".join(problems))

    # --- accessibility smoke checks

    def check_labels(self, context):
        """Every visible form control has an accessible name from a <label> (or aria-label[ledby])."""
        unlabeled = self.driver.execute_script("""
            var bad = [];
            document.querySelectorAll('input, select, textarea').forEach(function (el) {
              if (el.type === 'hidden' || el.closest('template')) return;
              var named = (el.labels && el.labels.length > 0 && el.labels[0].textContent.trim() !== '')
                || (el.getAttribute('aria-label') || '').trim() !== '' || el.hasAttribute('aria-labelledby');
              if (!named) bad.push(el.outerHTML.slice(0, 120));
            });
            return bad;""")
        check(not unlabeled, f"[{self.name}] {context}: form controls without a label: {unlabeled}")
        basics = self.driver.execute_script("""
            return {
              lang: document.documentElement.getAttribute('lang'),
              h1: document.querySelectorAll('h1').length,
              main: document.querySelectorAll('main').length,
              skip: !!document.querySelector('a.skip-link[href="#main"]'),
              imgNoAlt: Array.from(document.images).filter(function (i) { return !i.hasAttribute('alt'); }).length,
              title: document.title
            };""")
        check(basics["lang"], f"{context}: <html> has no lang")
        check_equal(basics["h1"], 1, f"{context}: number of <h1>")
        check_equal(basics["main"], 1, f"{context}: number of <main>")
        check(basics["skip"], f"{context}: no skip link to #main")
        check_equal(basics["imgNoAlt"], 0, f"{context}: images without alt")
        check(basics["title"].endswith("· Recraftor"), f"{context}: odd title {basics['title']!r}")

    def active_element_description(self):
        return self.driver.execute_script(
            "var e = document.activeElement; return e ? (e.tagName + '#' + e.id + ' ' + (e.textContent || '').trim().slice(0, 40)) : ''")


# ---------------------------------------------------------------------------------------------
# The run: ordered steps with shared state.

class Run:
    def __init__(self, args):
        self.args = args
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out_dir = Path(args.out_dir) if args.out_dir else HERE / "out" / stamp
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.policy = Policy(args.policy)
        self.screenshots = []
        self.console = []
        self.notes = []
        self.results = []  # (name, status, detail)
        self.state = {}
        self.browsers = []
        suffix = secrets.token_hex(4)
        self.user_email = f"ada.{suffix}@example.test"
        self.user_name = "Ada Lovelace"
        self.user_password = "correct horse battery " + suffix
        self.admin_email = f"grace.{suffix}@example.test"
        self.admin_password = "admin staple battery " + suffix
        self.ssl_context = ssl.create_default_context()
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE  # the edge's self-signed development certificate
        host = urllib.parse.urlsplit(args.base_url)
        self.host, self.port = host.hostname, host.port

    def note(self, text):
        self.notes.append(text)
        print(f"   note: {text}", flush=True)

    def browser(self, name):
        browser = Browser(name, self.args, self)
        self.browsers.append(browser)
        return browser

    def step(self, name, function, needs=()):
        failed_needs = [need for need in needs if self.state.get(f"ok:{need}") is not True]
        if failed_needs:
            self.results.append((name, "skipped", f"needs {', '.join(failed_needs)}"))
            print(f"SKIP {name} (needs {', '.join(failed_needs)})", flush=True)
            return
        started = time.monotonic()
        print(f"---- {name}", flush=True)
        try:
            function(self)
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the run goes on
            elapsed = time.monotonic() - started
            detail = str(error) if isinstance(error, StepFailure) else "".join(
                traceback.format_exception(type(error), error, error.__traceback__)).strip()
            self.results.append((name, "failed", detail))
            self.state[f"ok:{name}"] = False
            print(f"FAIL {name} ({elapsed:.1f} s): {detail}", flush=True)
            for browser in self.browsers:
                try:
                    browser.screenshot(f"FAILED-{name}-{browser.name}")
                except Exception:  # noqa: BLE001
                    pass
            return
        self.state[f"ok:{name}"] = True
        self.results.append((name, "passed", ""))
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)

    # --- HTTP without a browser

    def http(self, method, path, cookie=None, body=None, headers=None):
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.ssl_context, timeout=15)
        try:
            all_headers = {"Accept": "text/html"}
            if cookie:
                all_headers["Cookie"] = cookie
            all_headers.update(headers or {})
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def curl_generation(self, key, prompt):
        with tempfile.TemporaryDirectory() as folder:
            headers_file, body_file = Path(folder, "headers"), Path(folder, "body")
            result = subprocess.run(
                ["curl", "-sk", "--max-time", "30", "-D", str(headers_file), "-o", str(body_file),
                 "-w", "%{http_code}", "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
                 "-d", json.dumps({"prompt": prompt}), f"{self.args.base_url}/v1/images/generations"],
                capture_output=True, text=True, timeout=45)
            check(result.returncode == 0, f"curl failed ({result.returncode}): {result.stderr}")
            return int(result.stdout.strip() or 0), headers_file.read_text(), body_file.read_text()

    def edgeproxy(self, *arguments, stdin=""):
        environment = dict(os.environ, EDGE_DATA_DIR=self.args.data_dir)
        result = subprocess.run([self.args.edgeproxy, *arguments, "--data-dir", self.args.data_dir,
                                 "--config", self.args.policy],
                                input=stdin, capture_output=True, text=True, timeout=60, env=environment, cwd=REPO)
        check(result.returncode == 0, f"edgeproxy {' '.join(arguments)} failed ({result.returncode}): "
                                      f"{result.stdout}{result.stderr}")
        return result.stdout


# ---------------------------------------------------------------------------------------------
# Steps of the user's flow (browser "user").

def stat_value(browser, label):
    """The value of a dashboard stat by its <dt> label."""
    for stat in browser.all("dl.stats .stat"):
        if stat.find_element(By.TAG_NAME, "dt").get_attribute("textContent").strip() == label:
            return stat.find_element(By.CSS_SELECTOR, ".stat-value").get_attribute("textContent").strip()
    raise StepFailure(f"no stat {label!r} on the dashboard")


def history_rows(browser):
    rows = []
    for row in browser.all("[data-history-rows] tr"):
        cells = row.find_elements(By.TAG_NAME, "td")
        memo = row.find_elements(By.CSS_SELECTOR, ".memo")
        memo_text = memo[0].get_attribute("textContent").strip() if memo else ""
        operation = cells[0].get_attribute("textContent").strip()
        if memo_text and operation.endswith(memo_text):
            operation = operation[:-len(memo_text)].strip()
        rows.append({
            "operation": operation,
            "memo": memo_text,
            "delta": cells[1].text.strip(),
            "balanceAfter": cells[2].text.strip(),
            "time": cells[3].find_element(By.TAG_NAME, "time").get_attribute("datetime"),
            "requestId": cells[4].text.strip(),
        })
    return rows


def step_signin_page(run):
    b = run.state["user"] = run.browser("user")
    b.get("/auth/signin")
    check_equal(b.text("h1"), "Sign in", "sign-in heading")
    b.check_labels("sign-in page")
    check(b.one("[data-form-error]").get_attribute("role") == "alert", "the sign-in form's error region is not role=alert")
    # Keyboard: the first Tab lands on the skip link, which moves focus to <main>.
    b.one("body").send_keys(Keys.TAB)
    check("skip-link" in (b.driver.switch_to.active_element.get_attribute("class") or ""),
          f"the first Tab does not reach the skip link (focus on {b.active_element_description()})")
    b.screenshot("signin")
    b.check_clean("sign-in page")


def step_signup(run):
    b = run.state["user"]
    b.one("a[href^='/auth/signup']", b.one(".auth-switch")).click()
    b.wait_path("/auth/signup")
    check_equal(b.text("h1"), "Create your account", "sign-up heading")
    lead = b.text(".lead")
    expected = f"{op_label(run.policy.default_plan)} plan with {fmt_tokens(run.policy.starting_tokens)} tokens"
    check(expected in lead, f"sign-up lead {lead!r} does not say {expected!r}")
    b.check_labels("sign-up page")
    b.screenshot("signup")
    b.check_clean("sign-up page")
    b.type_into("#signup-name", run.user_name)
    b.type_into("#signup-email", run.user_email)
    b.type_into("#signup-password", run.user_password)
    b.one("form[data-api='/api/auth/register'] button[type=submit]").click()
    b.wait_path("/dashboard")
    b.check_clean("sign-up → dashboard")


def step_dashboard_before(run):
    b = run.state["user"]
    check_equal(b.path(), "/dashboard", "page after sign-up")
    check_equal(b.text("h1"), "Dashboard", "dashboard heading")
    check_equal(b.text(".page-heading .lead"), f"Welcome back, {run.user_name}.", "greeting")
    check(run.user_email in b.one(".account-email").get_attribute("textContent"), "the header does not show the e-mail")
    check_equal(stat_value(b, "Balance"), fmt_tokens(run.policy.starting_tokens), "starting balance")
    check_equal(stat_value(b, "Available"), fmt_tokens(run.policy.starting_tokens), "starting available")
    check_equal(stat_value(b, "Held"), "0", "starting held")
    check_equal(stat_value(b, "Plan"), op_label(run.policy.default_plan), "starting plan")
    check_equal(len(b.all("rect.chart-bar")), 0, "chart bars before any charge")
    check(b.all("svg.chart-svg"), "no usage chart")
    check("No tokens used" in b.text("section.usage figcaption"), "the empty chart does not say so")
    check_equal(len(b.all("[data-usage-table]")), 0, "usage fallback table before any charge")
    b.check_labels("dashboard")
    b.screenshot("dashboard-before")
    b.check_clean("dashboard before the charge")


def step_create_key(run):
    b = run.state["user"]
    b.nav("API keys")
    b.wait_path("/dashboard/keys")
    check_equal(b.text("h1"), "API keys", "keys heading")
    b.check_labels("keys page")
    check(b.one("[data-new-key]").get_attribute("hidden") is not None, "the new-key panel shows before a key exists")
    b.type_into("#key-name", "browser test")
    b.one("#key-name").send_keys(Keys.ENTER)  # submit with the keyboard
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-new-key]").is_displayed(), "the new key to be shown")
    secret = b.one("#new-key-secret").get_attribute("value")
    check(re.fullmatch(r"rk_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}", secret or ""), f"unexpected secret format {secret!r}")
    run.state["key"] = secret
    check_equal(b.driver.switch_to.active_element.get_attribute("id"), "new-key-secret",
                "focus after creating a key (the secret field)")
    # The new key is listed (refreshed from GET /api/keys) with its prefix, never the secret.
    rows = b.wait(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "[data-key-rows] tr")
                             if "browser test" in r.text] or False, "the key row")
    prefix = secret.rsplit("_", 1)[0]
    check(prefix + "_…" in rows[0].text, f"key row {rows[0].text!r} does not show the prefix {prefix}_…")
    check(secret not in b.driver.find_element(By.CSS_SELECTOR, "[data-key-rows]").get_attribute("innerHTML"),
          "the secret appears in the keys table")
    check("Active" in rows[0].text, f"key row {rows[0].text!r} is not Active")
    check(not b.one("[data-keys-table]").get_attribute("hidden"), "the keys table is hidden")

    # Copy button: reachable with Tab from the secret, activated with Enter, announces the copy.
    b.driver.switch_to.active_element.send_keys(Keys.TAB)
    copy = b.driver.switch_to.active_element
    check_equal(copy.get_attribute("data-copy-target"), "new-key-secret",
                f"Tab from the secret does not reach the Copy button (focus on {b.active_element_description()})")
    check_equal(copy.text.strip(), "Copy", "Copy button label")
    copy.send_keys(Keys.ENTER)
    status = b.wait_text("[data-copy-status]", bool, "the copy status message")
    check_equal(status, "Copied to the clipboard.", "copy status")
    clipboard = b.driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, function (e) { done('ERROR ' + e); });")
    if clipboard.startswith("ERROR "):
        run.note(f"could not read the clipboard back ({clipboard}); the status message says it was copied")
    else:
        check_equal(clipboard, secret, "clipboard contents after Copy")
    b.screenshot("keys-new-key")
    b.check_clean("keys page")


def step_generation(run):
    price = run.policy.operations["raster_generation"]
    status, headers, body = run.curl_generation(run.state["key"], "a lighthouse at dusk, browser test")
    check_equal(status, 200, f"generation status (body {body[:300]!r})")
    data = json.loads(body)
    check(isinstance(data.get("data"), list) and data["data"], f"generation answered without images: {body[:300]!r}")
    charged = re.search(r"(?im)^x-tokens-charged:\s*(\d+)", headers)
    check(charged is not None, f"no X-Tokens-Charged header in {headers!r}")
    check_equal(int(charged.group(1)), price, "X-Tokens-Charged")
    run.state["charged"] = price


def step_revoke_key(run):
    """A second key is created and revoked through the confirm dialog; it then stops working."""
    b = run.state["user"]
    b.get("/dashboard/keys")
    b.type_into("#key-name", "temporary")
    b.one("form[data-api='/api/keys'] button[type=submit]").click()
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-new-key]").is_displayed(), "the second key")
    secret = b.one("#new-key-secret").get_attribute("value")
    check(secret and secret != run.state["key"], "the second key's secret is missing or repeats the first")

    def key_rows(driver):
        """{name: (status, has a revoke button)} of the keys table, read in one go (rows are re-rendered)."""
        return {name: (status, button) for name, status, button in driver.execute_script("""
            return Array.from(document.querySelectorAll('[data-key-rows] tr')).map(function (tr) {
              return [tr.cells[0].textContent.trim(), tr.cells[3].textContent.trim(),
                      !!tr.querySelector('button.button-danger')];
            });""")}
    b.wait(lambda d: key_rows(d).get("temporary") == ("Active", True), "the second key's row")
    revoke = [r for r in b.all("[data-key-rows] tr") if r.text.startswith("temporary")][0] \
        .find_element(By.CSS_SELECTOR, "button.button-danger")
    check_equal(revoke.get_attribute("textContent").strip(), "Revoke temporary", "accessible name of the revoke button")
    revoke.click()
    alert = b.wait(lambda d: d.switch_to.alert, "the revoke confirmation dialog")
    check("temporary" in alert.text, f"the confirmation does not name the key: {alert.text!r}")
    alert.accept()
    b.wait(lambda d: key_rows(d).get("temporary") == ("Revoked", False), "the key to show as Revoked")
    check_equal(key_rows(b.driver).get("browser test"), ("Active", True), "the first key after revoking the second")
    status, _, body = run.curl_generation(secret, "must not run")
    check_equal(status, 401, f"generation with a revoked key (body {body[:200]!r})")
    b.check_clean("revoking a key")


def step_dashboard_after(run):
    b = run.state["user"]
    price = run.state["charged"]
    expected_balance = run.policy.starting_tokens - price
    b.nav("Dashboard")
    b.wait_path("/dashboard")
    b.driver.refresh()  # "reload the dashboard"
    b.wait_ready()
    check_equal(stat_value(b, "Balance"), fmt_tokens(expected_balance), "balance after the charge")
    check_equal(stat_value(b, "Available"), fmt_tokens(expected_balance), "available after the charge")
    rows = history_rows(b)
    check(rows, "no history rows after the charge")
    newest = rows[0]
    check_equal(newest["operation"], op_label("raster_generation"), "newest history row's operation")
    check_equal(newest["delta"], f"-{fmt_tokens(price)}", "newest history row's change")
    check_equal(newest["balanceAfter"], fmt_tokens(expected_balance), "newest history row's balance after")
    check(newest["requestId"], "the charge has no request ID")
    check(b.one("[data-history-rows] tr td.num.delta-negative"), "the charge is not marked negative")
    charge_day = newest["time"][:10]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    check(charge_day == today, f"the charge is dated {charge_day}, today (UTC) is {today}")
    # Chart: a bar for today for raster_generation with the charged tokens.
    bars = b.all(f"g.chart-day[data-day='{today}'] rect.chart-bar[data-operation='raster_generation']")
    check_equal(len(bars), 1, f"bars for {today}")
    check_equal(bars[0].get_attribute("data-tokens"), str(price), "tokens of today's bar")
    height = float(bars[0].get_attribute("height"))
    check(height > 0, f"today's bar has height {height}")
    rendered = bars[0].rect
    check(rendered["height"] > 0 and rendered["width"] > 0, f"today's bar is not drawn: {rendered}")
    other_bars = [bar for bar in b.all("rect.chart-bar")
                  if bar.find_element(By.XPATH, "..").get_attribute("data-day") != today]
    check_equal(len(other_bars), 0, "bars on other days")
    legend = " ".join(b.one("ul.legend").get_attribute("textContent").split())
    check(f"{op_label('raster_generation')} {fmt_tokens(price)} tokens" in legend, f"legend {legend!r}")
    # The screen-reader table fallback lists the same numbers.
    table_rows = b.all("table[data-usage-table] tbody tr")
    check_equal(len(table_rows), 1, "rows of the usage fallback table")
    day = table_rows[0].find_element(By.TAG_NAME, "th").get_attribute("textContent").strip()
    cells = [c.get_attribute("textContent").strip() for c in table_rows[0].find_elements(By.TAG_NAME, "td")]
    check_equal(day, today, "day in the usage fallback table")
    check_equal(cells, [fmt_tokens(price), fmt_tokens(price)], "cells (raster_generation, total) of the fallback table")
    headers = [h.get_attribute("textContent").strip() for h in b.all("table[data-usage-table] thead th")]
    check_equal(headers, ["Day", op_label("raster_generation"), "Total"], "fallback table headers")
    path = b.screenshot("dashboard-after")
    if run.args.update_docs_screenshots:
        target = REPO / "docs" / "screenshots" / "dashboard.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        run.note(f"updated {target.relative_to(REPO)}")
    b.check_clean("dashboard after the charge")


def step_dashboard_phone(run):
    b = run.state["user"]
    b.phone_viewport()
    try:
        b.get("/dashboard")
        check_equal(b.driver.execute_script("return document.documentElement.clientWidth"), PHONE_WIDTH,
                    "phone viewport width")
        check(b.all("rect.chart-bar"), "no chart bar at phone width")
        overflow = b.horizontal_overflow()
        check(overflow is None, f"the dashboard overflows horizontally at {PHONE_WIDTH} px: {overflow}")
        path = b.screenshot("dashboard-phone", full_page=True)
        if run.args.update_docs_screenshots:
            target = REPO / "docs" / "screenshots" / "dashboard-phone.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            run.note(f"updated {target.relative_to(REPO)}")
        b.check_clean("dashboard at phone width")
    finally:
        b.desktop_viewport()
    # The other signed-in pages at the same width.
    phone_width_check(run, b, ("/dashboard/keys", "/pricing", "/workspace"))


def phone_width_check(run, b, paths, prepare=None):
    """Each page fits a phone's width (no horizontal scrolling); known product bugs only make notes.

    prepare: {path: function(browser)} to bring a page into the state to check (e.g. search results).
    """
    failures = []
    b.phone_viewport()
    try:
        for path in paths:
            b.get(path)
            if prepare and path in prepare:
                prepare[path](b)
            overflow = b.horizontal_overflow()
            if overflow and path in KNOWN_PHONE_OVERFLOW:
                run.note(f"KNOWN BUG: {path} overflows horizontally at {PHONE_WIDTH} px: {overflow}")
            elif overflow:
                failures.append(f"{path}: {overflow}")
            elif path in KNOWN_PHONE_OVERFLOW:
                run.note(f"{path} no longer overflows at {PHONE_WIDTH} px: remove it from KNOWN_PHONE_OVERFLOW")
            b.check_clean(f"{path} at phone width")
    finally:
        b.desktop_viewport()
    check(not failures, f"pages overflow horizontally at {PHONE_WIDTH} px: " + "; ".join(failures))


def step_pricing(run):
    b = run.state["user"]
    b.nav("Pricing")
    b.wait_path("/pricing")
    check_equal(b.text("h1"), "Pricing", "pricing heading")
    for name, tokens in run.policy.plans.items():
        cards = b.all(f"li.plan[data-plan='{name}']")
        check_equal(len(cards), 1, f"cards for plan {name}")
        check_equal(b.text("h3", cards[0]), op_label(name), f"plan {name} label")
        check_equal(b.text(".plan-tokens .stat-value", cards[0]), fmt_tokens(tokens), f"plan {name} monthly tokens")
        badges = [badge.text.strip() for badge in b.all(".badge", cards[0])]
        check_equal("Default for new accounts" in badges, name == run.policy.default_plan, f"plan {name} default badge")
        check_equal("Your plan" in badges, name == run.policy.default_plan, f"plan {name} 'Your plan' badge")
    check_equal(len(b.all("li.plan")), len(run.policy.plans), "number of plan cards")
    for operation, price in run.policy.operations.items():
        rows = b.all(f"tr[data-operation='{operation}']")
        check_equal(len(rows), 1, f"price rows for {operation}")
        check_equal(b.text("td.num", rows[0]), fmt_tokens(price), f"price of {operation}")
        check(op_label(operation) in b.text("th", rows[0]), f"label of {operation}")
    check_equal(len(b.all("tr[data-operation]")), len(run.policy.operations), "number of price rows")
    check(f"up to {fmt_tokens(run.policy.max_images)} images" in b.text("section.card .hint"), "max images hint")
    b.check_labels("pricing page")
    b.screenshot("pricing")
    b.check_clean("pricing page")


def step_admin_forbidden(run):
    b = run.state["user"]
    check(not [a for a in b.all("nav.site-nav a") if a.text.strip() == "Admin"], "a non-admin sees the Admin link")
    b.get("/admin")
    check_equal(b.path(), "/admin", "URL of the refused admin page")
    check_equal(b.text(".error-status"), "403", "status shown on the admin page for a non-admin")
    check_equal(b.text("h1"), "You do not have access to this page", "403 heading")
    check_equal(len(b.all("form[data-api='/api/admin/users']")), 0, "admin search form on the 403 page")
    check_equal(b.one("a.button-primary").get_attribute("pathname"), "/dashboard", "403 page's way back")
    b.screenshot("admin-403")
    # The document's own 403 is expected in the console, nothing else.
    b.check_clean("403 admin page", allow=[r"/admin - Failed to load resource: the server responded with a status of 403"])


def step_workspace(run):
    b = run.state["user"]
    b.nav("Workspace")
    b.wait_path("/workspace")
    frames = b.all("iframe.workspace-frame")
    check_equal(len(frames), 1, "workspace frames")
    check_equal(frames[0].get_attribute("src"), run.args.base_url.rstrip("/") + "/", "workspace frame source")
    check(frames[0].get_attribute("title"), "the workspace frame has no title")
    size = frames[0].rect
    check(size["width"] > 600 and size["height"] > 300, f"the workspace frame is small: {size}")
    b.driver.switch_to.frame(frames[0])
    try:
        heading = b.wait_text("h1", bool, "the app inside the workspace frame")
        check("Recraftor app" in heading, f"the frame shows {heading!r}")
    finally:
        b.driver.switch_to.default_content()
    b.screenshot("workspace")
    b.check_clean("workspace page")


def step_sign_out(run):
    b = run.state["user"]
    b.get("/dashboard")
    b.one("form.sign-out button[type=submit]").click()
    b.wait_path("/auth/signin")
    check_equal(len(b.all(".account-email")), 0, "account e-mail shown after sign-out")
    check(not b.driver.get_cookie("edge_session"), "the session cookie is still set after sign-out")
    b.check_clean("sign-out")
    b.get("/dashboard")
    check_equal(b.path(), "/auth/signin", "where a signed-out /dashboard visit lands")
    check_equal(b.query().get("callbackUrl"), ["/dashboard"], "callbackUrl of the sign-in redirect")
    check_equal(b.one("form[data-api='/api/auth/login']").get_attribute("data-redirect"), "/dashboard",
                "the sign-in form's redirect target")
    b.check_clean("sign-in redirect")


def step_wrong_password(run):
    b = run.state["user"]
    check_equal(b.path(), "/auth/signin", "page before the wrong password")
    b.type_into("#signin-email", run.user_email)
    b.type_into("#signin-password", "not the password at all").send_keys(Keys.ENTER)
    region = "form[data-api='/api/auth/login'] [data-form-error]"
    message = b.wait_text(region, bool, "the wrong-password message")
    check("wrong" in message.lower() or "invalid" in message.lower(), f"unexpected wrong-password message {message!r}")
    element = b.one(region)
    check_equal(element.get_attribute("role"), "alert", "role of the error region")
    check_equal(element.get_attribute("aria-live"), "assertive", "aria-live of the error region")
    check(element.is_displayed(), "the error message is not visible")
    check_equal(b.path(), "/auth/signin", "page after the wrong password")
    b.screenshot("signin-wrong-password")
    b.check_clean("wrong password", allow=[r"/api/auth/login - Failed to load resource: the server responded with a status of 401"])


def step_sign_in_again(run):
    b = run.state["user"]
    b.type_into("#signin-password", run.user_password).send_keys(Keys.ENTER)
    b.wait_path("/dashboard")
    check(run.user_email in b.one(".account-email").get_attribute("textContent"), "signed in as someone else")
    if "charged" in run.state:
        expected = run.policy.starting_tokens - run.state["charged"]
        check_equal(stat_value(b, "Balance"), fmt_tokens(expected), "balance after signing in again")
    b.check_clean("sign-in again → dashboard")


# ---------------------------------------------------------------------------------------------
# The administrator's flow (browser "admin").

def admin_card(b, email):
    cards = [card for card in b.all("[data-admin-results] article.admin-user")
             if b.text("[data-field='email']", card) == email]
    check_equal(len(cards), 1, f"admin cards for {email}")
    return cards[0]


def card_field(b, card, name):
    return b.text(f"[data-field='{name}']", card)


def step_admin_sign_in(run):
    output = run.edgeproxy("users", "add", run.admin_email, "--admin", "--password-stdin", "--name", "Grace Admin",
                           stdin=run.admin_password + "\n")
    check("role=admin" in output, f"edgeproxy users add said {output!r}")
    b = run.state["admin"] = run.browser("admin")
    phone_width_check(run, b, ("/auth/signin", "/auth/signup", "/pricing"))
    b.get("/admin")
    check_equal(b.path(), "/auth/signin", "signed-out /admin lands on")
    check_equal(b.query().get("callbackUrl"), ["/admin"], "callbackUrl for /admin")
    b.type_into("#signin-email", run.admin_email)
    b.type_into("#signin-password", run.admin_password)
    b.one("form[data-api='/api/auth/login'] button[type=submit]").click()
    b.wait_path("/admin")
    check_equal(b.text("h1"), "Admin", "admin heading")
    check([a for a in b.all("nav.site-nav a") if a.text.strip() == "Admin"], "an admin sees no Admin link")
    b.check_labels("admin page")
    b.check_clean("admin sign-in")


def step_admin_find_user(run):
    b = run.state["admin"]
    b.type_into("#admin-email", run.user_email.upper()).send_keys(Keys.ENTER)  # any letter case
    b.wait_text("[data-admin-status]", lambda t: t == "One account found.", "'One account found.'")
    card = admin_card(b, run.user_email)
    balance = run.policy.starting_tokens - run.state["charged"]
    check_equal(card_field(b, card, "balance"), fmt_tokens(balance), "balance on the admin card")
    check_equal(card_field(b, card, "name"), run.user_name, "name on the admin card")
    check_equal(card_field(b, card, "role"), "User", "role on the admin card")
    check_equal(card_field(b, card, "plan"), op_label(run.policy.default_plan), "plan on the admin card")
    check_equal(Select(b.one("select[name=plan]", card)).first_selected_option.get_attribute("value"),
                run.policy.default_plan, "preselected plan")
    b.check_labels("admin page with a user card")
    b.check_clean("admin search")


def step_admin_grant(run):
    b = run.state["admin"]
    card = admin_card(b, run.user_email)
    grant = b.one("form[data-api='/api/tokens']", card)
    b.type_into("input[name=amount]", "50", grant)
    b.type_into("input[name=reason]", "browser test bonus", grant)
    b.one("button[type=submit]", grant).click()
    expected = run.policy.starting_tokens - run.state["charged"] + 50
    message = b.wait_text("[data-admin-status]", lambda t: t.startswith("Granted"), "the grant confirmation")
    check_equal(message, f"Granted 50 tokens to {run.user_email}. New balance: {fmt_tokens(expected)}.",
                "grant confirmation")
    check_equal(b.driver.switch_to.active_element.get_attribute("data-admin-status"), "",
                "focus after the grant (the status message)")
    card = admin_card(b, run.user_email)  # re-rendered from a fresh search
    check_equal(card_field(b, card, "balance"), fmt_tokens(expected), "balance on the card after the grant")
    run.state["granted_balance"] = expected
    b.check_clean("admin grant")


def step_admin_change_plan(run):
    b = run.state["admin"]
    new_plan = "basic" if "basic" in run.policy.plans else sorted(set(run.policy.plans) - {run.policy.default_plan})[0]
    card = admin_card(b, run.user_email)
    form = b.one("form[data-api^='/api/admin/users/']", card)
    Select(b.one("select[name=plan]", form)).select_by_value(new_plan)
    b.one("button[type=submit]", form).click()
    b.wait_text("[data-admin-status]", lambda t: t == f"The plan of {run.user_email} is now {op_label(new_plan)}.",
                "the plan change confirmation")
    card = admin_card(b, run.user_email)
    check_equal(card_field(b, card, "plan"), op_label(new_plan), "plan on the card after the change")
    balance_text = card_field(b, card, "balance")
    check(re.fullmatch(r"[0-9,]+", balance_text), f"balance on the card after the plan change: {balance_text!r}")
    run.state["new_plan"] = new_plan
    run.state["balance_after_plan"] = balance_text
    b.screenshot("admin")
    b.check_clean("admin plan change")
    # The admin page with a user card, at phone width.
    def search(browser):
        browser.type_into("#admin-email", run.user_email).send_keys(Keys.ENTER)
        browser.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-admin-results] article"), "the user card")
    phone_width_check(run, b, ("/admin",), prepare={"/admin": search})


def step_user_sees_admin_changes(run):
    b = run.state["user"]
    b.get("/dashboard")
    check_equal(stat_value(b, "Plan"), op_label(run.state["new_plan"]), "the user's plan after the admin's change")
    check_equal(stat_value(b, "Balance"), run.state["balance_after_plan"], "the user's balance matches the admin card")
    grants = [row for row in history_rows(b) if row["operation"] == "Tokens granted" and row["delta"] == "+50"]
    check(grants, f"no '+50 Tokens granted' row in {history_rows(b)}")
    check_equal(grants[0]["memo"], "browser test bonus", "memo of the grant row")
    check_equal(grants[0]["balanceAfter"], fmt_tokens(run.state["granted_balance"]), "balance after the grant row")
    b.check_clean("dashboard after the admin's changes")


# ---------------------------------------------------------------------------------------------
# Console-check self test and HTTP headers (no browser).

def step_csp_detector(run):
    """The console/CSP check must see a violation: an inline script injected on a page is refused."""
    b = run.state["user"]
    b.get("/pricing")
    b.check_clean("pricing before the detector test")
    b.driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__inlineRan = true;';"
        "document.body.appendChild(s);")
    ran = b.driver.execute_script("return window.__inlineRan === true")
    check(not ran, "an inline script ran despite script-src 'self'")
    try:
        b.check_clean("detector test")
    except StepFailure as error:
        check("script-src" in str(error), f"the detector reported something else: {error}")
    else:
        raise StepFailure("an injected inline script was refused silently: the console/CSP check would miss violations")


def step_headers(run):
    user_cookie = run.state["user"].driver.get_cookie("edge_session")
    admin_cookie = run.state["admin"].driver.get_cookie("edge_session")
    check(user_cookie and admin_cookie, "missing session cookies from the browsers")
    user = f"edge_session={user_cookie['value']}"
    admin = f"edge_session={admin_cookie['value']}"
    pages = [
        ("/auth/signin", None, 200), ("/auth/signup", None, 200), ("/pricing", None, 200),
        ("/auth/signin?callbackUrl=%2Fdashboard", None, 200),
        ("/dashboard", user, 200), ("/dashboard/keys", user, 200), ("/pricing", user, 200),
        ("/workspace", user, 200), ("/admin", user, 403), ("/auth/signin", user, 200),
        ("/admin", admin, 200), ("/dashboard", admin, 200),
    ]
    problems = []
    duplicates = set()
    for path, cookie, expected_status in pages:
        who = "signed out" if cookie is None else ("user" if cookie == user else "admin")
        status, headers, body = run.http("GET", path, cookie)
        where = f"GET {path} ({who})"
        if status != expected_status:
            problems.append(f"{where}: status {status}, expected {expected_status}")
            continue
        values = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        def one(name):
            found = values.get(name.lower(), [])
            if len(found) != 1:
                problems.append(f"{where}: {len(found)} {name} headers {found}")
                return ""
            return found[0]
        content_type = one("Content-Type")
        if not content_type.startswith("text/html"):
            problems.append(f"{where}: Content-Type {content_type!r}")
        if not body.lstrip().lower().startswith(b"<!doctype html>"):
            problems.append(f"{where}: body is not an HTML document")
        # Every Content-Security-Policy header is a policy the browser enforces (all of them): one
        # must limit scripts to 'self', and none may allow inline or eval'd script.
        policies = [parse_csp(value) for value in values.get("content-security-policy", [])]
        if not policies:
            problems.append(f"{where}: no Content-Security-Policy")
        elif not any(policy.get("script-src", policy.get("default-src")) == ["'self'"] for policy in policies):
            problems.append(f"{where}: no CSP limits script-src to 'self': {values['content-security-policy']}")
        if any(source in ("'unsafe-inline'", "'unsafe-eval'") for policy in policies
               for sources in policy.values() for source in sources):
            problems.append(f"{where}: a CSP allows unsafe-inline/unsafe-eval: {values['content-security-policy']}")
        if policies and not any(all(d in policy for d in ("default-src", "object-src", "base-uri", "frame-ancestors"))
                                for policy in policies):
            problems.append(f"{where}: no CSP with default-src, object-src, base-uri and frame-ancestors")
        if len(policies) > 1:
            duplicates.add(" | ".join(values["content-security-policy"]))
        hsts = one("Strict-Transport-Security")
        max_age = re.search(r"max-age=(\d+)", hsts)
        if not max_age or int(max_age.group(1)) < 86400:
            problems.append(f"{where}: Strict-Transport-Security {hsts!r}")
        if one("X-Content-Type-Options").lower() != "nosniff":
            problems.append(f"{where}: X-Content-Type-Options {values.get('x-content-type-options')}")
        if not one("Referrer-Policy"):
            problems.append(f"{where}: no Referrer-Policy")
        if "no-store" not in one("Cache-Control"):
            problems.append(f"{where}: Cache-Control {values.get('cache-control')}")
    # Signed-out visits to account pages are redirected to sign-in with a callback.
    for path in ("/dashboard", "/dashboard/keys", "/admin", "/workspace"):
        status, headers, _ = run.http("GET", path)
        location = dict((name.lower(), value) for name, value in headers).get("location", "")
        expected = "/auth/signin?callbackUrl=" + urllib.parse.quote(path, safe="")
        if status != 302 or location != expected:
            problems.append(f"GET {path} (signed out): {status} Location {location!r}, expected 302 {expected!r}")
    for duplicate in sorted(duplicates):
        problems.append(f"more than one Content-Security-Policy header (all enforced): {duplicate}")
    check(not problems, "security headers:\n  " + "\n  ".join(problems))


def parse_csp(value):
    """{directive: [sources]} of one Content-Security-Policy header value."""
    policy = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            policy.setdefault(tokens[0].lower(), tokens[1:])
    return policy


def step_assets(run):
    """The page's own assets load with the right types (checked from the browser's point of view)."""
    b = run.state["user"]
    b.get("/dashboard")
    urls = b.driver.execute_script(
        "return [document.querySelector('link[rel=stylesheet]').href, document.querySelector('script[src]').src,"
        " document.querySelector('link[rel=icon]').href];")
    expected = ["text/css", "javascript", "image/svg+xml"]
    for url, kind in zip(urls, expected):
        path = urllib.parse.urlsplit(url).path
        check(path.startswith("/portal/assets/"), f"asset outside /portal/assets/: {url}")
        status, headers, _ = run.http("GET", path)
        headers = {name.lower(): value for name, value in headers}
        check_equal(status, 200, f"status of {path}")
        check(kind in headers.get("content-type", ""), f"{path}: Content-Type {headers.get('content-type')!r}")
        check_equal(headers.get("x-content-type-options"), "nosniff", f"{path}: X-Content-Type-Options")
    sheets = b.driver.execute_script("return document.styleSheets.length")
    check(sheets >= 1, "no stylesheet applied")


# ---------------------------------------------------------------------------------------------

STEPS = [
    ("signin page", step_signin_page, ()),
    ("sign up", step_signup, ("signin page",)),
    ("dashboard before the charge", step_dashboard_before, ("sign up",)),
    ("create an API key + copy", step_create_key, ("sign up",)),
    ("generation with curl", step_generation, ("create an API key + copy",)),
    ("revoke a second key", step_revoke_key, ("create an API key + copy",)),
    ("dashboard after the charge", step_dashboard_after, ("generation with curl",)),
    ("dashboard at phone width", step_dashboard_phone, ("generation with curl",)),
    ("pricing", step_pricing, ("sign up",)),
    ("admin page refused (403)", step_admin_forbidden, ("sign up",)),
    ("workspace", step_workspace, ("sign up",)),
    ("sign out + redirect", step_sign_out, ("sign up",)),
    ("wrong password message", step_wrong_password, ("sign out + redirect",)),
    ("sign in again", step_sign_in_again, ("wrong password message",)),
    ("admin signs in", step_admin_sign_in, ()),
    ("admin finds the user", step_admin_find_user, ("admin signs in", "generation with curl")),
    ("admin grants tokens", step_admin_grant, ("admin finds the user",)),
    ("admin changes the plan", step_admin_change_plan, ("admin grants tokens",)),
    ("user sees the admin's changes", step_user_sees_admin_changes, ("admin changes the plan", "sign in again")),
    ("CSP detector self-test", step_csp_detector, ("sign in again",)),
    ("security headers (no browser)", step_headers, ("sign in again", "admin signs in")),
    ("assets", step_assets, ("sign in again",)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="the running edge, e.g. https://127.0.0.1:8443")
    parser.add_argument("--edgeproxy", required=True, help="the edgeproxy binary (for `users add`)")
    parser.add_argument("--data-dir", required=True, help="the server's EDGE_DATA_DIR")
    parser.add_argument("--policy", default=str(REPO / "policies" / "default.yaml"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--profile-root", help="where the browsers' temporary profiles go (default: the system's temp dir)")
    parser.add_argument("--out-dir", help="screenshot folder (default Tests/Browser/out/<timestamp>)")
    parser.add_argument("--update-docs-screenshots", action="store_true",
                        help="also write docs/screenshots/dashboard.png and dashboard-phone.png")
    args = parser.parse_args()

    # SIGTERM (the script's timeout) still closes the browsers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run = Run(args)
    started = time.monotonic()
    print(f"Screenshots and logs: {run.out_dir}", flush=True)
    try:
        for name, function, needs in STEPS:
            run.step(name, function, needs)
    finally:
        for browser in run.browsers:
            browser.quit()
        (run.out_dir / "browser-console.log").write_text("\n".join(run.console) + "\n", encoding="utf-8")
    passed = sum(1 for _, status, _ in run.results if status == "passed")
    failed = [(name, detail) for name, status, detail in run.results if status == "failed"]
    skipped = sum(1 for _, status, _ in run.results if status == "skipped")
    print(f"\nScreenshots ({len(run.screenshots)}) in {run.out_dir}:")
    for path in run.screenshots:
        print(f"  {path.name}")
    for name, detail in failed:
        print(f"\nFAILED: {name}\n  {detail}")
    print(f"\nbrowser test: {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {len(failed)} failed, {skipped} skipped")
    return 0 if not failed and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
