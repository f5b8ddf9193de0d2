//! Writing and removing the journal's files in the helper's state
//! directory so that a crash, a planted link or a left-over temporary file
//! can never leave them half-written, follow a link elsewhere, or change
//! who owns them. (The host files it manages are rewritten in place,
//! `in_place_file`, and removed by [`remove`] here.)
//!
//! A write goes to a new temporary file next to the target, created with
//! `O_EXCL|O_NOFOLLOW` (it cannot be a file or link that was there
//! before), given the target's owner and mode, synced, renamed over the
//! target, and then the directory is synced so that the rename itself
//! survives a power cut.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The owner and mode a new file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewFile {
    pub mode: u32,
}

/// Replaces `path` with `contents`. An existing file keeps its owner and
/// mode; a new one is root's with `new.mode`. A path that is not a regular
/// file (a link, a directory) is refused.
pub fn write(path: &Path, contents: &[u8], new: NewFile) -> std::io::Result<()> {
    let (dir, name) = split(path)?;
    let keep = match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_file() => {
            Some((metadata.uid(), metadata.gid(), metadata.mode() & 0o7777))
        }
        Ok(_) => return Err(std::io::Error::other("not a regular file")),
        Err(error) if error.kind() == ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let (temporary, mut file) = create_temporary(dir, name)?;
    let written = (|| {
        if let Some((uid, gid, _)) = keep {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        let mode = keep.map_or(new.mode, |(_, _, mode)| mode);
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        // Best effort: the error that matters is the write's.
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    sync_dir(dir)
}

/// Removes `path` (a regular file or a link, never followed) and syncs its
/// directory.
pub fn remove(path: &Path) -> std::io::Result<()> {
    let (dir, _) = split(path)?;
    fs::remove_file(path)?;
    sync_dir(dir)
}

fn split(path: &Path) -> std::io::Result<(&Path, &std::ffi::OsStr)> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent directory"))?;
    let name = path.file_name().ok_or_else(|| std::io::Error::other("no file name"))?;
    Ok((dir, name))
}

/// A new, empty, private file next to the target: `.NAME.PID.N.tmp`, never
/// one that exists (a left-over from a crash, or something planted) and
/// never through a link.
fn create_temporary(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, fs::File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut last_error = None;
    for _ in 0..16 {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = dir.join(format!(".{}.{}.{count}.tmp", name.to_string_lossy(), std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const NEW: NewFile = NewFile { mode: 0o644 };

    fn names_in(dir: &Path) -> Result<Vec<String>, std::io::Error> {
        let mut names: Vec<String> = fs::read_dir(dir)?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    #[test]
    fn a_new_file_gets_the_given_mode_and_nothing_is_left_beside_it() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("90-test.conf");
        write(&path, b"one\n", NEW)?;
        assert_eq!(fs::read_to_string(&path)?, "one\n");
        assert_eq!(fs::metadata(&path)?.mode() & 0o7777, 0o644);
        assert_eq!(names_in(dir.path())?, ["90-test.conf"]);
        Ok(())
    }

    #[test]
    fn an_existing_file_keeps_its_owner_and_mode() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("network.conf");
        fs::write(&path, "old\n")?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640))?;
        // Another owner than the writer's, when the test may give one.
        let other = if running_as_root() { Some(4001) } else { None };
        if let Some(uid) = other {
            std::os::unix::fs::chown(&path, Some(uid), Some(uid))?;
        }
        write(&path, b"new\n", NEW)?;
        let metadata = fs::metadata(&path)?;
        assert_eq!(fs::read_to_string(&path)?, "new\n");
        assert_eq!(metadata.mode() & 0o7777, 0o640);
        if let Some(uid) = other {
            assert_eq!((metadata.uid(), metadata.gid()), (uid, uid));
        }
        Ok(())
    }

    fn running_as_root() -> bool {
        fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
    }

    #[test]
    fn a_link_in_place_of_the_file_is_refused_and_its_target_untouched() -> TestResult {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("shadow");
        fs::write(&target, "secret\n")?;
        let path = dir.path().join("90-test.conf");
        std::os::unix::fs::symlink(&target, &path)?;
        assert!(write(&path, b"planted\n", NEW).is_err());
        assert_eq!(fs::read_to_string(&target)?, "secret\n");
        Ok(())
    }

    #[test]
    fn a_planted_or_left_over_temporary_file_is_never_written_through() -> TestResult {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("shadow");
        fs::write(&target, "secret\n")?;
        // Links at every name this process's writes could pick.
        for count in 0..4096 {
            let name = format!(".90-test.conf.{}.{count}.tmp", std::process::id());
            std::os::unix::fs::symlink(&target, dir.path().join(name))?;
        }
        let path = dir.path().join("90-test.conf");
        assert!(write(&path, b"ours\n", NEW).is_err());
        assert_eq!(fs::read_to_string(&target)?, "secret\n");
        assert!(!path.exists());
        Ok(())
    }

    #[test]
    fn remove_takes_the_file_away() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("90-test.conf");
        write(&path, b"x\n", NEW)?;
        remove(&path)?;
        assert!(names_in(dir.path())?.is_empty());
        Ok(())
    }
}
