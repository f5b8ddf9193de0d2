//! Following one packet through a table's chains: jumps, gotos, returns,
//! verdict maps and marks, every undecided rule both ways, to a verdict
//! per base chain ([`ChainVerdict`]). Apart from the model in the parent
//! module because this is the one part with control flow of its own.

use super::{Action, Chain, Cond, Rule, Table, Tri};
use crate::netfilter::packet::{Hook, Mark, Packet};

/// Where a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DropAt {
    pub(crate) table: usize,
    pub(crate) base: String,
    pub(crate) chain: String,
    /// `None`: the base chain's policy.
    pub(crate) rule: Option<String>,
}

/// Everything that may happen to a packet from some point on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Outcomes {
    accept: bool,
    drop: Option<DropAt>,
    /// Fell off the end of the chain, or `return`.
    fallthrough: bool,
    /// A verdict we cannot follow.
    unknown: Option<String>,
    /// Why more than one outcome is possible.
    doubts: Vec<String>,
}

impl Outcomes {
    fn merge(mut self, other: Self) -> Self {
        self.accept |= other.accept;
        if self.drop.is_none() {
            self.drop = other.drop;
        }
        self.fallthrough |= other.fallthrough;
        if self.unknown.is_none() {
            self.unknown = other.unknown;
        }
        for doubt in other.doubts {
            if !self.doubts.contains(&doubt) {
                self.doubts.push(doubt);
            }
        }
        self
    }

    /// Records why this point has several outcomes, ahead of the doubts
    /// met further down (so they read in evaluation order).
    fn doubt(mut self, why: String) -> Self {
        if !self.doubts.contains(&why) {
            self.doubts.insert(0, why);
        }
        self
    }
}

/// A base chain's result for one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChainVerdict {
    Accept,
    Drop(DropAt),
    /// It may drop (or its verdict cannot be followed): why.
    Unknown {
        may_drop: Option<DropAt>,
        why: String,
    },
}

/// How many rules one evaluation may visit before giving up.
const BUDGET: u32 = 200_000;
const MAX_DEPTH: u32 = 64;
/// How many undecidable rules an unknown verdict names.
const MAX_DOUBTS: usize = 2;

