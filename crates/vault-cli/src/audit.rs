//! `vault audit ...`: the organization's audit log (`GET /audit-events`), listed or
//! followed as it grows, and its signed checkpoints (`GET /audit-events/checkpoints`), saved
//! for a copy kept outside the vault.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, next_cursor};
use crate::cli::{AuditCommand, AuditListArgs, TailArgs};
use crate::error::CliError;
use crate::output::{self, cell, items, table};

/// The columns of `list`, and the fields of each line of `tail`, in this order.
const COLUMNS: [&str; 7] = [
    "TIME", "SEQ", "ACTION", "OUTCOME", "REASON", "TARGET", "ACTOR",
];

/// The largest page the API serves: a look for new events, and the checkpoints, take as
/// few requests as they can.
const PAGE: u32 = 100;

/// How many pages `tail` reads past the events it has shown, looking for a sequence
/// number still missing. Events are listed by id (the time they were made) but numbered as
/// they are written, so two written at once can be listed a little out of order: the
/// missing one is then just below. A sequence missing beyond that was not written.
const SLACK_PAGES: u32 = 1;

pub(crate) async fn run(api: &Api, command: AuditCommand, json: bool) -> Result<(), CliError> {
    match command {
        AuditCommand::List(args) => list(api, args, json).await,
        AuditCommand::Tail(args) => tail(api, args, json).await,
        AuditCommand::Checkpoints { out } => checkpoints(api, out.as_deref()).await,
    }
}

/// `vault audit list`: one page (or all with `--all`), newest first.
async fn list(api: &Api, args: AuditListArgs, json: bool) -> Result<(), CliError> {
    let mut query = Vec::new();
    if let Some(action) = args.action {
        query.push(("action", action));
    }
    if let Some(target) = args.target {
        query.push(("target", target));
    }
    let page = api.list(&["audit-events"], query, &args.page).await?;
    if json {
        return output::json(&page);
    }
    output::emit(&table(
        &COLUMNS,
        items(&page).iter().map(|event| row(event).to_vec()),
    ))?;
    if let Some(cursor) = next_cursor(&page) {
        eprintln!("More: add --cursor {cursor}, or --all.");
    }
    Ok(())
}

/// An event's fields, as [`COLUMNS`] names them.
fn row(event: &Value) -> [String; 7] {
    let text = |field: &str| event.get(field).and_then(Value::as_str);
    let target = match (text("targetType"), text("targetId")) {
        (Some(kind), Some(id)) => format!("{kind}:{id}"),
        (None, Some(id)) => id.to_owned(),
        (_, None) => "-".to_owned(),
    };
    // An identity provider's token has a subject and no access key; nobody (`-`) is the
    // vault itself, or a caller it did not know.
    let actor = match (text("actorSubject"), text("actorAccessKeyId")) {
        (Some(subject), _) => format!("subject:{subject}"),
        (None, Some(key)) => format!("key:{key}"),
        (None, None) => "-".to_owned(),
    };
    [
        cell(event.get("at")),
        sequence(event).map_or_else(|| "-".to_owned(), |seq| seq.to_string()),
        cell(event.get("action")),
        cell(event.get("outcome")),
        cell(event.get("reason")),
        target,
        actor,
    ]
}

/// One line of `tail`: the columns of `list`, padded so that the lines of a stream line up
/// as a table's would (without knowing the widths to come).
fn line(event: &Value) -> String {
    let [at, seq, action, outcome, reason, target, actor] = row(event);
    format!("{at:<27} {seq:>6} {action:<22} {outcome:<7} {reason} {target} {actor}")
}

/// The event's number in its organization's chain (none for an event written before
/// chains existed).
fn sequence(event: &Value) -> Option<u64> {
    event.get("chain")?.get("sequence")?.as_u64()
}

fn id(event: &Value) -> String {
    cell(event.get("id"))
}

