//! Running tools: by absolute path, without a shell, with a cleared
//! environment, stdin closed, output bounded, and killed at a timeout.
//! The probe (`command`) and the privileged helper both run tools this way.
//!
//! Each tool leads a process group of its own, and its output is read by
//! polling in the calling thread: at the timeout the whole group is killed
//! (a child the tool forked cannot keep running, nor keep the output pipe
//! open), and nothing is left behind — no reader thread, no process.

use std::io::{ErrorKind, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, Signal, kill_process_group};

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
/// for it, and for the end of its output, at most `timeout`.
pub fn run_with_timeout(argv: &[String], timeout: Duration) -> Output {
    run_with_timeout_env(argv, &[], timeout)
}

/// [`run_with_timeout`], the tool also given `env` (e.g. ssh the user's
/// agent socket).
pub fn run_with_timeout_env(argv: &[String], env: &[(&str, String)], timeout: Duration) -> Output {
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
    for (key, value) in env {
        command.env(key, value);
    }
    // Its own process group, so that a timeout can end everything it started.
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Output::failed(format!("cannot start {program}: {error}")),
    };
    let mut running = Running {
        group: Pid::from_child(&child),
        stdout: Capture::new(MAX_STDOUT),
        stderr: Capture::new(MAX_STDERR),
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let deadline = Instant::now() + timeout;
    let finished = running.wait(&mut child, stdout, stderr, deadline);
    let Running { stdout, stderr, .. } = running;
    let stderr = String::from_utf8_lossy(&stderr.bytes).into_owned();
    let status = match finished {
        Finished::Exited(status) => status,
        Finished::TimedOut => {
            return Output::failed(format!(
                "{program} timed out after {} s and was killed",
                timeout.as_secs()
            ));
        }
        Finished::OutputHeldOpen => {
            return Output::failed(format!(
                "the output of {program} did not end (a child process kept it open, and was killed)"
            ));
        }
        Finished::Error(error) => return Output::failed(format!("cannot wait for {program}: {error}")),
    };
    if stdout.overflowed {
        return Output::failed(format!("{program} printed more than {} MiB", MAX_STDOUT / (1024 * 1024)));
    }
    Output {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout.bytes).into_owned(),
        stderr,
    }
}

/// How a tool's run ended.
enum Finished {
    Exited(ExitStatus),
    /// The tool itself ran past the deadline.
    TimedOut,
    /// The tool exited, but something it started kept its output open past
    /// the deadline.
    OutputHeldOpen,
    Error(std::io::Error),
}

/// A started tool: its process group and what it printed so far.
struct Running {
    group: Pid,
    stdout: Capture,
    stderr: Capture,
}

impl Running {
    /// Reads both pipes until they end and the tool exits, or until the
    /// deadline; whatever is still running then is killed and reaped.
    fn wait(
        &mut self,
        child: &mut Child,
        mut stdout: Option<ChildStdout>,
        mut stderr: Option<ChildStderr>,
        deadline: Instant,
    ) -> Finished {
        let mut exited = None;
        loop {
            if exited.is_none() {
                match child.try_wait() {
                    Ok(status) => exited = status,
                    Err(error) => {
                        self.kill(child);
                        return Finished::Error(error);
                    }
                }
            }
            if let (Some(status), None, None) = (exited, &stdout, &stderr) {
                return Finished::Exited(status);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.kill(child);
                return if exited.is_some() { Finished::OutputHeldOpen } else { Finished::TimedOut };
            }
            // While the tool runs, look at its status every few
            // milliseconds; once it has exited, only its output is awaited.
            let wait = if exited.is_some() { left } else { left.min(Duration::from_millis(10)) };
            if let Err(error) = self.read_ready(&mut stdout, &mut stderr, wait) {
                self.kill(child);
                return Finished::Error(error);
            }
        }
    }

