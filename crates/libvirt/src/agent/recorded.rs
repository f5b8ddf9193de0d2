//! A demo VM's guest: what a real guest's agent answered, replayed.
//!
//! libvirt's test driver runs no guests, so a demo VM whose `<metadata>`
//! holds `<demo:guest recording='guests/NAME.json'/>` answers agent
//! commands from that file (`data/demo/guests/`, made from the lab's
//! captures by `tools/demo-guests.py`): `guest-info` and the other
//! recorded commands, and `guest-exec` of a recorded program's exact argv.
//! Anything else, and every change, is refused with
//! [`AgentError::Recorded`]: the demo's guest changes are shown, not made.
//! The recorded card's MAC is given the demo VM's own, so that the
//! guest's card is the VM's card.

use std::net::IpAddr;
use std::path::{Component, Path};
use std::time::Duration;

use serde_json::{Value, json};
use vmnet_doctor_core::xml::Element;
use vmnet_doctor_core::{GuestAddress, GuestInterface};

use super::{AgentChannel, AgentError, base64};
use crate::demo;

const SCHEMA: &str = "vmnet-doctor-demo-guest/1";

#[derive(Debug)]
pub(crate) struct RecordedGuest {
    /// `guest-info`, … and what each returned.
    answers: Vec<(String, Value)>,
    programs: Vec<Program>,
}

#[derive(Debug)]
struct Program {
    argv: Vec<String>,
    exit: Option<i64>,
    stdout: String,
    stderr: String,
}

impl RecordedGuest {
    /// The recording of a domain's guest; `None` for anything but a demo
    /// VM that names one. `domain_xml` is asked for only on the demo, so
    /// that a caller holding the XML already passes it and no other
    /// connection pays for it.
    pub(crate) fn of(
        uri: &str,
        domain_xml: impl FnOnce() -> Option<String>,
    ) -> Option<Result<Self, AgentError>> {
        let node_file = demo::node_file(uri)?;
        let root = Element::parse(&domain_xml()?).ok()?;
        let recording = demo::metadata(&root, "guest")?.attr("recording")?.to_owned();
        let mac = root
            .child("devices")
            .and_then(|devices| devices.children.iter().find(|device| device.name == "interface"))
            .and_then(|nic| nic.child("mac"))
            .and_then(|mac| mac.attr("address"))
            .map(str::to_ascii_lowercase);
        Some(Self::load(&node_file, &recording, mac.as_deref()))
    }

    /// Reads `recording`, a path relative to the demo's node file that
    /// stays beside it; `card_mac` replaces the recorded card's MAC.
    fn load(node_file: &Path, recording: &str, card_mac: Option<&str>) -> Result<Self, AgentError> {
        let broken =
            |detail: String| AgentError::Protocol { command: format!("recording {recording}"), detail };
        let relative = Path::new(recording);
        if !relative.components().all(|part| matches!(part, Component::Normal(_))) {
            return Err(broken("the recording must be a path below the demo's own directory".into()));
        }
        let path = node_file.parent().unwrap_or_else(|| Path::new("/")).join(relative);
        let mut text =
            std::fs::read_to_string(&path).map_err(|error| broken(format!("{}: {error}", path.display())))?;
        let document: Value = serde_json::from_str(&text).map_err(|error| broken(error.to_string()))?;
        if document.get("schema").and_then(Value::as_str) != Some(SCHEMA) {
            return Err(broken(format!("not a {SCHEMA} document")));
        }
        if let (Some(recorded), Some(card)) = (document.get("mac").and_then(Value::as_str), card_mac) {
            text = text
                .replace(&recorded.to_ascii_lowercase(), card)
                .replace(&recorded.to_ascii_uppercase(), &card.to_ascii_uppercase());
        }
        let document: Value = serde_json::from_str(&text).map_err(|error| broken(error.to_string()))?;
        let mut guest = Self { answers: Vec::new(), programs: Vec::new() };
        for entry in document.get("recorded").and_then(Value::as_array).into_iter().flatten() {
            if let Some(argv) = entry.get("argv").and_then(Value::as_array) {
                let text =
                    |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
                guest.programs.push(Program {
                    argv: argv.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    exit: entry.get("exit").and_then(Value::as_i64),
                    stdout: text("stdout"),
                    stderr: text("stderr"),
                });
            } else if let (Some(execute), Some(answer)) =
                (entry.get("execute").and_then(Value::as_str), entry.get("answer"))
            {
                guest.answers.push((execute.to_owned(), answer.clone()));
            } else {
                return Err(broken(format!("an entry is neither a command nor a program: {entry}")));
            }
        }
        Ok(guest)
    }

    /// `guest-network-get-interfaces` as libvirt turns it into interfaces.
    pub(crate) fn interfaces(&self) -> Vec<GuestInterface> {
        let Some((_, Value::Array(interfaces))) =
            self.answers.iter().find(|(execute, _)| execute == "guest-network-get-interfaces")
        else {
            return Vec::new();
        };
        interfaces
            .iter()
            .map(|interface| GuestInterface {
                name: interface.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                mac: interface.get("hardware-address").and_then(Value::as_str).map(str::to_ascii_lowercase),
                addresses: interface
                    .get("ip-addresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|address| {
                        Some(GuestAddress {
                            ip: address.get("ip-address")?.as_str()?.parse::<IpAddr>().ok()?,
                            prefix: u8::try_from(address.get("prefix")?.as_u64()?).ok()?,
                        })
                    })
                    .collect(),
            })
            .collect()
    }
}

impl AgentChannel for RecordedGuest {
    /// Answers one command as the recorded guest did.
    fn send(&self, execute: &str, request: &Value, _timeout: Duration) -> Result<Value, AgentError> {
        let arguments = request.get("arguments");
        match execute {
            "guest-exec" => {
                let argv: Vec<&str> = arguments
                    .and_then(|a| a.get("path"))
                    .and_then(Value::as_str)
                    .into_iter()
                    .chain(
                        arguments
                            .and_then(|a| a.get("arg"))
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str),
                    )
                    .collect();
                let index = self
                    .programs
                    .iter()
                    .position(|program| program.argv == argv)
                    .ok_or_else(|| AgentError::Recorded { command: argv.join(" ") })?;
                Ok(json!({ "return": { "pid": index + 1 } }))
            }
            "guest-exec-status" => {
                let program = arguments
                    .and_then(|a| a.get("pid"))
                    .and_then(Value::as_u64)
                    .and_then(|pid| usize::try_from(pid).ok()?.checked_sub(1))
                    .and_then(|index| self.programs.get(index))
                    .ok_or_else(|| AgentError::Recorded { command: request.to_string() })?;
                Ok(json!({ "return": {
                    "exited": true,
                    "exitcode": program.exit,
                    "out-data": base64::encode(program.stdout.as_bytes()),
                    "err-data": base64::encode(program.stderr.as_bytes()),
                }}))
            }
            _ => self
                .answers
                .iter()
                .find(|(recorded, _)| recorded == execute)
                .map(|(_, answer)| json!({ "return": answer }))
                .ok_or_else(|| AgentError::Recorded { command: execute.to_owned() }),
        }
    }
}
