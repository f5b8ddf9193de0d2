//! Writing the host files the helper manages (its sysctl file, libvirt's
//! network.conf) in place. The unit grants each of them alone
//! (`ReadWritePaths=` per file, which systemd makes a bind mount of the
//! file onto itself) in an otherwise read-only /etc, so the helper can
//! neither plant a file beside them nor replace one by a rename: a rename
//! onto a mount point fails, and the directory is read-only. Where the
//! directory is writable (no unit: the lab, the tests), a missing file is
//! created; under the unit, `ExecStartPre=` makes the sysctl file exist
//! beforehand.
//!
//! The new contents are written from the start of the file, which is then
//! cut to their length and synced: a crash part-way leaves the new text
//! followed by the old one's tail, never an empty file, and the journal
//! still holds what was there before, for Revert.

use std::fs;
use std::io::{ErrorKind, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The mode a file the helper creates gets: world-readable, like the rest
/// of /etc/sysctl.d and /etc/libvirt.
const NEW_FILE_MODE: u32 = 0o644;

/// Writes `contents` into `path`, keeping the file itself (its owner, mode
/// and mount); creates it when it is missing. A link or anything but a
/// regular file is refused, never followed.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = match open(path, false) {
        Err(error) if error.kind() == ErrorKind::NotFound => open(path, true)?,
        other => other?,
    };
    // Opened without following a link; a device or FIFO would still open.
    let metadata = file.metadata()?;
    if !metadata.file_type().is_file() || metadata.nlink() != 1 {
        return Err(std::io::Error::other("not a regular file of its own"));
    }
    file.seek(SeekFrom::Start(0))?;
    file.write_all(contents)?;
    file.set_len(u64::try_from(contents.len()).map_err(std::io::Error::other)?)?;
    file.sync_all()
}

fn open(path: &Path, create: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    if create {
        options.create_new(true).mode(NEW_FILE_MODE);
    }
    options.open(path)
}

/// Removing is the same as for the journal's files (never following a
/// link, then syncing the directory); only where the helper created the
/// file: under the unit its files exist before it starts, and a revert
/// writes back what was there.
pub use crate::atomic_file::remove;

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_missing_file_is_created_readable_by_all() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("90-test.conf");
        write(&path, b"one\n")?;
        assert_eq!(fs::read_to_string(&path)?, "one\n");
        assert_eq!(fs::metadata(&path)?.mode() & 0o7777, 0o644);
        Ok(())
    }

    /// The same inode, so a bind mount of the file stays on it; a shorter
    /// text leaves nothing of the longer one behind.
    #[test]
    fn an_existing_file_is_rewritten_in_place_with_its_mode() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("network.conf");
        fs::write(&path, "a much longer old text\n")?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640))?;
        let inode = fs::metadata(&path)?.ino();
        write(&path, b"new\n")?;
        let metadata = fs::metadata(&path)?;
        assert_eq!(fs::read_to_string(&path)?, "new\n");
        assert_eq!((metadata.ino(), metadata.mode() & 0o7777), (inode, 0o640));
        Ok(())
    }

    #[test]
    fn a_link_in_place_of_the_file_is_refused_and_its_target_untouched() -> TestResult {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("shadow");
        fs::write(&target, "secret\n")?;
        let path = dir.path().join("90-test.conf");
        std::os::unix::fs::symlink(&target, &path)?;
        assert!(write(&path, b"planted\n").is_err());
        assert_eq!(fs::read_to_string(&target)?, "secret\n");
        Ok(())
    }

    /// A hard link would write through to another file (e.g. one planted
    /// to point at /etc/shadow); refused.
    #[test]
    fn a_hard_linked_file_is_refused_and_left_as_it_was() -> TestResult {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("shadow");
        fs::write(&target, "secret\n")?;
        let path = dir.path().join("90-test.conf");
        fs::hard_link(&target, &path)?;
        assert!(write(&path, b"planted\n").is_err());
        assert_eq!(fs::read_to_string(&target)?, "secret\n");
        Ok(())
    }

    #[test]
    fn a_directory_or_device_is_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        assert!(write(dir.path(), b"x\n").is_err());
        let link = dir.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &link)?;
        assert!(write(&link, b"x\n").is_err());
        // A device node itself (world-writable): opened, then refused.
        assert!(write(Path::new("/dev/null"), b"x\n").is_err());
        Ok(())
    }
}
