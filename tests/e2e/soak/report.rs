//! The soak's report: resident memory and throughput over the run, the judgement of
//! both (memory flat after the warm-up, no 5xx, every write read back), and the files
//! written under `target/soak/`; with the tests of the judge itself.

use super::*;

/// Resident memory of a process, KiB.
pub(super) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// One sample: seconds since the start, resident KiB, requests finished so far.
#[derive(Clone, Copy)]
pub(super) struct Sample {
    pub(super) seconds: f64,
    pub(super) rss_kib: u64,
    pub(super) requests: u64,
}

pub(super) struct Report {
    pub(super) backend: &'static str,
    pub(super) duration: Duration,
    pub(super) warm_up: Duration,
    pub(super) samples: Vec<Sample>,
    pub(super) outcome: Outcome,
    pub(super) verify_problems: Vec<String>,
    pub(super) verified_live: usize,
    pub(super) verified_deleted: usize,
    pub(super) log_errors: usize,
    /// The server's warning and error lines, kept in `<backend>.log` for a look afterwards.
    pub(super) log_lines: String,
    pub(super) log_warnings: usize,
    pub(super) shutdown: Result<(), String>,
}

pub(super) fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[rank]) / 1000.0
}

pub(super) fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// Memory after warm-up: the median of its first quarter against the median of its last
/// quarter, and the least-squares slope over all of it.
pub(super) struct Memory {
    early_kib: u64,
    late_kib: u64,
    peak_kib: u64,
    slope_kib_per_minute: f64,
}

/// Finished requests a second in the first and the last quarter of the whole run. No
/// warm-up is left out (unlike memory's): the logs grow from the first request on, so any
/// slowing starts there, and leaving the start out would hide part of it.
#[derive(Clone, Copy)]
pub(super) struct Throughput {
    first: f64,
    last: f64,
}

impl Throughput {
    fn ratio(self) -> f64 {
        if self.first > 0.0 {
            self.last / self.first
        } else {
            0.0
        }
    }

    fn flat(self) -> bool {
        self.ratio() >= FLAT_THROUGHPUT
    }
}

/// Requests a second between two samples.
pub(super) fn rate(from: Sample, to: Sample) -> f64 {
    if to.seconds > from.seconds {
        to.requests.saturating_sub(from.requests) as f64 / (to.seconds - from.seconds)
    } else {
        0.0
    }
}

impl Report {
    fn throughput(&self) -> Throughput {
        // The start is a sample too: nothing has finished at second 0.
        let origin = Sample {
            seconds: 0.0,
            rss_kib: 0,
            requests: 0,
        };
        let end = self.samples.last().copied().unwrap_or(origin);
        // The quarters end at the first sample past a quarter of the run and start at the
        // last sample before three quarters, so each spans at least a quarter.
        let first_end = self
            .samples
            .iter()
            .find(|s| s.seconds >= end.seconds / 4.0)
            .copied()
            .unwrap_or(end);
        let last_start = self
            .samples
            .iter()
            .rev()
            .find(|s| s.seconds <= end.seconds * 0.75)
            .copied()
            .unwrap_or(origin);
        Throughput {
            first: rate(origin, first_end),
            last: rate(last_start, end),
        }
    }

    /// One line when throughput fell below the target; printed, never a failure.
    pub(super) fn throughput_warning(&self) -> Option<String> {
        let throughput = self.throughput();
        (!throughput.flat()).then(|| {
            format!(
                "WARNING: {}: throughput not flat: {:.0} requests/s in the last quarter, {:.2} of \
                 the first quarter's {:.0}/s (target at least {FLAT_THROUGHPUT:.2})",
                self.backend,
                throughput.last,
                throughput.ratio(),
                throughput.first,
            )
        })
    }

    fn memory(&self) -> Memory {
        let settled: Vec<Sample> = self
            .samples
            .iter()
            .copied()
            .filter(|s| s.seconds >= self.warm_up.as_secs_f64())
            .collect();
        let quarter = (settled.len() / 4).max(1);
        let mut early: Vec<u64> = settled.iter().take(quarter).map(|s| s.rss_kib).collect();
        let mut late: Vec<u64> = settled
            .iter()
            .rev()
            .take(quarter)
            .map(|s| s.rss_kib)
            .collect();
        let n = settled.len() as f64;
        let (mean_t, mean_r) = settled.iter().fold((0.0, 0.0), |(t, r), s| {
            (t + s.seconds / n, r + s.rss_kib as f64 / n)
        });
        let (cov, var) = settled.iter().fold((0.0, 0.0), |(c, v), s| {
            let dt = s.seconds - mean_t;
            (c + dt * (s.rss_kib as f64 - mean_r), v + dt * dt)
        });
        Memory {
            early_kib: median(&mut early),
            late_kib: median(&mut late),
            peak_kib: settled.iter().map(|s| s.rss_kib).max().unwrap_or(0),
            slope_kib_per_minute: if var > 0.0 { cov / var * 60.0 } else { 0.0 },
        }
    }

