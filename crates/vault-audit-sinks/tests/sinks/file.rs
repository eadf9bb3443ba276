//! The JSON-lines file sink, on real files in a temporary directory.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vault_audit_sinks::{AuditSink, ConfigError, FileSink, Rotation, SinkError, StreamedEvent};

use crate::conformance::{self, Receiver};
use crate::support::{CONTENT_MARKER, event, events};

/// Reads the lines the sink appended, from where the last read stopped.
struct FileReceiver {
    path: PathBuf,
    read: usize,
}

impl Receiver for FileReceiver {
    async fn next(&mut self, n: usize) -> Vec<Value> {
        let lines = lines_of(&self.path);
        assert!(
            lines.len() >= self.read + n,
            "{} lines, wanted {}",
            lines.len(),
            self.read + n
        );
        let got = lines[self.read..self.read + n].to_vec();
        self.read += n;
        got
    }
}

/// Every line of a file, each checked to be newline-terminated JSON.
fn lines_of(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("the file is there");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the last line ends"
    );
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

/// What the file holds for `events`: one compact JSON object per line.
fn expected_text(events: &[StreamedEvent]) -> String {
    events
        .iter()
        .map(|e| format!("{}\n", serde_json::to_string(&e.json).expect("JSON")))
        .collect()
}

fn line_len(event: &StreamedEvent) -> u64 {
    expected_text(std::slice::from_ref(event)).len() as u64
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    PathBuf::from(format!("{}.{n}", path.display()))
}

fn no_content(error: &dyn std::error::Error) {
    let mut next = Some(error);
    while let Some(e) = next {
        assert!(!e.to_string().contains(CONTENT_MARKER), "{e}");
        next = e.source();
    }
}

#[tokio::test]
async fn file_sink_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let sink = FileSink::new(&path, Rotation::default()).expect("sink");
    assert_eq!(sink.name(), "file");
    let mut receiver = FileReceiver { path, read: 0 };
    conformance::all(&sink, &mut receiver).await;
}

#[tokio::test]
async fn lines_are_the_exact_json_objects_in_order_and_the_file_is_private() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let sink = FileSink::new(&path, Rotation::default()).expect("sink");
    let (first, second) = (events(1..=3), events(4..=5));
    sink.deliver(&first).await.expect("delivered");
    sink.deliver(&second).await.expect("delivered");
    let all: Vec<StreamedEvent> = first.into_iter().chain(second).collect();
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&all)
    );
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[tokio::test]
async fn appends_to_an_existing_file_and_ends_a_cut_line_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "{\"whole\":1}\n{\"cut").expect("write");
    let sink = FileSink::new(&path, Rotation::default()).expect("sink");
    let batch = events(1..=2);
    sink.deliver(&batch).await.expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        format!("{{\"whole\":1}}\n{{\"cut\n{}", expected_text(&batch))
    );
}

/// Rotation: files of at most three lines, two rotated ones kept. Whatever the batch
/// sizes, the three files together hold the newest events, contiguous, oldest first in
/// `.2`, and no line is ever split.
#[tokio::test]
async fn rotation_keeps_the_newest_files_and_never_splits_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    // Sequences 100 to 199: every line has the same length.
    let len = line_len(&event(100));
    let rotation = Rotation {
        max_bytes: 3 * len + len / 2,
        keep: 2,
    };
    let sink = FileSink::new(&path, rotation).expect("sink");
    let mut seq = 100;
    for batch_size in [1, 2, 5, 1, 3, 4, 1, 7] {
        let batch = events(seq..seq + batch_size);
        sink.deliver(&batch).await.expect("delivered");
        seq += batch_size;
    }
    // 24 events: eight files of three, the last three kept.
    let kept = [rotated(&path, 2), rotated(&path, 1), path.clone()];
    let mut all = Vec::new();
    for file in &kept {
        let size = std::fs::metadata(file).expect("kept").len();
        assert!(
            size <= rotation.max_bytes,
            "{} is {size} bytes",
            file.display()
        );
        let lines = lines_of(file);
        assert_eq!(lines.len(), 3, "{}", file.display());
        all.extend(lines);
        let mode = std::fs::metadata(file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        !rotated(&path, 3).exists(),
        "only two rotated files are kept"
    );
    let newest: Vec<Value> = events(115..124).into_iter().map(|e| e.json).collect();
    assert_eq!(all, newest);
}