pub(crate) struct Evaluator<'a> {
    pub(crate) tables: &'a [Table],
    budget: u32,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(tables: &'a [Table]) -> Self {
        Self { tables, budget: BUDGET }
    }

    /// The fate of `packet` in one base chain.
    pub(crate) fn base_chain(&mut self, table: usize, chain: &Chain, packet: &Packet) -> ChainVerdict {
        let Some(base) = &chain.base else {
            return ChainVerdict::Unknown {
                may_drop: None,
                why: format!("{} is not a base chain", chain.name),
            };
        };
        let mut outcomes = self.run(table, &chain.name, &chain.name, 0, packet, 0);
        if outcomes.fallthrough {
            outcomes.fallthrough = false;
            if base.policy_drop {
                if outcomes.drop.is_none() {
                    outcomes.drop = Some(DropAt {
                        table,
                        base: chain.name.clone(),
                        chain: chain.name.clone(),
                        rule: None,
                    });
                }
            } else {
                outcomes.accept = true;
            }
        }
        let possible = usize::from(outcomes.accept)
            + usize::from(outcomes.drop.is_some())
            + usize::from(outcomes.unknown.is_some());
        match (outcomes.accept, outcomes.drop, outcomes.unknown) {
            (true, None, None) => ChainVerdict::Accept,
            (false, Some(drop), None) => ChainVerdict::Drop(drop),
            (_, drop, unknown) => {
                let mut why: Vec<String> = Vec::new();
                why.extend(unknown);
                if possible > 1 || why.is_empty() {
                    // The first undecidable rules say enough.
                    let more = outcomes.doubts.len().saturating_sub(MAX_DOUBTS);
                    why.extend(outcomes.doubts.into_iter().take(MAX_DOUBTS));
                    if more > 0 {
                        why.push(format!("and {more} more such rules"));
                    }
                }
                ChainVerdict::Unknown { may_drop: drop, why: why.join("; ") }
            }
        }
    }

    /// Runs `chain` of `table` from rule `start`.
    fn run(
        &mut self,
        table: usize,
        base: &str,
        chain_name: &str,
        start: usize,
        packet: &Packet,
        depth: u32,
    ) -> Outcomes {
        let Some(tbl) = self.tables.get(table) else { return Outcomes::default() };
        let Some(chain) = tbl.chain(chain_name) else {
            return Outcomes {
                unknown: Some(format!("{}: chain {chain_name} is missing", tbl.describe())),
                ..Outcomes::default()
            };
        };
        if depth > MAX_DEPTH {
            return Outcomes {
                unknown: Some(format!("{}: jumps nest too deep", tbl.describe())),
                ..Outcomes::default()
            };
        }
        for (index, rule) in chain.rules.iter().enumerate().skip(start) {
            if self.budget == 0 {
                return Outcomes {
                    unknown: Some("the ruleset is too large to follow".to_owned()),
                    ..Outcomes::default()
                };
            }
            self.budget -= 1;
            let truth = conds_truth(&rule.conds, packet);
            match truth {
                Tri::No => continue,
                Tri::Yes => {
                    if rule.action.is_continue() {
                        if let Some(mark) = rule.sets_mark {
                            let mut marked = packet.clone();
                            marked.mark = mark.map_or(Mark::Unknown, Mark::Known);
                            return self.run(table, base, chain_name, index + 1, &marked, depth);
                        }
                        continue;
                    }
                    return self.act(table, base, chain, index, &rule.action, rule, packet, depth);
                }
                Tri::Maybe(why) => {
                    if rule.action.is_continue() && rule.sets_mark.is_none() {
                        continue;
                    }
                    let why =
                        format!("{}, chain {}: `{}` depends on {why}", tbl.describe(), chain.name, rule.text);
                    let matched = if rule.action.is_continue() {
                        let mut marked = packet.clone();
                        marked.mark = Mark::Unknown;
                        self.run(table, base, chain_name, index + 1, &marked, depth)
                    } else {
                        self.act(table, base, chain, index, &rule.action, rule, packet, depth)
                    };
                    let unmatched = self.run(table, base, chain_name, index + 1, packet, depth);
                    return matched.merge(unmatched).doubt(why);
                }
            }
        }
        Outcomes { fallthrough: true, ..Outcomes::default() }
    }

    /// Applies a matched rule's action, then continues as the action says.
    #[allow(clippy::too_many_arguments)] // the evaluation's position, spelled out
    fn act(
        &mut self,
        table: usize,
        base: &str,
        chain: &Chain,
        index: usize,
        action: &Action,
        rule: &Rule,
        packet: &Packet,
        depth: u32,
    ) -> Outcomes {
        match action {
            Action::Continue => self.run(table, base, &chain.name, index + 1, packet, depth),
            Action::Accept => Outcomes { accept: true, ..Outcomes::default() },
            Action::Drop => Outcomes {
                drop: Some(DropAt {
                    table,
                    base: base.to_owned(),
                    chain: chain.name.clone(),
                    rule: Some(rule.text.clone()),
                }),
                ..Outcomes::default()
            },
            Action::Return => Outcomes { fallthrough: true, ..Outcomes::default() },
            Action::Jump(target) => {
                let mut called = self.run(table, base, target, 0, packet, depth + 1);
                if called.fallthrough {
                    called.fallthrough = false;
                    let rest = self.run(table, base, &chain.name, index + 1, packet, depth);
                    called.merge(rest)
                } else {
                    called
                }
            }
            Action::Goto(target) => self.run(table, base, target, 0, packet, depth + 1),
            Action::Vmap(entries) => {
                for (position, (test, entry_action)) in entries.iter().enumerate() {
                    match test.eval(packet) {
                        Tri::No => {}
                        Tri::Yes => {
                            return self.act(table, base, chain, index, entry_action, rule, packet, depth);
                        }
                        Tri::Maybe(why) => {
                            let matched =
                                self.act(table, base, chain, index, entry_action, rule, packet, depth);
                            let rest = Action::Vmap(entries[position + 1..].to_vec());
                            let unmatched = self.act(table, base, chain, index, &rest, rule, packet, depth);
                            return matched.merge(unmatched).doubt(why);
                        }
                    }
                }
                self.run(table, base, &chain.name, index + 1, packet, depth)
            }
            Action::Unknown(why) => {
                let tbl = self.tables.get(table).map(Table::describe).unwrap_or_default();
                Outcomes {
                    unknown: Some(format!("{tbl}, chain {}: `{}`: {why}", chain.name, rule.text)),
                    ..Outcomes::default()
                }
            }
        }
    }
}

/// All conditions of a rule (AND): one false condition decides, whatever
/// the undecided ones say.
fn conds_truth(conds: &[Cond], packet: &Packet) -> Tri {
    let mut maybe = None;
    for cond in conds {
        match cond {
            Cond::Test(test) => match test.eval(packet) {
                Tri::No => return Tri::No,
                Tri::Yes => {}
                Tri::Maybe(why) => maybe = maybe.or(Some(why)),
            },
            Cond::Opaque(why) => maybe = maybe.or_else(|| Some(why.clone())),
        }
    }
    maybe.map_or(Tri::Yes, Tri::Maybe)
}

/// Evaluation of every filtering base chain on a packet's path.
pub(crate) fn base_chains<'t>(tables: &'t [Table], hooks: &[Hook]) -> Vec<(usize, &'t Chain)> {
    let mut chains: Vec<(usize, &Chain)> = tables
        .iter()
        .enumerate()
        .filter(|(_, table)| table.family.sees_ipv4())
        .flat_map(|(index, table)| table.chains.iter().map(move |chain| (index, chain)))
        .filter(|(_, chain)| {
            chain.base.as_ref().is_some_and(|base| base.filter && hooks.contains(&base.hook))
        })
        .collect();
    chains.sort_by_key(|(_, chain)| chain.base.as_ref().map(|base| (base.hook, base.priority)));
    chains
}