    fn allowed_growth_kib(memory: &Memory) -> u64 {
        (memory.early_kib / 10).max(RSS_SLACK_KIB)
    }

    pub(super) fn csv(&self) -> String {
        let mut csv = String::from("seconds,rss_kib,requests,requests_per_second\n");
        let mut previous = Sample {
            seconds: 0.0,
            rss_kib: 0,
            requests: 0,
        };
        for &s in &self.samples {
            let per_second = rate(previous, s);
            let _ = writeln!(
                csv,
                "{:.1},{},{},{per_second:.1}",
                s.seconds, s.rss_kib, s.requests
            );
            previous = s;
        }
        csv
    }

    /// The headline figures, for the joint table `scripts/soak_plot.py` writes.
    pub(super) fn json(&self) -> String {
        let (memory, throughput) = (self.memory(), self.throughput());
        json!({
            "backend": self.backend,
            "seconds": self.duration.as_secs(),
            "requests": self.total(|s| s.micros.len() as u64),
            "first_quarter_per_second": throughput.first,
            "last_quarter_per_second": throughput.last,
            "last_over_first": throughput.ratio(),
            "throughput_flat": throughput.flat(),
            "memory_early_kib": memory.early_kib,
            "memory_late_kib": memory.late_kib,
            "failures": self.failures().len(),
        })
        .to_string()
    }

    fn total(&self, f: impl Fn(&OpStats) -> u64) -> u64 {
        self.outcome.ops.values().map(f).sum()
    }

    pub(super) fn markdown(&self) -> String {
        let requests = self.total(|s| s.micros.len() as u64);
        let memory = self.memory();
        let mut md = String::new();
        let _ = writeln!(
            md,
            "### {} — {} s, {} clients, {} requests ({:.0}/s)\n",
            self.backend,
            self.duration.as_secs(),
            WORKERS,
            requests,
            requests as f64 / self.duration.as_secs_f64()
        );
        let _ = writeln!(
            md,
            "| operation | requests | 5xx | transport errors | other unexpected | p50 ms | p99 ms | max ms |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for (op, stats) in &self.outcome.ops {
            let mut sorted = stats.micros.clone();
            sorted.sort_unstable();
            let _ = writeln!(
                md,
                "| {op:?} | {} | {} | {} | {} | {:.2} | {:.2} | {:.1} |",
                sorted.len(),
                stats.server_errors,
                stats.transport_errors,
                stats.wrong,
                percentile(&sorted, 0.5),
                percentile(&sorted, 0.99),
                percentile(&sorted, 1.0),
            );
        }
        let mib = |kib: u64| kib as f64 / 1024.0;
        let _ = writeln!(
            md,
            "\nResident memory after a {} s warm-up ({} samples in all): {:.1} MiB at first, {:.1} MiB at the end \
             (medians of the first and last quarter), peak {:.1} MiB, trend {:+.1} KiB/min; \
             allowed growth {:.1} MiB.",
            self.warm_up.as_secs(),
            self.samples.len(),
            mib(memory.early_kib),
            mib(memory.late_kib),
            mib(memory.peak_kib),
            memory.slope_kib_per_minute,
            mib(Self::allowed_growth_kib(&memory)),
        );
        let throughput = self.throughput();
        let _ = writeln!(
            md,
            "\nThroughput (finished requests a second, quarters of the whole run, no warm-up left \
             out): {:.0}/s in the first quarter, {:.0}/s in the last; last/first {:.2}, {} \
             {FLAT_THROUGHPUT:.2}.",
            throughput.first,
            throughput.last,
            throughput.ratio(),
            if throughput.flat() {
                "at least"
            } else {
                "**below**"
            },
        );
        if let Some(warning) = self.throughput_warning() {
            let _ = writeln!(md, "\n**{warning}**");
        }
        let _ = writeln!(
            md,
            "\nAfterwards: {} live credentials read back at their last acknowledged version, with \
             their version history, and opened with their last secret; {} deleted ones answer 404; \
             {} problems. Server log: {} errors, {} warnings. Graceful stop: {}.",
            self.verified_live,
            self.verified_deleted,
            self.verify_problems.len(),
            self.log_errors,
            self.log_warnings,
            match &self.shutdown {
                Ok(()) => "exit 0".to_owned(),
                Err(why) => why.clone(),
            },
        );
        md
    }

