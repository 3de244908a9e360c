// Shared by the mail and browser tests; not every test uses every helper.
#![allow(dead_code)]

//! A real SMTP server for the tests: aiosmtpd (PyPI) run by `tests/smtp/smtp_sink.py` on a
//! loopback port, writing each accepted message to a temp directory as JSON. aiosmtpd is
//! installed with pip when it is missing; if it cannot be, the test fails (never skips).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message as the SMTP server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
}

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
    // Closing it stops the server.
    _stdin: ChildStdin,
}

static INSTALL: Once = Once::new();

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/smtp_sink.py")
}

fn has_aiosmtpd() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// aiosmtpd, installed once per test process when missing.
fn ensure_aiosmtpd() {
    INSTALL.call_once(|| {
        if has_aiosmtpd() {
            return;
        }
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "aiosmtpd==1.4.6"])
            .status();
        assert!(
            status.is_ok_and(|s| s.success()) && has_aiosmtpd(),
            "the mail tests need aiosmtpd (PyPI): `python3 -m pip install aiosmtpd` failed"
        );
    });
}

impl SmtpSink {
    /// A server on a free loopback port.
    pub fn start() -> SmtpSink {
        Self::start_on(None)
    }

    /// A server on `port` (to bring one up where a sender already failed to connect).
    pub fn start_on(port: Option<u16>) -> SmtpSink {
        ensure_aiosmtpd();
        let dir = tempfile::tempdir().expect("mail directory");
        let mut cmd = Command::new("python3");
        cmd.arg(script()).arg(dir.path());
        if let Some(p) = port {
            cmd.arg(p.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/smtp/smtp_sink.py");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the SMTP server's port");
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("SMTP server did not start ({e}): {line:?}"));
        let port = v["port"].as_u64().expect("port") as u16;
        SmtpSink {
            port,
            dir,
            child,
            _stdin: stdin,
        }
    }

    /// `SCIM_SEATS_SMTP_URL` for this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read mail directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                serde_json::from_slice(&std::fs::read(p).expect("read message"))
                    .expect("message JSON")
            })
            .collect()
    }

    /// Wait (up to 20 s) until a message to `to` arrives; the latest one.
    pub async fn wait_for(&self, to: &str) -> Received {
        let started = Instant::now();
        loop {
            if let Some(m) = self
                .received()
                .into_iter()
                .rev()
                .find(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(to)))
            {
                return m;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no mail to {to} arrived at the SMTP server; got {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first link in a mail body that starts with `prefix`.
pub fn link_in(body: &str, prefix: &str) -> String {
    let start = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no link starting {prefix} in {body}"));
    body[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string()
}
