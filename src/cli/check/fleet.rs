//! Several connections in one `check`: each is opened and examined on its
//! own thread, so a slow or dead hypervisor costs the run its `--timeout`
//! at most, not the sum of everyone's waits; the outcomes keep the order
//! the connections were given in.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use vmnet_doctor_core::rules::{ConnectionProblem, connection_findings};

use super::{Outcome, examine, open};
use crate::cli::args::CheckOptions;
use crate::i18n::fill;
use gettextrs::gettext;

/// Every connection `options` names (the demo, each `--connect`, or
/// libvirt's default), checked at the same time.
pub fn check_all(options: &CheckOptions) -> Vec<Outcome> {
    let targets: Vec<Option<String>> = if options.connect.is_empty() {
        vec![None]
    } else {
        options.connect.iter().cloned().map(Some).collect()
    };
    let (vm, demo) = (options.vm.clone(), options.demo);
    let outcomes = gather(&targets, options.timeout, move |uri| check_one(demo, uri, vm.as_deref()));
    targets
        .iter()
        .zip(outcomes)
        .map(|(target, answer)| match answer {
            Answer::Checked(outcome) => *outcome,
            Answer::NotInTime => no_answer(options, target.as_deref(), options.timeout.unwrap_or_default()),
            Answer::Failed(why) => checking_failed(options, target.as_deref(), &why),
        })
        .collect()
}

/// What became of one connection's check.
#[derive(Debug)]
enum Answer {
    Checked(Box<Outcome>),
    /// Still running at the deadline.
    NotInTime,
    /// Its thread could not start, or ended without an outcome (a bug:
    /// a panic), with what it said.
    Failed(String),
}

/// Runs `check` for every target on a thread of its own and collects the
/// answers in the targets' order, waiting until `timeout` at most.
fn gather<C>(targets: &[Option<String>], timeout: Option<Duration>, check: C) -> Vec<Answer>
where
    C: Fn(Option<&str>) -> Outcome + Clone + Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    let mut answers: Vec<Option<Answer>> = targets.iter().map(|_| None).collect();
    let mut threads = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        let (sender, uri, check) = (sender.clone(), target.clone(), check.clone());
        let work = move || {
            // The receiver is gone only when the run has given up on this
            // connection; nothing is left to tell.
            let _ = sender.send((index, check(uri.as_deref())));
        };
        match thread::Builder::new().name(format!("check-{index}")).spawn(work) {
            Ok(handle) => threads.push((index, handle)),
            Err(error) => answers[index] = Some(Answer::Failed(error.to_string())),
        }
    }
    drop(sender);
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let mut every_thread_let_go = false;
    while answers.iter().any(Option::is_none) {
        let received = match deadline {
            Some(deadline) => receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((index, outcome)) => answers[index] = Some(Answer::Checked(Box::new(outcome))),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => {
                every_thread_let_go = true;
                break;
            }
        }
    }
    // A thread that let go of its sender without answering panicked (it
    // may still be unwinding: joined): say what it said. One still waiting
    // on libvirt is left behind; the process ends once the report is
    // written, and it with it.
    for (index, handle) in threads {
        if answers[index].is_none() && (every_thread_let_go || handle.is_finished()) {
            let why = handle.join().err().map_or_else(|| gettext("it gave no answer"), panic_text);
            answers[index] = Some(Answer::Failed(why));
        }
    }
    answers.into_iter().map(|answer| answer.unwrap_or(Answer::NotInTime)).collect()
}

/// What a panic said, when it said it in words.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => {
            payload.downcast::<&str>().map_or_else(|_| gettext("no message"), |text| (*text).to_owned())
        }
    }
}

fn check_one(demo: bool, uri: Option<&str>, vm: Option<&str>) -> Outcome {
    match open(demo, uri) {
        Ok(hypervisor) => examine(&hypervisor, vm),
        Err(outcome) => *outcome,
    }
}

/// The outcome of a connection that gave no answer before the deadline.
fn no_answer(options: &CheckOptions, uri: Option<&str>, waited: Duration) -> Outcome {
    let uri = match uri {
        Some(uri) => uri.to_owned(),
        None if options.demo => crate::connections::demo_uri(),
        None => String::new(),
    };
    let seconds = format!("{}", waited.as_secs_f64());
    let detail = fill(&gettext("no answer within {seconds} s"), &[("seconds", &seconds)]);
    Outcome {
        findings: connection_findings(ConnectionProblem::NoAnswer, &uri, &detail),
        failure: Some(fill(
            &gettext("{uri} did not answer within {seconds} s."),
            &[("uri", &uri), ("seconds", &seconds)],
        )),
        uri,
        snapshot: None,
        vm: None,
    }
}

/// The outcome of a connection whose check could not run or broke off.
fn checking_failed(options: &CheckOptions, uri: Option<&str>, why: &str) -> Outcome {
    let uri = match uri {
        Some(uri) => uri.to_owned(),
        None if options.demo => crate::connections::demo_uri(),
        None => String::new(),
    };
    Outcome {
        findings: connection_findings(ConnectionProblem::Other, &uri, why),
        failure: Some(fill(
            &gettext("Checking {uri} failed inside vmnet-doctor ({why}); please report it."),
            &[("uri", &uri), ("why", why)],
        )),
        uri,
        snapshot: None,
        vm: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Answer, Outcome, gather};

    fn checked(uri: Option<&str>) -> Outcome {
        Outcome {
            findings: Vec::new(),
            failure: None,
            uri: uri.unwrap_or_default().to_owned(),
            snapshot: None,
            vm: None,
        }
    }

    #[test]
    fn a_check_that_panics_is_a_failure_with_its_words_not_a_silence() {
        let targets = [Some("a".to_owned()), Some("panics".to_owned()), Some("c".to_owned())];
        let answers = gather(&targets, None, |uri| {
            assert_ne!(uri, Some("panics"), "the rule for {uri:?} broke");
            checked(uri)
        });
        assert!(matches!(&answers[0], Answer::Checked(outcome) if outcome.uri == "a"), "{answers:?}");
        assert!(matches!(&answers[1], Answer::Failed(why) if why.contains("the rule for")), "{answers:?}");
        assert!(matches!(&answers[2], Answer::Checked(outcome) if outcome.uri == "c"), "{answers:?}");
    }

    #[test]
    fn a_check_still_running_at_the_deadline_did_not_answer_in_time() {
        let targets = [Some("fast".to_owned()), Some("hung".to_owned())];
        let (release, hang) = std::sync::mpsc::channel::<()>();
        let hang = std::sync::Arc::new(std::sync::Mutex::new(hang));
        let answers = gather(&targets, Some(Duration::from_millis(200)), move |uri| {
            if uri == Some("hung") {
                // Blocks until the test ends (the sender is dropped then).
                let _ = hang.lock().map(|hang| hang.recv());
            }
            checked(uri)
        });
        drop(release);
        assert!(matches!(&answers[0], Answer::Checked(_)), "{answers:?}");
        assert!(matches!(&answers[1], Answer::NotInTime), "{answers:?}");
    }
}
