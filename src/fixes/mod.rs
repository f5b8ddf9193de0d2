//! Applying a finding's fix, the way a user does: VM and virtual network
//! changes through libvirt's API (libvirt checks `org.libvirt.unix.manage`),
//! host changes through the polkit-checked helper. The command line and
//! the window use the same calls: [`Fixer::plan`] shows exactly what would
//! change, [`Fixer::apply`] makes the change, and a fresh diagnosis then
//! tells whether the finding is gone. No GTK here.

pub mod describe;
pub mod guest_journal;
mod remote;

use gettextrs::gettext;
use vmnet_doctor_core::Fix;
use vmnet_doctor_host::firewalld_zone::{Firewalld, FirewalldError, ZoneFailure, ZonePlan, ZoneStep};
use vmnet_doctor_host::helper_api::{ApplyResult, ClientError, FixRequest, HelperClient, IfaceName, Plan};
use vmnet_doctor_libvirt::agent::AgentError;
use vmnet_doctor_libvirt::{Effect, FixFailure, FixPreview, FixReport, Hypervisor, LibvirtError, LibvirtFix};

pub use self::remote::RemoteHelper;
use crate::i18n::fill;

/// Who carries a fix out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixRoute {
    Libvirt(LibvirtFix),
    /// The root helper (`io.github.vmnetdoctor.Helper1`).
    Helper(FixRequest),
    /// firewalld; not automated yet, so the plan is the commands to run.
    Firewalld {
        bridge: String,
        zone: String,
    },
}

/// Sorts a fix by who carries it out. The error says which name the
/// helper would refuse (a finding's bridge or uplink that is not a valid
/// interface name).
pub fn route(fix: &Fix) -> Result<FixRoute, String> {
    let iface = |name: &str| IfaceName::new(name).map_err(|error| format!("{name}: {error}"));
    Ok(match fix {
        Fix::DefineNetwork { name, xml } => {
            FixRoute::Libvirt(LibvirtFix::DefineNetwork { name: name.clone(), xml: xml.clone() })
        }
        Fix::MoveNetworkSubnet { name, from, to } => {
            FixRoute::Libvirt(LibvirtFix::MoveNetworkSubnet { name: name.clone(), from: *from, to: *to })
        }
        Fix::StartNetwork { name } => FixRoute::Libvirt(LibvirtFix::StartNetwork { name: name.clone() }),
        Fix::AutostartNetwork { name } => {
            FixRoute::Libvirt(LibvirtFix::AutostartNetwork { name: name.clone() })
        }
        Fix::SetLinkUp { vm, mac } => {
            FixRoute::Libvirt(LibvirtFix::SetLinkUp { vm: vm.clone(), mac: mac.clone() })
        }
        Fix::SetNicModel { vm, mac, model } => FixRoute::Libvirt(LibvirtFix::SetNicModel {
            vm: vm.clone(),
            mac: mac.clone(),
            model: model.clone(),
        }),
        Fix::MoveNicToNetwork { vm, mac, network } => FixRoute::Libvirt(LibvirtFix::MoveNicToNetwork {
            vm: vm.clone(),
            mac: mac.clone(),
            network: network.clone(),
        }),
        Fix::AddGuestAgentChannel { vm } => {
            FixRoute::Libvirt(LibvirtFix::AddGuestAgentChannel { vm: vm.clone() })
        }
        Fix::DisableGuestIpv6 { vm } => FixRoute::Libvirt(LibvirtFix::DisableGuestIpv6 { vm: vm.clone() }),
        Fix::ForceAptIpv4 { vm } => FixRoute::Libvirt(LibvirtFix::ForceAptIpv4 { vm: vm.clone() }),
        Fix::CreateGuestDhcpProfile { vm, interface } => {
            FixRoute::Libvirt(LibvirtFix::CreateGuestDhcpProfile {
                vm: vm.clone(),
                interface: interface.clone(),
            })
        }
        Fix::EnableIpv4Forwarding => FixRoute::Helper(FixRequest::EnableIpv4Forwarding),
        Fix::UfwAllowBridge { bridge, uplink } => {
            FixRoute::Helper(FixRequest::UfwAllowBridge { bridge: iface(bridge)?, uplink: iface(uplink)? })
        }
        Fix::AcceptForward { bridge, uplink } => {
            FixRoute::Helper(FixRequest::AcceptForward { bridge: iface(bridge)?, uplink: iface(uplink)? })
        }
        Fix::ClampMss { bridge, uplink } => {
            FixRoute::Helper(FixRequest::ClampMss { bridge: iface(bridge)?, uplink: iface(uplink)? })
        }
        Fix::AcceptBridged { bridge } => {
            FixRoute::Helper(FixRequest::AcceptBridged { bridge: iface(bridge)? })
        }
        Fix::AllowQemuBridge { bridge } => {
            FixRoute::Helper(FixRequest::AllowQemuBridge { bridge: iface(bridge)? })
        }
        Fix::FirewalldZone { bridge, zone } => {
            FixRoute::Firewalld { bridge: bridge.clone(), zone: zone.clone() }
        }
    })
}

