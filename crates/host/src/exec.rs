//! Running tools: by absolute path, without a shell, with a cleared
//! environment, stdin closed, output bounded, and killed at a timeout.
//! The probe (`command`) and the privileged helper both run tools this way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The only directories tools are taken from. Never `$PATH`.
const SYSTEM_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The environment every tool gets, and nothing else: a fixed `PATH` for
/// tools that run others (ufw runs iptables), and `LC_ALL=C` so the output
/// we parse and the messages we show are never translated.
const TOOL_ENV: &[(&str, &str)] = &[("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ("LC_ALL", "C")];

/// Standard output beyond this is an error (an nft ruleset of a busy
/// Docker host is a few MiB).
const MAX_STDOUT: u64 = 16 * 1024 * 1024;
/// Standard error is kept up to this size; it is only shown.
const MAX_STDERR: u64 = 64 * 1024;

/// The absolute path of a system program.
pub fn find_program(name: &str) -> Option<PathBuf> {
    SYSTEM_DIRS.iter().map(|dir| Path::new(dir).join(name)).find(|path| path.is_file())
}

/// How a tool ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit status; -1 when it did not exit by itself (not started,
    /// killed, timed out).
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// The tool's message: its standard error, else its standard output
    /// (ufw prints its errors there), trimmed and shortened.
    pub fn message(&self) -> String {
        let text = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        let text = text.trim();
        let mut short: String = text.chars().take(2000).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        short
    }

    fn failed(why: String) -> Self {
        Self { status: -1, stdout: String::new(), stderr: why }
    }
}

/// Runs `argv` (an absolute program path, then its arguments) and waits
/// for it at most `timeout`.
pub fn run_with_timeout(argv: &[String], timeout: Duration) -> Output {
    let Some((program, args)) = argv.split_first() else {
        return Output::failed("empty command".to_owned());
    };
    if !Path::new(program).is_absolute() {
        return Output::failed(format!("{program} is not an absolute path"));
    }
    let mut command = Command::new(program);
    command.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (key, value) in TOOL_ENV {
        command.env(key, value);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Output::failed(format!("cannot start {program}: {error}")),
    };
    // Both pipes drain on their own threads, so a chatty tool never blocks.
    let stdout = child.stdout.take().map(|pipe| reader_thread(pipe, MAX_STDOUT));
    let stderr = child.stderr.take().map(|pipe| reader_thread(pipe, MAX_STDERR));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                // It may have exited meanwhile; either way it is reaped.
                let _ = child.kill();
                let _ = child.wait();
                return Output::failed(format!(
                    "{program} timed out after {} s and was killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(error) => return Output::failed(format!("cannot wait for {program}: {error}")),
        }
    };
    // A grandchild may hold a pipe open after the tool exits: wait for the
    // rest of the output only until the deadline.
    let deadline = started + timeout;
    let collect = |receiver: Option<mpsc::Receiver<(Vec<u8>, bool)>>, wait: Duration| {
        receiver.and_then(|receiver| receiver.recv_timeout(wait).ok())
    };
    let stdout = collect(stdout, deadline.saturating_duration_since(Instant::now()));
    let stderr = collect(stderr, Duration::from_millis(200)).map(|(bytes, _)| bytes).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    let Some((stdout, complete)) = stdout else {
        return Output::failed(format!("the output of {program} did not end (a child process kept it open)"));
    };
    if !complete {
        return Output::failed(format!("{program} printed more than {} MiB", MAX_STDOUT / (1024 * 1024)));
    }
    let status = status.code().unwrap_or(-1);
    Output { status, stdout: String::from_utf8_lossy(&stdout).into_owned(), stderr }
}

/// Reads up to `limit` bytes; the flag says whether the pipe ended within
/// them.
fn reader_thread(pipe: impl Read + Send + 'static, limit: u64) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut buffer = Vec::new();
        let mut pipe = pipe;
        // A read error leaves what was read; the exit status decides.
        let _ = pipe.by_ref().take(limit).read_to_end(&mut buffer);
        let mut probe = [0u8; 1];
        let complete = !matches!(pipe.read(&mut probe), Ok(n) if n > 0);
        // Keep draining so the tool never blocks on a full pipe.
        if !complete {
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        }
        // The receiver is gone when the caller gave up waiting.
        let _ = sender.send((buffer, complete));
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(program: &str, args: &[&str]) -> Result<Vec<String>, String> {
        let path = find_program(program).ok_or(format!("no {program} program"))?;
        Ok(std::iter::once(path.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| (*a).to_owned()))
            .collect())
    }

    #[test]
    fn the_environment_is_cleared_to_a_fixed_one() -> Result<(), String> {
        let output = run_with_timeout(&argv("env", &[])?, Duration::from_secs(5));
        assert!(output.success(), "{output:?}");
        let mut lines: Vec<&str> = output.stdout.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        Ok(())
    }

    #[test]
    fn no_shell_interprets_the_arguments() -> Result<(), String> {
        let output = run_with_timeout(&argv("echo", &["$(id)", ";", "*"])?, Duration::from_secs(5));
        assert_eq!(output.stdout, "$(id) ; *\n");
        Ok(())
    }

    #[test]
    fn stdin_is_closed() -> Result<(), String> {
        // `cat` would wait forever on an open stdin.
        let output = run_with_timeout(&argv("cat", &[])?, Duration::from_secs(5));
        assert!(output.success(), "{output:?}");
        assert_eq!(output.stdout, "");
        Ok(())
    }

    #[test]
    fn a_relative_program_is_refused() {
        let output = run_with_timeout(&["sysctl".to_owned()], Duration::from_secs(5));
        assert_eq!(output.status, -1);
        assert!(output.stderr.contains("not an absolute path"), "{output:?}");
    }

    #[test]
    fn a_hanging_tool_is_killed_at_the_timeout() -> Result<(), String> {
        let started = Instant::now();
        let output = run_with_timeout(&argv("sleep", &["30"])?, Duration::from_millis(300));
        assert_eq!(output.status, -1);
        assert!(output.stderr.contains("timed out"), "{output:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn the_exit_status_and_stderr_are_kept() -> Result<(), String> {
        let output = run_with_timeout(&argv("ls", &["/nonexistent-vmnet-doctor"])?, Duration::from_secs(5));
        assert_eq!(output.status, 2);
        assert!(output.message().contains("nonexistent-vmnet-doctor"), "{output:?}");
        Ok(())
    }
}
