//! Writing outputs: every file goes to a temp file in its folder first and is renamed over
//! its target, so a failing run never leaves a half-written or clobbered report.

use std::path::{Path, PathBuf};

use super::ReportError;

/// Writes each `(file name, content)` into `dir`: all to temp files first, then each renamed
/// over its target, so a failure leaves every existing output as it was.
pub fn write_outputs(dir: &Path, outputs: &[(String, String)]) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.display().to_string(), source })?;
    let mut temps = Vec::new();
    for (name, content) in outputs {
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        if let Err(source) = std::fs::write(&temp, content) {
            for (t, _) in &temps {
                let _ = std::fs::remove_file(t);
            }
            let _ = std::fs::remove_file(&temp);
            return Err(ReportError::Io { path: temp.display().to_string(), source });
        }
        temps.push((temp, dir.join(name)));
    }
    let mut written = Vec::new();
    for (temp, target) in temps {
        std::fs::rename(&temp, &target).map_err(|source| ReportError::Io { path: target.display().to_string(), source })?;
        written.push(target);
    }
    Ok(written)
}

/// Writes one file atomically (temp file and rename).
pub fn write_file(path: &Path, content: &str) -> Result<(), ReportError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    write_outputs(dir, &[(name, content.to_string())]).map(|_| ())
}

/// Whether files can be written in `dir` (made if missing): checked before a long run, so
/// that the error names the folder and comes before the work, not after it.
pub fn writable(dir: &Path) -> Result<(), ReportError> {
    let fail = |source| ReportError::Io { path: format!("cannot write in the folder `{}`", dir.display()), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".derivcheck-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
