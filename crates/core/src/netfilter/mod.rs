//! Evaluates the host's real netfilter ruleset (nft JSON, legacy iptables
//! save output) for the paths VM traffic takes.
