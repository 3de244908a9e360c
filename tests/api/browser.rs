#![allow(dead_code)] // the harness serves every journey; not each uses every helper
//! A real browser for the journeys: Debian's chromium driven through chromedriver (WebDriver)
//! with `fantoccini`. Each test gets its own chromedriver on a free loopback port and its own
//! empty profile. Screenshots go to `target/test-artifacts/<test>/NN-<name>.png`; look at them.
//!
//! `cargo test` installs chromium and chromedriver (.ci/install-chromium, Debian's packages)
//! when they are missing; where that is impossible the journey is skipped with a SKIPPED line,
//! except under CI=true, where a missing browser fails the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

static INSTALL: Mutex<Option<bool>> = Mutex::new(None);

/// Chromium and chromedriver are there, installing them once per test process if needed.
fn installed() -> bool {
    let mut done = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(ok) = *done {
        return ok;
    }
    let present = || Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-chromium");
        let _ = Command::new("bash").arg(script).status();
    }
    let ok = present();
    *done = Some(ok);
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    artifacts: PathBuf,
    shots: usize,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A fresh headless browser, or `None` (with a SKIPPED line) where none can be had outside
    /// CI. `test` names the artifact folder.
    pub async fn start(test: &str) -> Option<Browser> {
        if !installed() {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{CHROMIUM} or {CHROMEDRIVER} is missing; CI must install them (.ci/install-chromium)");
            }
            eprintln!("SKIPPED {test}: chromium/chromedriver could not be installed");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        let mut client = None;
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        let client = client.unwrap_or_else(|| panic!("connect to chromedriver: {last:?}"));
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("target"));
        let artifacts = target.join("test-artifacts").join(test);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).expect("artifact dir");
        Some(Browser {
            client,
            driver,
            artifacts,
            shots: 0,
            _profile: profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Keep a screenshot of the page as it is now.
    pub async fn screenshot(&mut self, name: &str) -> PathBuf {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.artifacts.join(format!("{:02}-{name}.png", self.shots));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("body text")
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_string()
    }

    /// The path once it is `path`, or after 10 s whatever it is then: a click returns before
    /// the navigation it starts has finished (a form POST, then its redirect).
    pub async fn wait_for_path(&self, path: &str) -> String {
        for _ in 0..100 {
            let now = self.path().await;
            if now == path {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.path().await
    }

    /// Click the button (or submit input) whose visible label is `label`, as a person would,
    /// and wait for the page it leads to.
    pub async fn click_button(&self, label: &str) {
        let xpath = format!(
            "//button[normalize-space(.)={q}] | //input[@type='submit' and @value={q}]",
            q = xpath_literal(label)
        );
        let button = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button labelled {label:?}: {e}"));
        self.click_and_wait(button).await;
    }

    /// Click the link whose visible text is `text`, and wait for the page it leads to.
    pub async fn click_link(&self, text: &str) {
        let link = self
            .client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text:?}: {e}"));
        self.click_and_wait(link).await;
    }

    /// Click `element`; when that starts a navigation, return once the old page is gone and
    /// the new one has loaded (a WebDriver click does not always wait for a form's answer).
    pub async fn click_and_wait(&self, element: fantoccini::elements::Element) {
        let old = self.client.find(Locator::Css("html")).await.expect("html");
        element.click().await.expect("click");
        for _ in 0..100 {
            // A stale element: the document it belonged to was replaced.
            if old.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for _ in 0..100 {
            let ready = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .ok();
            if ready.as_ref().and_then(Value::as_str) == Some("complete") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Type into the field labelled `label` (a `<label for=…>`), replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        let xpath = format!(
            "//input[@id=//label[normalize-space(.)={q}]/@for] | //textarea[@id=//label[normalize-space(.)={q}]/@for]",
            q = xpath_literal(label)
        );
        let field = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no field labelled {label:?}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Choose `option` (its visible text) in the select labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let xpath = format!(
            "//select[@id=//label[normalize-space(.)={q}]/@for]",
            q = xpath_literal(label)
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no select labelled {label:?}: {e}"))
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("no option {option:?} in {label:?}: {e}"));
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failing test never reaches `close`: chromedriver must not outlive it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `s` as an XPath string literal (XPath 1.0 has no escapes: concat() around quotes).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
