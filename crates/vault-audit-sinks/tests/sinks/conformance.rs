//! The sink port's conformance suite: each check takes a sink (as the streaming job holds
//! it, `dyn AuditSink`) and a receiver that reads back what reached the other side. Each
//! adapter's tests run [`all`].

use serde_json::{Value, json};
use vault_audit_sinks::AuditSink;

use crate::support::{event, event_of, events, jsons};

/// The other side of a sink.
pub(crate) trait Receiver {
    /// The next `n` events that arrived, as JSON objects, in arrival order (failing the
    /// test if fewer arrive).
    async fn next(&mut self, n: usize) -> Vec<Value>;
}

/// Every check, in turn, on one sink.
pub(crate) async fn all(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    batch_arrives_in_order(sink, receiver).await;
    empty_batch_is_ok(sink, receiver).await;
    retried_batch_arrives_again(sink, receiver).await;
    concurrent_batches_do_not_interleave(sink, receiver).await;
    contents_arrive_unchanged(sink, receiver).await;
}

async fn batch_arrives_in_order(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    let batch = events(1..=5);
    sink.deliver(&batch).await.expect("delivered");
    assert_eq!(receiver.next(5).await, jsons(&batch));
}

/// An empty batch is `Ok` and delivers nothing: the next event is the next one out.
async fn empty_batch_is_ok(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    sink.deliver(&[]).await.expect("an empty batch");
    let batch = [event(6)];
    sink.deliver(&batch).await.expect("delivered");
    assert_eq!(receiver.next(1).await, jsons(&batch));
}

/// At-least-once: the caller retries a whole batch, and the sink delivers it again rather
/// than refusing or dropping repeats.
async fn retried_batch_arrives_again(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    let batch = events(7..=8);
    sink.deliver(&batch).await.expect("delivered");
    sink.deliver(&batch).await.expect("delivered again");
    let twice: Vec<Value> = jsons(&batch).into_iter().cycle().take(4).collect();
    assert_eq!(receiver.next(4).await, twice);
}

async fn concurrent_batches_do_not_interleave(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    let (a, b) = (events(9..=11), events(12..=14));
    let (ra, rb) = tokio::join!(sink.deliver(&a), sink.deliver(&b));
    ra.expect("a delivered");
    rb.expect("b delivered");
    let got = receiver.next(6).await;
    let a_then_b: Vec<Value> = jsons(&a).into_iter().chain(jsons(&b)).collect();
    let b_then_a: Vec<Value> = jsons(&b).into_iter().chain(jsons(&a)).collect();
    assert!(got == a_then_b || got == b_then_a, "interleaved: {got:?}");
}

/// Line breaks, quotes, brackets, backslashes and non-ASCII text in an event, of the
/// installation's chain (no organization), arrive unchanged.
async fn contents_arrive_unchanged(sink: &dyn AuditSink, receiver: &mut impl Receiver) {
    let mut awkward = event_of(None, 15, true);
    awkward.json["actorSubject"] = json!("line\nbreak \"quoted\" ] [x] back\\slash é🔑 \u{0}");
    awkward.action = "authentication.failure".to_owned();
    let batch = [awkward];
    sink.deliver(&batch).await.expect("delivered");
    assert_eq!(receiver.next(1).await, jsons(&batch));
}
