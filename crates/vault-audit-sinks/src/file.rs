//! The JSON-lines file sink: one compact JSON object per line, appended, fsync'd, with
//! size-based rotation.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::{AuditSink, ConfigError, Delivery, SinkError, StreamedEvent};

/// When the file sink starts a new file, and how many old ones it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// A file grows up to this many bytes: a line that would take it past is written to a
    /// new file instead (a line is never split, so a single line longer than this gets a
    /// file of its own, longer than this). At least 1.
    pub max_bytes: u64,
    /// Rotated files kept: `path.1` (the newest) to `path.<keep>`; the oldest beyond is
    /// deleted. 0 keeps none: a full file is deleted when the next one starts.
    pub keep: usize,
}

impl Default for Rotation {
    /// 100 MiB files, five of them kept besides the current one.
    fn default() -> Self {
        Self {
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
        }
    }
}

/// Appends each event as one line of compact JSON (newline-terminated) to a file, and
/// fsyncs it before `deliver` returns. Files are created with mode 0600 (the audit log
/// says who used which credential when); an existing file keeps its mode. The directory
/// must exist: the sink never creates one.
///
/// The sink also copes with a file moved or truncated behind its back (logrotate): each
/// batch checks that the path still names the open file, and reopens it if not.
#[derive(Debug)]
pub struct FileSink {
    writer: Arc<Mutex<Writer>>,
}

impl FileSink {
    /// A sink appending to `path` (created if missing), rotating by `rotation`.
    ///
    /// Opens the file at once, so that a wrong directory or permission shows at start-up;
    /// this is blocking file I/O, meant for start-up.
    ///
    /// # Errors
    /// [`ConfigError::MissingDirectory`] if the directory does not exist,
    /// [`ConfigError::File`] for a path without a file name, one naming a directory, or a
    /// `max_bytes` of 0, and [`ConfigError::Open`] if the file cannot be opened.
    pub fn new(path: impl Into<PathBuf>, rotation: Rotation) -> Result<Self, ConfigError> {
        let path = path.into();
        let invalid = |reason| ConfigError::File {
            path: path.clone(),
            reason,
        };
        if rotation.max_bytes == 0 {
            return Err(invalid("max_bytes must be at least 1"));
        }
        if path.file_name().is_none() {
            return Err(invalid("the path has no file name"));
        }
        let dir = directory_of(&path);
        if !dir.is_dir() {
            return Err(ConfigError::MissingDirectory {
                dir: dir.to_path_buf(),
            });
        }
        if path.is_dir() {
            return Err(invalid("the path is a directory"));
        }
        let mut writer = Writer {
            path,
            rotation,
            file: None,
            dir_dirty: false,
        };
        writer.open().map_err(|source| ConfigError::Open {
            path: writer.path.clone(),
            source,
        })?;
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
        })
    }
}

impl AuditSink for FileSink {
    fn name(&self) -> &str {
        "file"
    }

    fn deliver<'a>(&'a self, events: &'a [StreamedEvent]) -> Delivery<'a> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            let mut lines = Vec::with_capacity(events.len());
            for event in events {
                let mut line =
                    serde_json::to_vec(&event.json).map_err(|_| SinkError::Rejected {
                        reason: "an event could not be written as JSON".to_owned(),
                    })?;
                line.push(b'\n');
                lines.push(line);
            }
            // One writer at a time: the lock is held until the blocking write is over, even
            // if this future is dropped meanwhile (the guard moves into the blocking task),
            // so batches never interleave.
            let mut writer = Arc::clone(&self.writer).lock_owned().await;
            tokio::task::spawn_blocking(move || writer.append(&lines))
                .await
                .map_err(|_| SinkError::Io {
                    context: "the audit file writer stopped unexpectedly".to_owned(),
                    source: io::Error::other("blocking task failed"),
                })?
        })
    }
}

/// The open file and what rotating it needs. Only ever used under the sink's mutex, on a
/// blocking thread.
#[derive(Debug)]
struct Writer {
    path: PathBuf,
    rotation: Rotation,
    file: Option<File>,
    /// A file was created or renamed since the directory was last fsync'd.
    dir_dirty: bool,
}

