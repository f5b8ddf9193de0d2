//! The guest of one VM as the agent reaches it: the running domain's
//! qemu-guest-agent, or a demo VM's recorded guest.

use std::time::Duration;

use serde_json::Value;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;
use vmnet_doctor_core::SourceResult;

use crate::agent::{AgentChannel, AgentError, RecordedGuest};
use crate::error::LibvirtError;

/// The guest of one VM, as the agent reaches it.
pub(crate) enum GuestChannel {
    Live(Domain),
    /// A VM of the demo hypervisor whose `<demo:guest recording=…/>` names
    /// what a real guest answered.
    Recorded(Box<RecordedGuest>),
}

impl GuestChannel {
    /// The guest of `vm`; its recording on a demo VM that has one.
    pub(crate) fn open(conn: &Connect, vm: &str) -> Result<Self, LibvirtError> {
        let uri = conn.uri().map_err(|e| LibvirtError::from_call(&e))?;
        let domain = conn.lookup_domain_by_name(vm).map_err(|e| LibvirtError::from_change(&uri, &e))?;
        match RecordedGuest::of(&uri, || domain.xml_desc(0).ok()) {
            None => Ok(Self::Live(domain)),
            Some(Ok(recording)) => Ok(Self::Recorded(Box::new(recording))),
            Some(Err(error)) => Err(LibvirtError::GuestAgent { vm: vm.to_owned(), error }),
        }
    }

    /// The guest's interfaces with their names and addresses, as its agent
    /// reports them (`guest-network-get-interfaces`).
    pub(crate) fn interfaces(&self) -> SourceResult {
        match self {
            Self::Live(domain) => {
                crate::addresses::query(domain, sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
            }
            Self::Recorded(recording) => Ok(recording.interfaces()),
        }
    }
}

impl AgentChannel for GuestChannel {
    fn send(&self, execute: &str, request: &Value, timeout: Duration) -> Result<Value, AgentError> {
        match self {
            Self::Live(domain) => domain.send(execute, request, timeout),
            Self::Recorded(recording) => recording.send(execute, request, timeout),
        }
    }
}