/// Why a fix must be made by hand.
#[derive(Debug)]
pub enum ManualReason {
    /// The helper is not installed or cannot be reached.
    HelperUnavailable(ClientError),
    /// firewalld does not run, or there is no system bus to reach it on.
    FirewalldUnavailable(FirewalldError),
    /// The guest agent of `vm` cannot make a change inside the guest (no
    /// channel, not running, or the command refused).
    NoGuestAgent { vm: String, error: AgentError },
    /// The change belongs to `host`, where libvirt runs, not to this
    /// machine, whose helper and firewalld are the only ones reached here.
    RemoteHost { host: String },
    /// The test driver's host is not a machine: the demo's host is a
    /// recording, and a test file has none. Its host changes are shown,
    /// never made on the machine the app runs on.
    DemoHost,
    /// A demo VM's guest is a recording of a real guest: its changes are
    /// shown, never made.
    DemoGuest { vm: String },
}

/// What applying a fix would do, shown before it is applied.
#[derive(Debug)]
pub enum FixPlan {
    Libvirt {
        fix: LibvirtFix,
        preview: FixPreview,
    },
    Helper {
        request: FixRequest,
        plan: Plan,
        /// The server whose helper made the plan, over SSH; `None`: this
        /// machine's.
        host: Option<String>,
    },
    Firewalld(ZonePlan),
    /// The commands to run instead, with the real names, and why.
    Manual {
        commands: Vec<String>,
        reason: ManualReason,
    },
}

/// What applying did.
#[derive(Debug)]
pub enum FixApplied {
    Libvirt(FixReport),
    /// A fix made inside a guest through its agent, and the transaction
    /// that undoes it (see [`guest_journal`]), or why none was recorded.
    Guest {
        report: FixReport,
        transaction: Option<String>,
        journal_error: Option<String>,
    },
    Helper(ApplyResult),
    /// The firewalld calls made.
    Firewalld(Vec<ZoneStep>),
}

impl FixApplied {
    pub fn effect(&self) -> Effect {
        match self {
            Self::Libvirt(report) | Self::Guest { report, .. } => report.effect,
            // The helper's and firewalld's changes act on the running host and persist.
            Self::Helper(_) | Self::Firewalld(_) => Effect::Now,
        }
    }

    /// The helper's or the guest journal's transaction, for
    /// `vmnet-doctor revert`.
    pub fn transaction(&self) -> Option<&str> {
        match self {
            Self::Helper(result) if !result.transaction.is_empty() => Some(&result.transaction),
            Self::Guest { transaction, .. } => transaction.as_deref(),
            Self::Libvirt(_) | Self::Helper(_) | Self::Firewalld(_) => None,
        }
    }
}

/// Why a fix could not be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    /// The finding names something the helper would refuse.
    #[error("{0}")]
    InvalidName(String),
    /// libvirt could not say what the fix would change.
    #[error("{0}")]
    LibvirtPlan(LibvirtError),
    /// A libvirt call failed; what was done before it is kept.
    #[error("{0}")]
    Libvirt(Box<FixFailure>),
    #[error("{0}")]
    Helper(ClientError),
    /// firewalld could not say what it would change.
    #[error("{0}")]
    FirewalldPlan(FirewalldError),
    /// A firewalld call failed; what was done before it is kept.
    #[error("{}", .0.error)]
    Firewalld(Box<ZoneFailure>),
    /// A manual plan cannot be applied.
    #[error("this fix has to be made by hand")]
    Manual,
}

