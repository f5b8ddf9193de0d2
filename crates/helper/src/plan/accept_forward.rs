//! Planning the accept-forwarding fix: which iptables (nft or legacy, IPv4
//! and IPv6) and which chain the accept rules go into, and the rules not
//! there yet.

use vmnet_doctor_helper_api::{IfaceName, RULE_COMMENT};

use super::{PlanError, Planned, with_steps};
use crate::changes::{self, Backend, Chain, Change, Family, ForwardRule};
use crate::exec::{self, Ran};
use crate::host::Host;

/// One iptables backend of one address family, as found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    backend: Backend,
    /// Docker's `DOCKER-USER` chain exists.
    docker_user: bool,
    /// The FORWARD policy is DROP.
    drops: bool,
}

/// The iptables backends (nft, legacy) of `family` installed here, with
/// what their FORWARD chain holds. Legacy iptables is only looked at when
/// legacy tables of that family exist (running it would otherwise load its
/// kernel modules and create them).
pub(super) fn probe_iptables(host: &Host, family: Family, ran: &Ran) -> Result<Vec<Probe>, String> {
    let mut probes = Vec::new();
    for backend in [Backend::Nft, Backend::Legacy] {
        let legacy_tables = match family {
            Family::Ipv4 => host.has_legacy_iptables_tables(),
            Family::Ipv6 => host.has_legacy_ip6tables_tables(),
        };
        if backend == Backend::Legacy && !legacy_tables {
            continue;
        }
        let Some(path) = exec::find_program(backend.program(family)) else { continue };
        let program = path.to_string_lossy().into_owned();
        let list = |chain: &str| {
            exec::run(&[program.clone(), "-w".into(), "10".into(), "-S".into(), chain.into()], ran)
        };
        let docker_user = list("DOCKER-USER").success();
        let forward = list("FORWARD");
        if !forward.success() {
            return Err(format!("`{} -S FORWARD` failed: {}", backend.program(family), forward.message()));
        }
        let drops = forward.stdout.lines().any(|line| line.trim() == "-P FORWARD DROP");
        probes.push(Probe { backend, docker_user, drops });
    }
    Ok(probes)
}

/// Where the IPv4 accept rules go: the iptables (nft or legacy) that has
/// Docker's `DOCKER-USER` chain, else the one whose FORWARD policy drops,
/// else iptables-nft.
pub(super) fn select_iptables(probes: &[Probe]) -> Option<(Backend, Chain)> {
    probes
        .iter()
        .find(|probe| probe.docker_user)
        .map(|probe| (probe.backend, Chain::DockerUser))
        .or_else(|| probes.iter().find(|probe| probe.drops).map(|probe| (probe.backend, Chain::Forward)))
        .or_else(|| probes.first().map(|probe| (probe.backend, Chain::Forward)))
}

/// The IPv4 iptables and chain [`select_iptables`] picks on this host.
pub(super) fn ipv4_iptables(host: &Host, ran: &Ran) -> Result<(Backend, Chain), PlanError> {
    let probes = probe_iptables(host, Family::Ipv4, ran).map_err(PlanError::HostCheck)?;
    select_iptables(&probes).ok_or_else(|| PlanError::HostCheck("iptables is not installed".to_owned()))
}

/// Where the IPv6 accept rules go, if anywhere: only an ip6tables whose
/// FORWARD policy drops (Docker's, with its ip6tables support on) needs
/// them — into its `DOCKER-USER` chain when it has one, else FORWARD.
pub(super) fn select_ip6tables(probes: &[Probe]) -> Option<(Backend, Chain)> {
    let dropping = || probes.iter().filter(|probe| probe.drops);
    dropping()
        .find(|probe| probe.docker_user)
        .map(|probe| (probe.backend, Chain::DockerUser))
        .or_else(|| dropping().next().map(|probe| (probe.backend, Chain::Forward)))
}