    /// Every broken promise, one line each.
    pub(super) fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let name = self.backend;
        let (server, transport, wrong) = (
            self.total(|s| s.server_errors),
            self.total(|s| s.transport_errors),
            self.total(|s| s.wrong),
        );
        if server + transport + wrong > 0 {
            failures.push(format!(
                "{name}: {server} 5xx, {transport} transport errors, {wrong} unexpected answers: {:?}",
                self.outcome.problems
            ));
        } else if !self.outcome.problems.is_empty() {
            failures.push(format!("{name}: {:?}", self.outcome.problems));
        }
        if !self.verify_problems.is_empty() {
            let shown: Vec<_> = self.verify_problems.iter().take(20).collect();
            failures.push(format!(
                "{name}: {} reads back wrong: {shown:?}",
                self.verify_problems.len()
            ));
        }
        let memory = self.memory();
        let allowed = Self::allowed_growth_kib(&memory);
        if memory.late_kib > memory.early_kib + allowed {
            failures.push(format!(
                "{name}: resident memory grew from {} KiB to {} KiB after warm-up (allowed {allowed} KiB)",
                memory.early_kib, memory.late_kib
            ));
        }
        if self.log_errors > 0 {
            failures.push(format!(
                "{name}: {} error lines in the server log",
                self.log_errors
            ));
        }
        if let Err(why) = &self.shutdown {
            failures.push(format!("{name}: {why}"));
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The judge itself: a run whose memory climbs, or that saw one 5xx, fails; a flat,
    /// clean one passes. (The soak above is only as good as this.)
    #[test]
    fn the_judge_fails_growing_memory_and_server_errors() {
        let run = |rss: fn(u64) -> u64, server_errors: u64| {
            let mut outcome = Outcome::default();
            outcome.ops.entry(Op::Read).or_default().micros = vec![1_000; 100];
            outcome.ops.entry(Op::Use).or_default().server_errors = server_errors;
            Report {
                backend: "judge",
                duration: Duration::from_secs(100),
                warm_up: Duration::from_secs(20),
                samples: (0..100)
                    .map(|t| Sample {
                        seconds: t as f64,
                        rss_kib: rss(t),
                        requests: t * 100,
                    })
                    .collect(),
                outcome,
                verify_problems: Vec::new(),
                verified_live: 0,
                verified_deleted: 0,
                log_errors: 0,
                log_lines: String::new(),
                log_warnings: 0,
                shutdown: Ok(()),
            }
            .failures()
        };
        // Warm-up growth, then a plateau with noise: passes.
        assert_eq!(
            run(|t| 30_000 + t.min(20) * 500 + (t % 3) * 200, 0),
            Vec::<String>::new()
        );
        // 200 KiB a second after warm-up (12 MiB a minute): fails.
        let leaking = run(|t| 40_000 + t * 200, 0);
        assert!(
            leaking.iter().any(|f| f.contains("resident memory grew")),
            "{leaking:?}"
        );
        // One 5xx among thousands: fails.
        let erring = run(|_| 40_000, 1);
        assert!(erring.iter().any(|f| f.contains("1 5xx")), "{erring:?}");
    }

    /// The throughput figures: quarters of the whole run compared, a slowing one warned about,
    /// and never a failure (timings are not asserted).
    #[test]
    fn throughput_compares_the_last_quarter_with_the_first_and_only_warns() {
        let run = |per_second: fn(u64) -> u64| {
            let mut requests = 0;
            Report {
                backend: "judge",
                duration: Duration::from_secs(100),
                warm_up: Duration::from_secs(20),
                samples: (1..=100)
                    .map(|t| {
                        requests += per_second(t);
                        Sample {
                            seconds: t as f64,
                            rss_kib: 40_000,
                            requests,
                        }
                    })
                    .collect(),
                outcome: Outcome::default(),
                verify_problems: Vec::new(),
                verified_live: 0,
                verified_deleted: 0,
                log_errors: 0,
                log_lines: String::new(),
                log_warnings: 0,
                shutdown: Ok(()),
            }
        };
        let steady = run(|_| 500);
        let throughput = steady.throughput();
        assert!((throughput.first - 500.0).abs() < 1e-9 && (throughput.ratio() - 1.0).abs() < 1e-9);
        assert!(steady.throughput_warning().is_none());
        // 1000/s falling to 750/s, the last quarter near 0.8 of the first: warned, not failed.
        let slowing = run(|t| 1_000 - t * 250 / 100);
        let ratio = slowing.throughput().ratio();
        assert!((0.75..0.85).contains(&ratio), "{ratio}");
        assert!(
            slowing
                .throughput_warning()
                .is_some_and(|w| w.starts_with("WARNING: judge"))
        );
        assert!(slowing.markdown().contains("**below** 0.90"));
        assert_eq!(slowing.failures(), Vec::<String>::new());
    }
}