    /// Waits up to `wait` for output, reads what is there, and drops a pipe
    /// that ended.
    fn read_ready(
        &mut self,
        stdout: &mut Option<ChildStdout>,
        stderr: &mut Option<ChildStderr>,
        wait: Duration,
    ) -> std::io::Result<()> {
        let timeout = Timespec::try_from(wait).unwrap_or(Timespec { tv_sec: 1, tv_nsec: 0 });
        let ready = {
            let mut fds = Vec::with_capacity(2);
            if let Some(pipe) = stdout.as_ref() {
                fds.push(PollFd::new(pipe, PollFlags::IN));
            }
            if let Some(pipe) = stderr.as_ref() {
                fds.push(PollFd::new(pipe, PollFlags::IN));
            }
            if fds.is_empty() {
                std::thread::sleep(wait);
                return Ok(());
            }
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(()),
                Err(error) => return Err(error.into()),
            }
            fds.iter().map(|fd| !fd.revents().is_empty()).collect::<Vec<bool>>()
        };
        let mut ready = ready.into_iter();
        if stdout.is_some() && ready.next() == Some(true) {
            self.stdout.read_from(stdout)?;
        }
        if stderr.is_some() && ready.next() == Some(true) {
            self.stderr.read_from(stderr)?;
        }
        Ok(())
    }

    /// Kills the tool's whole process group and reaps the tool.
    fn kill(&self, child: &mut Child) {
        // ESRCH: everything in it has exited already.
        let _ = kill_process_group(self.group, Signal::KILL);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Output read so far, kept up to a limit; the rest is read and dropped so
/// that a chatty tool never blocks on a full pipe.
struct Capture {
    bytes: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl Capture {
    fn new(limit: u64) -> Self {
        Self { bytes: Vec::new(), limit: usize::try_from(limit).unwrap_or(usize::MAX), overflowed: false }
    }

    /// One read from a pipe that poll reported ready (so it does not
    /// block); the pipe is dropped at its end.
    fn read_from(&mut self, pipe: &mut Option<impl Read>) -> std::io::Result<()> {
        let Some(reader) = pipe.as_mut() else { return Ok(()) };
        let mut chunk = [0u8; 64 * 1024];
        match reader.read(&mut chunk) {
            Ok(0) => *pipe = None,
            Ok(count) => {
                let room = self.limit.saturating_sub(self.bytes.len());
                self.bytes.extend_from_slice(&chunk[..count.min(room)]);
                self.overflowed |= count > room;
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
        Ok(())
    }
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

    /// A stand-in tool that forks a child which keeps the output pipe open
    /// and writes its own PID and the child's to `pids`, then does `then`.
    fn forking_tool(dir: &Path, then: &str) -> Result<(Vec<String>, PathBuf), String> {
        let pids = dir.join("pids");
        let script = dir.join("tool");
        let text =
            format!("#!/bin/sh\nsleep 600 &\necho \"$$ $!\" > '{}'\necho started\n{then}\n", pids.display());
        std::fs::write(&script, text).map_err(|e| e.to_string())?;
        let shell = find_program("sh").ok_or("no sh program")?;
        Ok((vec![shell.to_string_lossy().into_owned(), script.to_string_lossy().into_owned()], pids))
    }

    /// Whether `pid` is gone (or only a zombie its new parent has not reaped).
    fn ended(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        }
    }

    fn assert_all_ended(pids: &Path) -> Result<(), String> {
        let pids = std::fs::read_to_string(pids).map_err(|e| e.to_string())?;
        let pids: Vec<&str> = pids.split_whitespace().collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        // SIGKILL is delivered before kill() returns; the exit itself is
        // asynchronous, so look until it shows (bounded).
        let until = Instant::now() + Duration::from_secs(10);
        while !pids.iter().all(|pid| ended(pid)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        for pid in pids {
            assert!(ended(pid), "process {pid} outlived the tool's timeout");
        }
        Ok(())
    }

    /// Runs the forking tool with `then` after the fork, at a 500 ms
    /// timeout: it must fail with `message`, soon, and leave no process.
    fn killed_with_its_child(then: &str, message: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (argv, pids) = forking_tool(dir.path(), then)?;
        let started = Instant::now();
        let output = run_with_timeout(&argv, Duration::from_millis(500));
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(output.status, -1);
        assert!(output.stderr.contains(message), "{output:?}");
        assert_all_ended(&pids)
    }

    #[test]
    fn a_tool_and_the_child_it_forked_are_killed_at_the_timeout() -> Result<(), String> {
        killed_with_its_child("sleep 600", "timed out")
    }

    #[test]
    fn a_child_holding_the_output_open_after_the_tool_exits_is_killed() -> Result<(), String> {
        killed_with_its_child("exit 0", "did not end")
    }

    #[test]
    fn output_beyond_the_limit_is_an_error_and_never_blocks_the_tool() -> Result<(), String> {
        // 17 MiB of zeros: more than a pipe holds, more than MAX_STDOUT.
        let output =
            run_with_timeout(&argv("head", &["-c", "17825792", "/dev/zero"])?, Duration::from_secs(20));
        assert_eq!(output.status, -1);
        assert!(output.stderr.contains("more than 16 MiB"), "{output:?}");
        let output =
            run_with_timeout(&argv("head", &["-c", "1048576", "/dev/zero"])?, Duration::from_secs(20));
        assert!(output.success(), "{}", output.stderr);
        assert_eq!(output.stdout.len(), 1_048_576);
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