#[tokio::test]
async fn keep_zero_keeps_no_rotated_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let len = line_len(&event(100));
    let rotation = Rotation {
        max_bytes: 2 * len,
        keep: 0,
    };
    let sink = FileSink::new(&path, rotation).expect("sink");
    sink.deliver(&events(100..105)).await.expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&events(104..105))
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["audit.jsonl"]);
}

/// A line longer than `max_bytes` is not split: it gets a file of its own.
#[tokio::test]
async fn a_line_longer_than_a_file_gets_a_file_of_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let rotation = Rotation {
        max_bytes: 10,
        keep: 3,
    };
    let sink = FileSink::new(&path, rotation).expect("sink");
    sink.deliver(&events(1..=1)).await.expect("delivered");
    assert!(!rotated(&path, 1).exists(), "an empty file is not rotated");
    sink.deliver(&events(2..=3)).await.expect("delivered");
    assert!(!rotated(&path, 3).exists(), "an empty file is not rotated");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&events(3..=3))
    );
    assert_eq!(
        std::fs::read_to_string(rotated(&path, 1)).expect("read"),
        expected_text(&events(2..=2))
    );
    assert_eq!(
        std::fs::read_to_string(rotated(&path, 2)).expect("read"),
        expected_text(&events(1..=1))
    );
}

/// A file already past `max_bytes` (the limit lowered since) is rotated before the first
/// line written to it.
#[tokio::test]
async fn an_existing_file_past_the_limit_is_rotated_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "{\"old\":1}\n".repeat(10)).expect("write");
    let rotation = Rotation {
        max_bytes: 50,
        keep: 1,
    };
    let sink = FileSink::new(&path, rotation).expect("sink");
    sink.deliver(&events(1..=1)).await.expect("delivered");
    assert_eq!(
        std::fs::read_to_string(rotated(&path, 1)).expect("read"),
        "{\"old\":1}\n".repeat(10)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&events(1..=1))
    );
}

/// A file moved away (logrotate without `copytruncate`) is noticed: the next batch starts
/// a new file at the path, and the moved one is left alone.
#[tokio::test]
async fn a_file_moved_away_is_replaced_by_a_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let moved = dir.path().join("audit.jsonl.old");
    let sink = FileSink::new(&path, Rotation::default()).expect("sink");
    sink.deliver(&events(1..=2)).await.expect("delivered");
    std::fs::rename(&path, &moved).expect("rename");
    sink.deliver(&events(3..=4)).await.expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&moved).expect("read"),
        expected_text(&events(1..=2))
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&events(3..=4))
    );
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir");
    let error =
        FileSink::new(missing.join("audit.jsonl"), Rotation::default()).expect_err("no directory");
    assert!(
        matches!(&error, ConfigError::MissingDirectory { dir } if *dir == missing),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the directory {} of the audit file does not exist",
            missing.display()
        )
    );
}

#[test]
fn unusable_paths_and_rotations_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zero = Rotation {
        max_bytes: 0,
        keep: 1,
    };
    let error = FileSink::new(dir.path().join("a.jsonl"), zero).expect_err("max_bytes 0");
    assert!(error.to_string().contains("max_bytes"), "{error}");
    let error = FileSink::new(dir.path(), Rotation::default()).expect_err("a directory");
    assert!(matches!(error, ConfigError::File { .. }), "{error:?}");
}

/// The directory removed under a running sink: the batch fails with an error naming the
/// file and saying why (and nothing of the events); once it is back, delivery resumes.
#[tokio::test]
async fn a_directory_removed_later_fails_the_batch_until_it_is_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let path = logs.join("audit.jsonl");
    let sink = FileSink::new(&path, Rotation::default()).expect("sink");
    sink.deliver(&events(1..=1)).await.expect("delivered");
    std::fs::remove_dir_all(&logs).expect("rm");

    let error = sink
        .deliver(&events(2..=3))
        .await
        .expect_err("no directory");
    assert!(matches!(error, SinkError::Io { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    no_content(&error);

    std::fs::create_dir(&logs).expect("mkdir");
    sink.deliver(&events(2..=3)).await.expect("delivered again");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        expected_text(&events(2..=3))
    );
}
