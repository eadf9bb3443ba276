//! The clock port: the domain never reads the system time directly, so tests can pin it.

use futures::future::BoxFuture;
use time::OffsetDateTime;

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// The current time, truncated to whole microseconds (the precision every store keeps,
    /// so a value read back compares equal to the value written).
    fn now(&self) -> OffsetDateTime;

    /// Waits `duration`: how the vault waits for another replica's token refresh. The
    /// default parks a thread, as the domain has no runtime; a runtime's timer is cheaper
    /// (the server's clock uses tokio's). A test clock may return at once.
    fn sleep(&self, duration: std::time::Duration) -> BoxFuture<'static, ()> {
        let (done, wait) = futures::channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            let _ = done.send(());
        });
        Box::pin(async move {
            let _ = wait.await;
        })
    }
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// Drops sub-microsecond precision.
#[must_use]
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}