/// Plans and applies fixes on one connection, talking to the helper when a
/// fix needs it.
#[derive(Debug)]
pub struct Fixer<'a> {
    hypervisor: &'a Hypervisor,
    helper: Option<HelperClient>,
    interactive: bool,
}

impl<'a> Fixer<'a> {
    /// `interactive`: whether polkit may ask for a password (a user's click,
    /// or a command typed on a terminal).
    pub fn new(hypervisor: &'a Hypervisor, interactive: bool) -> Self {
        Self { hypervisor, helper: None, interactive }
    }

    async fn helper(&mut self) -> Result<&HelperClient, ClientError> {
        if self.helper.is_none() {
            let mut client = HelperClient::connect().await?;
            client.set_interactive(self.interactive);
            self.helper = Some(client);
        }
        self.helper.as_ref().ok_or_else(|| ClientError::Other("no helper connection".to_owned()))
    }

    /// What `fix` would change now. Changes nothing.
    pub async fn plan(&mut self, fix: &Fix) -> Result<FixPlan, FixError> {
        match route(fix).map_err(FixError::InvalidName)? {
            FixRoute::Libvirt(fix) => match self.hypervisor.preview_fix(fix.clone()).await {
                Ok(preview) => Ok(FixPlan::Libvirt { fix, preview }),
                // No way into the guest: the same change, typed there by hand.
                Err(LibvirtError::GuestAgent {
                    vm,
                    error:
                        error @ (AgentError::NoChannel
                        | AgentError::NotRunning { .. }
                        | AgentError::Disabled { .. }),
                }) if fix.is_in_guest() => Ok(FixPlan::Manual {
                    commands: fix.guest_commands(),
                    reason: ManualReason::NoGuestAgent { vm, error },
                }),
                Err(LibvirtError::GuestAgent { vm, error: AgentError::Recorded { .. } })
                    if fix.is_in_guest() =>
                {
                    Ok(FixPlan::Manual {
                        commands: fix.guest_commands(),
                        reason: ManualReason::DemoGuest { vm },
                    })
                }
                Err(error) => Err(FixError::LibvirtPlan(error)),
            },
            // Never this machine's helper or firewalld for another's host:
            // the server's own helper, over SSH, or its commands.
            FixRoute::Helper(request) if self.is_test_driver() => {
                Ok(FixPlan::Manual { commands: request.manual_commands(), reason: ManualReason::DemoHost })
            }
            FixRoute::Firewalld { bridge, zone } if self.is_test_driver() => Ok(FixPlan::Manual {
                commands: firewalld_commands(&bridge, &zone),
                reason: ManualReason::DemoHost,
            }),
            FixRoute::Helper(request) => match (self.remote_host(), self.remote_helper()) {
                (None, _) => self.plan_with_helper(request).await,
                (Some(_), Some(remote)) => match remote.plan(&request).await {
                    Ok(plan) => Ok(FixPlan::Helper { request, plan, host: Some(remote.host().to_owned()) }),
                    Err(ClientError::NotInstalled(_) | ClientError::NoSystemBus(_)) => Ok(FixPlan::Manual {
                        commands: request.manual_commands(),
                        reason: ManualReason::RemoteHost { host: remote.host().to_owned() },
                    }),
                    Err(error) => Err(FixError::Helper(error)),
                },
                (Some(host), None) => Ok(FixPlan::Manual {
                    commands: request.manual_commands(),
                    reason: ManualReason::RemoteHost { host },
                }),
            },
            FixRoute::Firewalld { bridge, zone } => match self.remote_host() {
                Some(host) => Ok(FixPlan::Manual {
                    commands: firewalld_commands(&bridge, &zone),
                    reason: ManualReason::RemoteHost { host },
                }),
                None => self.plan_with_firewalld(&bridge, &zone).await,
            },
        }
    }

    /// The server's helper, reached over the SSH login of a `+ssh`
    /// connection to another machine.
    fn remote_helper(&self) -> Option<RemoteHelper> {
        crate::probe::ssh_server(self.hypervisor.uri()).map(RemoteHelper::new)
    }

    /// libvirt's test driver (the demo): its host is not this machine's.
    fn is_test_driver(&self) -> bool {
        self.hypervisor.uri().starts_with("test:")
    }