impl Writer {
    /// Appends `lines` (each newline-terminated), rotating as needed, then fsyncs. On an
    /// error the file is closed, to be reopened by the next batch.
    fn append(&mut self, lines: &[Vec<u8>]) -> Result<(), SinkError> {
        let result = self.try_append(lines);
        if result.is_err() {
            self.file = None;
        }
        result
    }

    fn try_append(&mut self, lines: &[Vec<u8>]) -> Result<(), SinkError> {
        self.ensure_current()
            .map_err(|e| self.error("opening", e))?;
        let mut size = self
            .current()
            .and_then(File::metadata)
            .map_err(|e| self.error("reading the size of", e))?
            .len();
        let mut pending: Vec<u8> = Vec::new();
        for line in lines {
            let len = line.len() as u64;
            if size > 0 && size.saturating_add(len) > self.rotation.max_bytes {
                self.write_and_sync(&pending)?;
                pending.clear();
                self.rotate().map_err(|e| self.error("rotating", e))?;
                size = 0;
            }
            pending.extend_from_slice(line);
            size = size.saturating_add(len);
        }
        self.write_and_sync(&pending)?;
        if self.dir_dirty {
            // New names (a created file, renames) are durable only once the directory is.
            File::open(directory_of(&self.path))
                .and_then(|dir| dir.sync_all())
                .map_err(|e| self.error("syncing the directory of", e))?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    fn current(&self) -> io::Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| io::Error::other("the file is not open"))
    }

    fn write_and_sync(&self, bytes: &[u8]) -> Result<(), SinkError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.current()
            .and_then(|mut file| {
                file.write_all(bytes)?;
                file.flush()?;
                file.sync_data()
            })
            .map_err(|e| self.error("appending to", e))
    }

    /// Opens the file again if it is not open, or if the path no longer names it (moved
    /// or deleted by someone else).
    fn ensure_current(&mut self) -> io::Result<()> {
        let same = match (&self.file, fs::metadata(&self.path)) {
            (Some(file), Ok(at_path)) => {
                let open = file.metadata()?;
                open.dev() == at_path.dev() && open.ino() == at_path.ino()
            }
            _ => false,
        };
        if !same {
            self.open()?;
        }
        Ok(())
    }

    /// Opens (creating, mode 0600) the file for appending. A file whose last line was cut
    /// short (a write that failed half-way, a crash) gets a newline first, so that the
    /// next line starts on a line of its own.
    fn open(&mut self) -> io::Result<()> {
        self.file = None;
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1)?;
            if last[0] != b'\n' {
                tracing::warn!(
                    path = %self.path.display(),
                    "the audit file's last line was incomplete: ending it before appending"
                );
                (&file).write_all(b"\n")?;
            }
        }
        self.file = Some(file);
        self.dir_dirty = true;
        Ok(())
    }

    /// Moves the current file to `path.1` (shifting older ones up to `path.<keep>`, the
    /// oldest deleted), or deletes it when none are kept, and opens a new one.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let keep = self.rotation.keep;
        if keep == 0 {
            ignore_missing(fs::remove_file(&self.path))?;
        } else {
            ignore_missing(fs::remove_file(rotated(&self.path, keep)))?;
            for n in (1..keep).rev() {
                ignore_missing(fs::rename(
                    rotated(&self.path, n),
                    rotated(&self.path, n + 1),
                ))?;
            }
            fs::rename(&self.path, rotated(&self.path, 1))?;
        }
        tracing::debug!(path = %self.path.display(), keep, "audit file rotated");
        self.open()
    }

    fn error(&self, doing: &str, source: io::Error) -> SinkError {
        let context =
            if source.kind() == io::ErrorKind::NotFound && !directory_of(&self.path).is_dir() {
                format!(
                    "{doing} the audit file {}: its directory {} does not exist",
                    self.path.display(),
                    directory_of(&self.path).display()
                )
            } else {
                format!("{doing} the audit file {}", self.path.display())
            };
        SinkError::Io { context, source }
    }
}

/// `path.<n>`.
fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The directory `path` is in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
