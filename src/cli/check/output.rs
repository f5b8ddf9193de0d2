//! Where a report goes: standard output, or a file given with `--output`,
//! which is written beside its final name and renamed over it, so a
//! reader (node_exporter's textfile collector, a web server) never sees
//! half a report.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes the report with `write` to `path`, or to standard output.
pub fn write_report(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let Some(path) = path else {
        // Buffered: stdout alone flushes every line, one write per line of a
        // report that has tens of thousands of them on a large host.
        let mut stdout = BufWriter::new(io::stdout().lock());
        write(&mut stdout)?;
        return stdout.flush();
    };
    let partial = partial_path(path)?;
    let written = File::create(&partial).and_then(|file| {
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()
    });
    match written.and_then(|()| fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            // Nothing half-written is left beside the report.
            let _ = fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// `DIR/.NAME.PID.partial`: in the same directory, so the rename is
/// atomic, and hidden, so a collector reading `*.prom` skips it.
fn partial_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a file name", path.display()))
    })?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".{}.partial", std::process::id()));
    Ok(path.with_file_name(partial))
}

#[cfg(test)]
mod tests {
    use super::write_report;

    #[test]
    fn the_file_is_replaced_whole_and_nothing_is_left_beside_it() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vmnet-doctor.prom");
        std::fs::write(&path, "old\n")?;
        write_report(Some(&path), |out| out.write_all(b"new\n"))?;
        assert_eq!(std::fs::read_to_string(&path)?, "new\n");
        let failed = write_report(Some(&path), |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("the report failed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path)?, "new\n", "a failed report leaves the last one");
        let names: Vec<_> =
            std::fs::read_dir(dir.path())?.filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(names, ["vmnet-doctor.prom"]);
        assert!(write_report(Some(&dir.path().join("no-such-dir/x.prom")), |_| Ok(())).is_err());
        Ok(())
    }
}
