//! qemu-bridge-helper: its access list, ETC/qemu/bridge.conf and the files
//! it includes (`allow NAME`, `allow all`, `deny NAME`, `deny all`,
//! `include PATH`, `#` comments), as qemu-bridge-helper reads it; and
//! whether the program has the privilege it needs (setuid root or the file
//! capability cap_net_admin).

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{BridgeAcl, BridgeHelper, Fact};

/// Where distributions install it, under /usr: Debian, Ubuntu and Arch in
/// lib/qemu, Fedora and openSUSE in libexec. libvirt runs the one its build
/// names (Debian's libvirt: /usr/lib/qemu/qemu-bridge-helper).
const BRIDGE_HELPER_PATHS: [&str; 2] = ["lib/qemu/qemu-bridge-helper", "libexec/qemu-bridge-helper"];

/// linux/capability.h.
const CAP_NET_ADMIN: u32 = 12;
const VFS_CAP_REVISION_MASK: u32 = 0xff00_0000;
const VFS_CAP_REVISIONS: [u32; 3] = [0x0100_0000, 0x0200_0000, 0x0300_0000];

/// qemu-bridge-helper under USR (`/usr`, or a captured tree's), with its
/// privilege; `Known(None)` when it is not installed.
pub fn read_bridge_helper(usr: &Path) -> Fact<Option<BridgeHelper>> {
    for relative in BRIDGE_HELPER_PATHS {
        let path = usr.join(relative);
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", path.display())),
        };
        let cap_net_admin = match file_capabilities(&path) {
            Ok(permitted) => permitted & (1 << CAP_NET_ADMIN) != 0,
            Err(why) => return Fact::Unknown(why),
        };
        return Fact::Known(Some(BridgeHelper {
            path: Path::new("/usr").join(relative).to_string_lossy().into_owned(),
            setuid_root: metadata.uid() == 0 && metadata.mode() & 0o4000 != 0,
            cap_net_admin,
        }));
    }
    Fact::Known(None)
}

/// The low 32 permitted capabilities of PATH's `security.capability`
/// attribute (struct vfs_cap_data, little-endian); 0 without one.
fn file_capabilities(path: &Path) -> Result<u32, String> {
    let mut data = [0_u8; 24];
    let length = match rustix::fs::getxattr(path, "security.capability", &mut data[..]) {
        Ok(length) => length,
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => return Ok(0),
        Err(error) => {
            return Err(format!("cannot read the file capabilities of {}: {error}", path.display()));
        }
    };
    parse_capabilities(data.get(..length).unwrap_or_default())
        .ok_or_else(|| format!("{}: security.capability is not in a format this app knows", path.display()))
}

fn parse_capabilities(data: &[u8]) -> Option<u32> {
    let word = |at: usize| Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?));
    let magic = word(0)?;
    VFS_CAP_REVISIONS.contains(&(magic & VFS_CAP_REVISION_MASK)).then_some(())?;
    word(4)
}

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
    fn the_helper_and_its_privilege_are_read_where_distributions_put_it()
    -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(&[("usr/libexec/qemu-bridge-helper", "")])?;
        let usr = dir.path().join("usr");
        let Fact::Known(Some(helper)) = read_bridge_helper(&usr) else { return Err("not found".into()) };
        assert_eq!(helper.path, "/usr/libexec/qemu-bridge-helper");
        assert!(!helper.cap_net_admin, "a file without capabilities");
        // The test may not run as root: the owner decides setuid_root.
        let root_owned = fs::metadata(usr.join("libexec/qemu-bridge-helper"))?.uid() == 0;
        fs::set_permissions(usr.join("libexec/qemu-bridge-helper"), fs::Permissions::from_mode(0o4755))?;
        let Fact::Known(Some(helper)) = read_bridge_helper(&usr) else { return Err("not found".into()) };
        assert_eq!(helper.setuid_root, root_owned);
        assert_eq!(helper.privileged(), root_owned);
        assert_eq!(read_bridge_helper(&dir.path().join("nothing")), Fact::Known(None));
        Ok(())
    }

    #[test]
    fn file_capabilities_are_read_from_each_revision() {
        // `setcap cap_net_admin+ep` writes revision 2 (20 bytes); with a
        // namespaced root, revision 3 (24). Bit 12 is cap_net_admin.
        let v2 = [[0x01, 0, 0, 0x02], 0x1000_u32.to_le_bytes(), [0; 4], [0; 4], [0; 4]].concat();
        assert_eq!(parse_capabilities(&v2), Some(0x1000));
        let v3 = [[0x01, 0, 0, 0x03], 0x1000_u32.to_le_bytes(), [0; 4], [0; 4], [0; 4], [0; 4]].concat();
        assert_eq!(parse_capabilities(&v3), Some(0x1000));
        assert_eq!(parse_capabilities(&[[0, 0, 0, 0x07], 0x1000_u32.to_le_bytes()].concat()), None);
        assert_eq!(parse_capabilities(&[0x01, 0, 0]), None);
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