    /// The machine libvirt runs on, when it is not this one (a host change
    /// is then made there); `None` for this machine and the test driver.
    fn remote_host(&self) -> Option<String> {
        let uri = self.hypervisor.uri();
        if crate::probe::is_local(uri) || self.is_test_driver() {
            return None;
        }
        Some(
            crate::remote_host::ssh_destination(uri)
                .map_or_else(|| uri.to_owned(), |destination| destination.host),
        )
    }

    async fn plan_with_firewalld(&self, bridge: &str, zone: &str) -> Result<FixPlan, FixError> {
        let planned = match Firewalld::connect(self.interactive).await {
            Ok(firewalld) => firewalld.plan(bridge, zone).await,
            Err(error) => Err(error),
        };
        match planned {
            Ok(plan) => Ok(FixPlan::Firewalld(plan)),
            Err(error @ (FirewalldError::NotRunning | FirewalldError::NoSystemBus(_))) => {
                Ok(FixPlan::Manual {
                    commands: firewalld_commands(bridge, zone),
                    reason: ManualReason::FirewalldUnavailable(error),
                })
            }
            Err(error) => Err(FixError::FirewalldPlan(error)),
        }
    }

    async fn plan_with_helper(&mut self, request: FixRequest) -> Result<FixPlan, FixError> {
        let planned = match self.helper().await {
            Ok(helper) => helper.plan(&request).await,
            Err(error) => Err(error),
        };
        match planned {
            Ok(plan) => Ok(FixPlan::Helper { request, plan, host: None }),
            Err(error @ (ClientError::NotInstalled(_) | ClientError::NoSystemBus(_))) => {
                Ok(FixPlan::Manual {
                    commands: request.manual_commands(),
                    reason: ManualReason::HelperUnavailable(error),
                })
            }
            Err(error) => Err(FixError::Helper(error)),
        }
    }

    /// Makes the change `plan` shows. libvirt fixes are planned again from
    /// the current state; the helper refuses when the host changed since
    /// its plan ([`ClientError::PlanChanged`]).
    pub async fn apply(&mut self, plan: &FixPlan) -> Result<FixApplied, FixError> {
        match plan {
            FixPlan::Libvirt { fix, .. } => {
                let report = self.hypervisor.apply_fix(fix.clone()).await.map_err(FixError::Libvirt)?;
                if !fix.is_in_guest() {
                    return Ok(FixApplied::Libvirt(report));
                }
                let (transaction, journal_error) =
                    match guest_journal::record(self.hypervisor.uri(), fix, &report) {
                        Ok(transaction) => (transaction, None),
                        Err(error) => (None, Some(error.to_string())),
                    };
                Ok(FixApplied::Guest { report, transaction, journal_error })
            }
            FixPlan::Helper { request, plan, host: None } => {
                let helper = self.helper().await.map_err(FixError::Helper)?;
                helper.apply(request, plan).await.map(FixApplied::Helper).map_err(FixError::Helper)
            }
            FixPlan::Helper { request, plan, host: Some(host) } => {
                let remote =
                    self.remote_helper().filter(|remote| remote.host() == host).ok_or_else(|| {
                        FixError::Helper(ClientError::Other(fill(
                            &gettext("this connection does not reach {host}"),
                            &[("host", host)],
                        )))
                    })?;
                remote.apply(request, plan).await.map(FixApplied::Helper).map_err(FixError::Helper)
            }
            FixPlan::Firewalld(plan) => {
                let firewalld =
                    Firewalld::connect(self.interactive).await.map_err(FixError::FirewalldPlan)?;
                firewalld.apply(plan).await.map(FixApplied::Firewalld).map_err(FixError::Firewalld)
            }
            FixPlan::Manual { .. } => Err(FixError::Manual),
        }
    }
}

/// Undoes one of the helper's journaled transactions (`interactive`: polkit
/// may ask for a password).
pub async fn revert(transaction: &str, interactive: bool) -> Result<ApplyResult, ClientError> {
    let mut client = HelperClient::connect().await?;
    client.set_interactive(interactive);
    client.revert(transaction).await
}

/// How undoing a guest transaction ended.
#[derive(Debug)]
pub enum GuestReverted {
    /// It was reverted before; nothing was done.
    Already,
    Now(FixReport),
}

/// Why a guest transaction could not be undone.
#[derive(Debug, thiserror::Error)]
pub enum GuestRevertError {
    /// No such transaction was recorded on this machine.
    #[error("no guest transaction {0} is recorded here")]
    Unknown(String),
    /// The record could not be read or updated.
    #[error("{0}")]
    Journal(String),
    #[error("{0}")]
    Connect(LibvirtError),
    #[error("{0}")]
    Libvirt(Box<FixFailure>),
}

