//! Servers the tests run in Python (a verifier no one here wrote, Python's own `ssl`):
//! each prints its port as its first line of output, and is killed on drop.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running Python server on 127.0.0.1.
pub(crate) struct PythonServer {
    child: Child,
    /// The port it listens on.
    pub(crate) port: u16,
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PythonServer {
    /// Runs `tests/e2e/helpers/<script>` with `args`, importing from `packages` when given,
    /// and waits for the port it prints. Its errors (a traceback, a refused handshake)
    /// land in the test's output.
    pub(crate) fn start<S: AsRef<OsStr>>(
        script: &str,
        args: &[S],
        packages: Option<&Path>,
    ) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut command = Command::new("python3");
        command
            .arg(root.join("tests/e2e/helpers").join(script))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(packages) = packages {
            command.env("PYTHONPATH", packages);
        }
        let mut child = command.spawn().expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's stdout");
        let Ok(port) = line.trim().parse() else {
            let status = child.wait().expect("wait");
            panic!("{script} printed no port ({status}); its stderr is above");
        };
        Self { child, port }
    }
}
