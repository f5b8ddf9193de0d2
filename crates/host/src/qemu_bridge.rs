//! qemu-bridge-helper's access list: ETC/qemu/bridge.conf and the files it
//! includes (`allow NAME`, `allow all`, `deny NAME`, `deny all`, `include
//! PATH`, `#` comments), as qemu-bridge-helper reads it.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{BridgeAcl, Fact};

/// How deep `include` may nest: a guard against a file including itself.
const MAX_INCLUDE_DEPTH: usize = 8;

pub fn read_bridge_acl(etc: &Path) -> Fact<BridgeAcl> {
    let path = etc.join("qemu/bridge.conf");
    let mut acl = BridgeAcl::default();
    match read_into(&path, etc, &mut acl, 0) {
        Ok(()) => Fact::Known(acl),
        // No file: qemu-bridge-helper refuses every bridge.
        Err(error) if error.kind() == ErrorKind::NotFound => Fact::Known(BridgeAcl::default()),
        Err(error) => Fact::Unknown(format!("cannot read {}: {error}", path.display())),
    }
}

/// One file's lines into `acl`, then the files it includes. The order does
/// not matter: the helper allows a bridge that some line allows and no line
/// denies.
fn read_into(path: &Path, etc: &Path, acl: &mut BridgeAcl, depth: usize) -> std::io::Result<()> {
    let text = fs::read_to_string(path)?;
    let mut included = Vec::new();
    for (key, value) in directives(&text) {
        match key {
            "allow" => acl.allow.push(value.to_owned()),
            "deny" => acl.deny.push(value.to_owned()),
            "include" => included.push(under(etc, value)),
            _ => {}
        }
    }
    if depth < MAX_INCLUDE_DEPTH {
        for file in included {
            match read_into(&file, etc, acl, depth + 1) {
                Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
    }
    Ok(())
}

/// An absolute path of the host, read under ETC's parent when ETC is a
/// captured tree rather than /etc.
fn under(etc: &Path, included: &str) -> PathBuf {
    match (etc.parent(), included.strip_prefix('/')) {
        (Some(root), Some(relative)) if etc != Path::new("/etc") => root.join(relative),
        _ => PathBuf::from(included),
    }
}

/// `(keyword, argument)` of each line that has both, comments removed.
fn directives(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let line = line.split('#').next().unwrap_or("").trim();
        let (key, value) = line.split_once(char::is_whitespace)?;
        Some((key, value.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Result<tempfile::TempDir, std::io::Error> {
        let dir = tempfile::tempdir()?;
        for (path, text) in files {
            let path = dir.path().join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, text)?;
        }
        Ok(dir)
    }

    #[test]
    fn allow_deny_and_include_as_the_helper_reads_them() -> Result<(), Box<dyn std::error::Error>> {
        // Fedora's file: it includes /etc/qemu/${USER}.conf-style files.
        let dir = tree(&[
            ("etc/qemu/bridge.conf", "# comment\nallow virbr0\ninclude /etc/qemu/extra.conf\n"),
            ("etc/qemu/extra.conf", "allow br0 # the LAN\ndeny br1\n"),
        ])?;
        let Fact::Known(acl) = read_bridge_acl(&dir.path().join("etc")) else { return Err("unknown".into()) };
        assert_eq!(acl.allow, ["virbr0", "br0"]);
        assert_eq!(acl.deny, ["br1"]);
        assert!(acl.allows("virbr0") && acl.allows("br0"));
        assert!(!acl.allows("br1") && !acl.allows("br2"));
        Ok(())
    }

    #[test]
    fn no_file_allows_nothing_and_deny_wins() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tree(&[])?;
        assert_eq!(read_bridge_acl(&dir.path().join("etc")), Fact::Known(BridgeAcl::default()));
        let acl = BridgeAcl { allow: vec!["all".into()], deny: vec!["br0".into()] };
        assert!(acl.allows("virbr0"));
        assert!(!acl.allows("br0"));
        Ok(())
    }
}