/// Undoes a fix made inside a guest (`guest-…` transaction ids): the file
/// as it was, IPv6 back on, the `kvm-dhcp` profile deleted.
pub fn revert_guest(id: &str) -> Result<GuestReverted, GuestRevertError> {
    let journal = |error: std::io::Error| GuestRevertError::Journal(error.to_string());
    let transaction =
        guest_journal::load(id).map_err(journal)?.ok_or_else(|| GuestRevertError::Unknown(id.to_owned()))?;
    if transaction.reverted {
        return Ok(GuestReverted::Already);
    }
    let fix = transaction.revert_fix().ok_or_else(|| GuestRevertError::Unknown(id.to_owned()))?;
    let hypervisor = Hypervisor::open_blocking(&transaction.uri).map_err(GuestRevertError::Connect)?;
    let report = hypervisor.apply_fix_blocking(fix).map_err(GuestRevertError::Libvirt)?;
    guest_journal::mark_reverted(&transaction).map_err(journal)?;
    Ok(GuestReverted::Now(report))
}

/// firewalld's own commands for putting a bridge into a zone, now and
/// after a reload or reboot.
pub fn firewalld_commands(bridge: &str, zone: &str) -> Vec<String> {
    vec![
        format!("sudo firewall-cmd --zone={zone} --change-interface={bridge}"),
        format!("sudo firewall-cmd --permanent --zone={zone} --change-interface={bridge}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fix_goes_to_whoever_makes_it() {
        let libvirt = Fix::SetLinkUp { vm: "vm".into(), mac: "52:54:00:00:00:01".into() };
        assert_eq!(
            route(&libvirt),
            Ok(FixRoute::Libvirt(LibvirtFix::SetLinkUp { vm: "vm".into(), mac: "52:54:00:00:00:01".into() }))
        );
        assert_eq!(route(&Fix::EnableIpv4Forwarding), Ok(FixRoute::Helper(FixRequest::EnableIpv4Forwarding)));
        let ufw = route(&Fix::UfwAllowBridge { bridge: "virbr0".into(), uplink: "enp3s0".into() });
        assert!(matches!(ufw, Ok(FixRoute::Helper(FixRequest::UfwAllowBridge { .. }))), "{ufw:?}");
        let zone = route(&Fix::FirewalldZone { bridge: "virbr0".into(), zone: "libvirt".into() });
        assert!(matches!(zone, Ok(FixRoute::Firewalld { .. })), "{zone:?}");
    }

    /// The demo's host is a recording: its host fixes are shown as
    /// commands, and neither this machine's helper nor its firewalld is asked.
    #[test]
    fn the_demo_hosts_fixes_are_shown_not_made() {
        let hypervisor = Hypervisor::open_blocking(&crate::connections::demo_uri())
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let runtime = runtime.unwrap_or_else(|error| panic!("no runtime: {error}"));
        let mut fixer = Fixer::new(&hypervisor, false);
        for fix in [
            Fix::AcceptBridged { bridge: "br0".into() },
            Fix::FirewalldZone { bridge: "virbr0".into(), zone: "libvirt".into() },
        ] {
            let plan = runtime.block_on(fixer.plan(&fix));
            assert!(
                matches!(&plan, Ok(FixPlan::Manual { reason: ManualReason::DemoHost, commands }) if !commands.is_empty()),
                "{fix:?}: {plan:?}"
            );
        }
        assert!(fixer.helper.is_none(), "the helper was asked");
    }

    #[test]
    fn names_the_helper_would_refuse_are_errors_naming_them() {
        let bad = route(&Fix::AcceptForward { bridge: "virbr0; reboot".into(), uplink: "eth0".into() });
        assert!(bad.is_err_and(|message| message.starts_with("virbr0; reboot")));
    }

    #[test]
    fn firewalld_commands_carry_the_names() {
        assert_eq!(
            firewalld_commands("virbr1", "libvirt-routed"),
            [
                "sudo firewall-cmd --zone=libvirt-routed --change-interface=virbr1",
                "sudo firewall-cmd --permanent --zone=libvirt-routed --change-interface=virbr1"
            ]
        );
    }
}