/// Those of `rules` (accepting from `bridge` to `uplink`) of one family
/// not yet in `chain`.
pub(super) fn missing_forward_rules(
    backend: Backend,
    family: Family,
    chain: Chain,
    rules: &[ForwardRule],
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Vec<Change>, PlanError> {
    let program = changes::tool(backend.program(family)).map_err(PlanError::HostCheck)?;
    let mut changes = Vec::new();
    for &rule in rules {
        let check = exec::run(&changes::iptables_argv(&program, "-C", chain, rule, bridge, uplink), ran);
        match check.status {
            0 => {}
            1 => changes.push(Change::Iptables {
                backend,
                family,
                chain,
                rule,
                bridge: bridge.clone(),
                uplink: uplink.clone(),
            }),
            _ => {
                return Err(PlanError::Failed(format!(
                    "cannot check the {} chain of {}: {}",
                    chain.name(),
                    backend.program(family),
                    check.message()
                )));
            }
        }
    }
    Ok(changes)
}

pub(super) fn chain_place(chain: Chain) -> &'static str {
    match chain {
        Chain::DockerUser => "Docker's DOCKER-USER chain, which FORWARD consults before Docker's own rules",
        Chain::Forward => "the FORWARD chain, ahead of the rule or policy that drops it",
    }
}

pub(super) fn plan_accept_forward(
    host: &Host,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?;
    let (backend, chain) = ipv4_iptables(host, ran)?;
    let mut changes =
        missing_forward_rules(backend, Family::Ipv4, chain, &ForwardRule::ALL, bridge, uplink, ran)?;
    let name = &network.name;
    let mut summary = format!(
        "Accepts the traffic of libvirt's network “{name}” from {bridge} out through {uplink}, and its replies, \
         in {} ({}).",
        chain_place(chain),
        backend.program(Family::Ipv4)
    );
    if network.has_ipv6 {
        let probes = probe_iptables(host, Family::Ipv6, ran).map_err(PlanError::Failed)?;
        match select_ip6tables(&probes) {
            Some((backend, chain)) => {
                changes.extend(missing_forward_rules(backend, Family::Ipv6, chain, &ForwardRule::ALL, bridge, uplink, ran)?);
                summary.push_str(&format!(
                    " The network has IPv6 and ip6tables' FORWARD policy drops, so the same rules go into {} \
                     ({}).",
                    chain_place(chain),
                    backend.program(Family::Ipv6)
                ));
            }
            None if probes.is_empty() => summary.push_str(
                " The network has IPv6, but ip6tables is not installed: no IPv6 rules are added.",
            ),
            None => summary.push_str(
                " The network has IPv6; ip6tables' FORWARD policy does not drop, so no IPv6 rules are needed.",
            ),
        }
    }
    summary.push_str(&format!(
        " Each rule carries the comment “{RULE_COMMENT}”; reverting deletes only those rules. \
         These rules are not saved: they are gone after a reboot (or a reload of the whole firewall). To keep \
         them, add the same rules to your firewall's saved configuration (e.g. iptables-persistent's \
         /etc/iptables/rules.v4 and rules.v6), or apply the fix again after a reboot."
    ));
    with_steps(host, summary, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dropping_ip6tables_decides_where_ipv6_rules_go() {
        let probe = |backend, docker_user, drops| Probe { backend, docker_user, drops };
        // Docker on legacy (its chain, its policy), UFW's drop on nft.
        let mixed = [probe(Backend::Nft, false, true), probe(Backend::Legacy, true, true)];
        assert_eq!(select_iptables(&mixed), Some((Backend::Legacy, Chain::DockerUser)));
        assert_eq!(select_ip6tables(&mixed), Some((Backend::Legacy, Chain::DockerUser)));
        // Nothing drops IPv6: no IPv6 rules; IPv4 ones still go into FORWARD.
        let open = [probe(Backend::Nft, true, false)];
        assert_eq!(select_ip6tables(&open), None);
        assert_eq!(
            select_iptables(&[probe(Backend::Nft, false, false)]),
            Some((Backend::Nft, Chain::Forward))
        );
        assert_eq!(
            select_ip6tables(&[probe(Backend::Nft, false, true)]),
            Some((Backend::Nft, Chain::Forward))
        );
        assert_eq!(select_iptables(&[]), None);
    }
}