/// `vault audit tail`.
async fn tail(api: &Api, args: TailArgs, json: bool) -> Result<(), CliError> {
    let action = args.action.clone();
    let mut fetch = async |limit: u32, cursor: Option<String>| -> Result<Value, CliError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(action) = &action {
            query.push(("action", action.clone()));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        Ok(api
            .call(Method::GET, &["audit-events"], &query, None, None)
            .await?
            .body)
    };
    let mut follower = Follower::new(args.action.is_some(), PAGE);
    let mut left = args.count;
    // The first look's errors end the command (a wrong key, a missing scope); later ones
    // may be a restart of the server, which a follower feeding a SIEM should outlast.
    let first = follower.start(args.lines, &mut fetch).await?;
    if !print(first, json, &mut left)? {
        return Ok(());
    }
    let interval = Duration::from_millis(args.interval_ms);
    let mut failing = false;
    loop {
        tokio::time::sleep(interval).await;
        match follower.look(&mut fetch).await {
            Ok(events) => {
                if failing {
                    eprintln!("Reading the audit log again.");
                    failing = false;
                }
                if !print(events, json, &mut left)? {
                    return Ok(());
                }
            }
            Err(error) if is_passing(&error) => {
                if !failing {
                    eprintln!("{error}\n  trying again every {} ms", args.interval_ms);
                    failing = true;
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// A failure that may pass by itself: no answer, too many requests, or a server error.
fn is_passing(error: &CliError) -> bool {
    match error {
        CliError::Unreachable { .. } => true,
        CliError::Refused(problem) => problem.status == 429 || problem.status >= 500,
        CliError::Usage(_) | CliError::Local(_) => false,
    }
}

/// Prints `events` (one line, or one compact JSON object, each); false once it is time to
/// stop: `--count` events printed, or stdout closed.
fn print(events: Vec<Value>, json: bool, left: &mut Option<u64>) -> Result<bool, CliError> {
    for event in events {
        if *left == Some(0) {
            return Ok(false);
        }
        let text = if json {
            serde_json::to_string(&event).map_err(|_| CliError::local("cannot encode JSON"))?
        } else {
            line(&event)
        };
        if !output::emit_open(&text)? {
            return Ok(false);
        }
        if let Some(n) = left.as_mut() {
            *n -= 1;
        }
    }
    Ok(*left != Some(0))
}

/// What `tail` has shown, to tell new events from those it has.
///
/// The API lists events newest first by id, with a cursor to page back. Each event of the
/// organization's chain has its number (`chain.sequence`), and the chain has no gaps: the
/// next event to show is the last one's number plus one, and a look pages back until it
/// has every number up to the newest, however many pages that takes. Events written before
/// chains existed have no number, only their id.
#[derive(Debug)]
struct Follower {
    /// Only some events are listed (`--action`): the numbers of the others are missing, so
    /// a jump says nothing, and a look stops where it meets what it has shown.
    filtered: bool,
    /// Events a request asks for.
    page: u32,
    /// The highest number shown (or passed over at the start).
    last: Option<u64>,
    /// The ids of the events without a number that were shown. Every event written since
    /// chains exist has a number, so this stays as small as the first page.
    unchained: HashSet<String>,
}

/// Events in the order to show them, without duplicates: by number, those without one
/// (older than every numbered one) first, by id.
type Fresh = BTreeMap<(Option<u64>, String), Value>;

impl Follower {
    fn new(filtered: bool, page: u32) -> Self {
        Self {
            filtered,
            page,
            last: None,
            unchained: HashSet::new(),
        }
    }

    /// The first look: the newest `lines` events, oldest first. Those before them are left
    /// unshown.
    async fn start(
        &mut self,
        lines: u32,
        fetch: &mut impl AsyncFnMut(u32, Option<String>) -> Result<Value, CliError>,
    ) -> Result<Vec<Value>, CliError> {
        // At least one, to know where the log stands when none is to be shown.
        let page = fetch(lines.clamp(1, PAGE), None).await?;
        let shown: Fresh = items(&page)
            .iter()
            .take(lines as usize)
            .map(|event| ((sequence(event), id(event)), event.clone()))
            .collect();
        for event in items(&page) {
            self.mark(event);
        }
        Ok(shown.into_values().collect())
    }

    /// One look for new events: back from the newest, page by page, until it meets what
    /// was shown and (unfiltered) has every number after the last one shown. The new
    /// events, oldest first.
    async fn look(
        &mut self,
        fetch: &mut impl AsyncFnMut(u32, Option<String>) -> Result<Value, CliError>,
    ) -> Result<Vec<Value>, CliError> {
        let mut fresh = Fresh::new();
        let mut cursor = None;
        // Whether the look has met an event it showed (or one older than those).
        let mut reached = false;
        let mut past = 0;
        loop {
            let page = fetch(self.page, cursor.take()).await?;
            for event in items(&page) {
                let id = id(event);
                match sequence(event) {
                    Some(seq) if self.last.is_some_and(|last| seq <= last) => reached = true,
                    // Numbered after the last one shown, however far down it is listed.
                    Some(seq) => {
                        fresh.insert((Some(seq), id), event.clone());
                    }
                    // Without a number: older than any numbered event, so new only while
                    // no numbered one was shown, and listed above the ones shown.
                    None if self.last.is_some() || self.unchained.contains(&id) => {
                        reached = true;
                    }
                    None if !reached => {
                        fresh.insert((None, id), event.clone());
                    }
                    None => {}
                }
            }
            let Some(next) = next_cursor(&page) else {
                break;
            };
            if reached {
                if self.filtered || self.missing(&fresh) == 0 {
                    break;
                }
                past += 1;
                if past > SLACK_PAGES {
                    break;
                }
            }
            cursor = Some(next);
        }
        if !self.filtered {
            let missing = self.missing(&fresh);
            if missing > 0 {
                // Not in the list: deleted, which `vault-server audit verify` shows.
                eprintln!(
                    "warning: {missing} events of the audit chain after number {} were not \
                     found in the list",
                    self.last.unwrap_or_default()
                );
            }
        }
        for event in fresh.values() {
            self.mark(event);
        }
        Ok(fresh.into_values().collect())
    }

    /// How many numbers between the last one shown and the newest `fresh` one are not in
    /// `fresh` (none when nothing numbered was shown yet: no number to count from).
    fn missing(&self, fresh: &Fresh) -> u64 {
        let Some(last) = self.last else {
            return 0;
        };
        let numbered = fresh.keys().filter_map(|(seq, _)| *seq);
        let (count, newest) = numbered.fold((0, last), |(count, _), seq| (count + 1, seq));
        (newest - last).saturating_sub(count)
    }

    fn mark(&mut self, event: &Value) {
        match sequence(event) {
            Some(seq) => self.last = Some(self.last.map_or(seq, |last| last.max(seq))),
            None => {
                self.unchained.insert(id(event));
            }
        }
    }
}

/// `vault audit checkpoints`: every page of `GET /audit-events/checkpoints` in one
/// document shaped as a page (`nextCursor` null), which is what `vault-server audit
/// verify --from-checkpoint` reads.
async fn checkpoints(api: &Api, out: Option<&Path>) -> Result<(), CliError> {
    let segments = ["audit-events", "checkpoints"];
    let limit = ("limit", PAGE.to_string());
    let first = api
        .call(
            Method::GET,
            &segments,
            std::slice::from_ref(&limit),
            None,
            None,
        )
        .await?
        .body;
    if !first.get("items").is_some_and(Value::is_array) {
        return Err(CliError::unexpected(200, "no checkpoint items"));
    }
    let mut all = items(&first).to_vec();
    let mut next = next_cursor(&first);
    while let Some(cursor) = next {
        let query = [limit.clone(), ("cursor", cursor.clone())];
        let page = api
            .call(Method::GET, &segments, &query, None, None)
            .await?
            .body;
        all.extend_from_slice(items(&page));
        next = next_cursor(&page);
        if next.as_ref() == Some(&cursor) {
            // It would never end.
            return Err(CliError::unexpected(200, "the same cursor twice"));
        }
    }
    let field = |name: &str| first.get(name).cloned().unwrap_or(Value::Null);
    let document = json!({
        "algorithm": field("algorithm"),
        "keyId": field("keyId"),
        "publicKey": field("publicKey"),
        "items": all,
        "nextCursor": null,
    });
    let text = serde_json::to_string_pretty(&document)
        .map_err(|_| CliError::local("cannot encode JSON"))?;
    let count = all.len();
    let newest = all.first().map(|c| {
        format!(
            "the newest of event {}, signed {}",
            cell(c.get("sequence")),
            cell(c.get("at"))
        )
    });
    match out {
        None => output::emit(&text)?,
        Some(path) => std::fs::write(path, format!("{text}\n")).map_err(|error| {
            CliError::local(format!("cannot write {}: {error}", path.display()))
        })?,
    }
    match (newest, out) {
        (Some(newest), Some(path)) => {
            eprintln!(
                "Saved {count} checkpoints ({newest}) to {}.",
                path.display()
            );
        }
        (Some(newest), None) => eprintln!("{count} checkpoints ({newest})."),
        (None, _) => eprintln!(
            "No checkpoint yet: the server signs one every audit_checkpoint_interval_seconds."
        ),
    }
    if document["publicKey"].is_null() {
        eprintln!("warning: the server publishes no checkpoint key");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    /// An audit log as the API serves it: events newest first by id, `limit` a page, the
    /// cursor the last id of the page before.
    #[derive(Default)]
    struct Log {
        /// (id, number), in any order.
        events: RefCell<Vec<(u32, Option<u64>)>>,
        requests: Cell<u32>,
    }

    impl Log {
        fn add(&self, id: u32, seq: Option<u64>) {
            self.events.borrow_mut().push((id, seq));
        }

        fn page(&self, limit: u32, cursor: Option<String>) -> Value {
            self.requests.set(self.requests.get() + 1);
            let mut events = self.events.borrow().clone();
            events.sort_by_key(|event| std::cmp::Reverse(event.0));
            let before = cursor.map(|c| c.parse::<u32>().expect("a cursor"));
            let mut listed: Vec<(u32, Option<u64>)> = events
                .into_iter()
                .filter(|(id, _)| before.is_none_or(|b| *id < b))
                .collect();
            let more = listed.len() > limit as usize;
            listed.truncate(limit as usize);
            let next = if more {
                listed.last().map(|(id, _)| id.to_string())
            } else {
                None
            };
            let items: Vec<Value> = listed
                .iter()
                .map(|(id, seq)| {
                    json!({
                        "id": format!("{id:08}"),
                        "action": "credential.create",
                        "chain": seq.map(|s| json!({"sequence": s})),
                    })
                })
                .collect();
            json!({"items": items, "nextCursor": next})
        }

        async fn look(&self, follower: &mut Follower) -> Vec<String> {
            let mut fetch = async |limit, cursor| Ok(self.page(limit, cursor));
            let events = follower.look(&mut fetch).await.expect("a look");
            shown(&events)
        }
    }

    /// Each event as `id#number` (`id` alone without a number).
    fn shown(events: &[Value]) -> Vec<String> {
        events
            .iter()
            .map(|e| match sequence(e) {
                Some(seq) => format!("{}#{seq}", id(e).trim_start_matches('0')),
                None => id(e).trim_start_matches('0').to_owned(),
            })
            .collect()
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn tail_shows_the_newest_then_every_new_event_over_many_pages_in_order() {
        block_on(async {
            let log = Log::default();
            for n in 1..=30 {
                log.add(n, Some(u64::from(n)));
            }
            let mut follower = Follower::new(false, 7);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            let first = follower.start(3, &mut fetch).await.expect("start");
            assert_eq!(shown(&first), ["28#28", "29#29", "30#30"]);
            assert!(log.look(&mut follower).await.is_empty());

            // Far more than a page between two looks.
            for n in 31..=100 {
                log.add(n, Some(u64::from(n)));
            }
            let expected: Vec<String> = (31..=100).map(|n| format!("{n}#{n}")).collect();
            assert_eq!(log.look(&mut follower).await, expected);
            assert!(log.look(&mut follower).await.is_empty());
        });
    }

    #[test]
    fn an_event_listed_below_one_shown_is_found_by_its_number() {
        block_on(async {
            let log = Log::default();
            for n in 1..=5 {
                log.add(n * 10, Some(u64::from(n)));
            }
            let mut follower = Follower::new(false, 2);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            follower.start(10, &mut fetch).await.expect("start");
            // Made before event 5 but written after it, and after it a later one: number
            // 6 is listed below number 5, on the next page.
            log.add(45, Some(6));
            log.add(60, Some(7));
            assert_eq!(log.look(&mut follower).await, ["45#6", "60#7"]);
            // Written in the other order than made, on one page.
            log.add(80, Some(8));
            log.add(70, Some(9));
            assert_eq!(log.look(&mut follower).await, ["80#8", "70#9"]);
        });
    }

    #[test]
    fn a_number_never_written_stops_the_look_soon_rather_than_at_the_end() {
        block_on(async {
            let log = Log::default();
            for n in 1..=50 {
                log.add(n, Some(u64::from(n)));
            }
            let mut follower = Follower::new(false, 5);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            follower.start(1, &mut fetch).await.expect("start");
            log.add(52, Some(52));
            log.requests.set(0);
            assert_eq!(log.look(&mut follower).await, ["52#52"]);
            assert!(
                log.requests.get() <= 1 + SLACK_PAGES + 1,
                "paged to the end"
            );
        });
    }

    #[test]
    fn filtered_numbers_jump_and_the_look_stops_where_it_meets_what_it_showed() {
        block_on(async {
            let log = Log::default();
            for n in 1..=40 {
                log.add(n, Some(u64::from(n) * 3));
            }
            let mut follower = Follower::new(true, 4);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            let first = follower.start(2, &mut fetch).await.expect("start");
            assert_eq!(shown(&first), ["39#117", "40#120"]);
            for n in 41..=50 {
                log.add(n, Some(u64::from(n) * 3));
            }
            log.requests.set(0);
            let expected: Vec<String> = (41..=50).map(|n| format!("{n}#{}", n * 3)).collect();
            assert_eq!(log.look(&mut follower).await, expected);
            assert_eq!(log.requests.get(), 3, "11 events, 4 a page");
        });
    }

    #[test]
    fn events_without_a_number_are_told_apart_by_id() {
        block_on(async {
            let log = Log::default();
            for n in 1..=6 {
                log.add(n, None);
            }
            let mut follower = Follower::new(false, 2);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            let first = follower.start(2, &mut fetch).await.expect("start");
            assert_eq!(shown(&first), ["5", "6"]);
            log.add(7, None);
            log.add(8, None);
            log.add(9, Some(1));
            log.add(10, Some(2));
            assert_eq!(log.look(&mut follower).await, ["7", "8", "9#1", "10#2"]);
            log.requests.set(0);
            assert!(log.look(&mut follower).await.is_empty());
            assert_eq!(log.requests.get(), 1);
        });
    }

    #[test]
    fn with_no_lines_only_new_events_are_shown() {
        block_on(async {
            let log = Log::default();
            for n in 1..=3 {
                log.add(n, Some(u64::from(n)));
            }
            let mut follower = Follower::new(false, 10);
            let mut fetch = async |limit, cursor| Ok(log.page(limit, cursor));
            assert!(
                follower
                    .start(0, &mut fetch)
                    .await
                    .expect("start")
                    .is_empty()
            );
            log.add(4, Some(4));
            assert_eq!(log.look(&mut follower).await, ["4#4"]);
        });
    }

    #[test]
    fn count_stops_the_printing() {
        let events: Vec<Value> = (1..=3).map(|n| json!({"id": n})).collect();
        let mut left = Some(2);
        assert!(!print(events, true, &mut left).expect("printed"));
        assert_eq!(left, Some(0));
        let mut left = Some(5);
        assert!(print(vec![json!({"id": 1})], true, &mut left).expect("printed"));
        assert_eq!(left, Some(4));
    }

    #[test]
    fn a_row_names_the_target_and_the_actor() {
        let event = json!({
            "id": "e-1", "at": "2030-01-01T00:00:00Z", "action": "credential.create",
            "outcome": "success", "reason": null, "targetType": "credential",
            "targetId": "c-1", "actorAccessKeyId": "k-1", "actorSubject": null,
            "chain": {"sequence": 7}
        });
        assert_eq!(
            row(&event),
            [
                "2030-01-01T00:00:00Z",
                "7",
                "credential.create",
                "success",
                "-",
                "credential:c-1",
                "key:k-1"
            ]
        );
        let vault = json!({"action": "keyring.rotate", "outcome": "failure",
                           "reason": "tampered", "chain": null});
        let fields = row(&vault);
        assert_eq!(fields[1], "-");
        assert_eq!(fields[4], "tampered");
        assert_eq!(fields[6], "-");
        assert!(line(&vault).contains("keyring.rotate"));
    }
}
