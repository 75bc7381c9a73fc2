//! Turning results into the Markdown of docs/benchmarks.md and one-line summaries.

use std::path::Path;

use crate::{LoadError, Outcome};

/// 1234567 -> "1,234,567".
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Microseconds as "0.42 ms" (latencies read more naturally in ms at these scales).
fn millis(micros: f64) -> String {
    format!("{:.2} ms", micros / 1000.0)
}

/// One line a person can read as a run finishes.
pub(crate) fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Idle {
            server,
            asked,
            held,
            failed,
            rss_before_kib,
            rss_after_kib,
            rss_per_conn_bytes,
            first_error,
            ..
        } => format!(
            "{server}: idle {held}/{asked} held ({failed} failed), RSS {rss_before_kib} -> {rss_after_kib} KiB, {:.2} KiB per connection{}",
            rss_per_conn_bytes / 1024.0,
            first_error
                .as_ref()
                .map(|err| format!("; first error: {err}"))
                .unwrap_or_default()
        ),
        Outcome::Throughput {
            server,
            msgs_per_sec,
            server_cpu_pct,
            loadgen_cpu_pct,
            failed_pairs,
            per_second,
            ..
        } => format!(
            "{server}: {} relayed msg/s (per second: {per_second:?}), CPU server {server_cpu_pct:.0}% generator {loadgen_cpu_pct:.0}%, {failed_pairs} pairs failed",
            thousands(*msgs_per_sec)
        ),
        Outcome::Latency {
            server,
            offered_per_sec,
            p50_us,
            p99_us,
            p999_us,
            max_us,
            sent,
            lost,
            send_lag_p99_us,
            failed_pairs,
            first_error,
            ..
        } => format!(
            "{server}: at {} msg/s p50 {} p99 {} p99.9 {} max {}, {lost} of {sent} lost, send lag p99 {}, {failed_pairs} pairs failed{}",
            thousands(*offered_per_sec),
            millis(*p50_us),
            millis(*p99_us),
            millis(*p999_us),
            millis(*max_us),
            millis(*send_lag_p99_us),
            first_error
                .as_ref()
                .map(|err| format!(" (first: {err})"))
                .unwrap_or_default()
        ),
    }
}

/// The comparison table: one column per server, in the order their results appear.
pub(crate) fn render(results: &Path) -> Result<String, LoadError> {
    let text = std::fs::read_to_string(results)?;
    let outcomes: Vec<Outcome> = text
        .lines()
        .filter(|line| line.trim_start().starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut servers: Vec<&str> = Vec::new();
    for outcome in &outcomes {
        let (Outcome::Idle { server, .. }
        | Outcome::Throughput { server, .. }
        | Outcome::Latency { server, .. }) = outcome;
        if !servers.contains(&server.as_str()) {
            servers.push(server);
        }
    }
    let find = |server: &str, scenario: &str| {
        outcomes.iter().find(|outcome| match (outcome, scenario) {
            (Outcome::Idle { server: s, .. }, "idle")
            | (Outcome::Throughput { server: s, .. }, "throughput")
            | (Outcome::Latency { server: s, .. }, "latency") => s == server,
            _ => false,
        })
    };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, cell: &dyn Fn(&str) -> Option<String>| {
        let cells = servers
            .iter()
            .map(|server| cell(server).unwrap_or_else(|| "-".into()))
            .collect();
        rows.push((name.to_owned(), cells));
    };
    row(
        "Idle connections held (handshake done)",
        &|s| match find(s, "idle")? {
            Outcome::Idle { held, asked, .. } => Some(format!(
                "{} of {}",
                thousands(*held as f64),
                thousands(*asked as f64)
            )),
            _ => None,
        },
    );
    row("Server RSS before -> after", &|s| match find(s, "idle")? {
        Outcome::Idle {
            rss_before_kib,
            rss_after_kib,
            ..
        } => Some(format!(
            "{:.1} -> {:.1} MiB",
            *rss_before_kib as f64 / 1024.0,
            *rss_after_kib as f64 / 1024.0
        )),
        _ => None,
    });
    row("RSS per idle connection", &|s| match find(s, "idle")? {
        Outcome::Idle {
            rss_per_conn_bytes, ..
        } => Some(format!("{:.2} KiB", rss_per_conn_bytes / 1024.0)),
        _ => None,
    });
    row(
        "Relay throughput (closed loop)",
        &|s| match find(s, "throughput")? {
            Outcome::Throughput {
                msgs_per_sec,
                pairs,
                window,
                failed_pairs,
                ..
            } => Some(format!(
                "{} msg/s ({} pairs, window {window}{})",
                thousands(*msgs_per_sec),
                thousands(*pairs as f64),
                if *failed_pairs > 0 {
                    format!(", {failed_pairs} pairs failed")
                } else {
                    String::new()
                }
            )),
            _ => None,
        },
    );
    row(
        "CPU during throughput: server / generator",
        &|s| match find(s, "throughput")? {
            Outcome::Throughput {
                server_cpu_pct,
                loadgen_cpu_pct,
                ..
            } => Some(format!("{server_cpu_pct:.0}% / {loadgen_cpu_pct:.0}%")),
            _ => None,
        },
    );
    row(
        "Server CPU time per relayed message",
        &|s| match find(s, "throughput")? {
            Outcome::Throughput {
                server_cpu_pct,
                msgs_per_sec,
                ..
            } if *msgs_per_sec > 0.0 => Some(format!(
                "{:.1} µs",
                server_cpu_pct / 100.0 / msgs_per_sec * 1e6
            )),
            _ => None,
        },
    );
    for (name, pick) in [("p50", 0), ("p90", 1), ("p99", 2), ("p99.9", 3), ("max", 4)] {
        row(
            &format!("Latency {name} (open loop)"),
            &|s| match find(s, "latency")? {
                Outcome::Latency {
                    p50_us,
                    p90_us,
                    p99_us,
                    p999_us,
                    max_us,
                    offered_per_sec,
                    ..
                } => {
                    let value = [p50_us, p90_us, p99_us, p999_us, max_us][pick];
                    Some(format!(
                        "{} at {} msg/s",
                        millis(*value),
                        thousands(*offered_per_sec)
                    ))
                }
                _ => None,
            },
        );
    }
    row(
        "Latency run: delivered / sent",
        &|s| match find(s, "latency")? {
            Outcome::Latency {
                sent,
                received,
                failed_pairs,
                ..
            } => Some(format!(
                "{} / {}{}",
                thousands(*received as f64),
                thousands(*sent as f64),
                if *failed_pairs > 0 {
                    format!(" ({failed_pairs} pairs failed)")
                } else {
                    String::new()
                }
            )),
            _ => None,
        },
    );
    row(
        "CPU during latency run: server / generator",
        &|s| match find(s, "latency")? {
            Outcome::Latency {
                server_cpu_pct,
                loadgen_cpu_pct,
                ..
            } => Some(format!("{server_cpu_pct:.0}% / {loadgen_cpu_pct:.0}%")),
            _ => None,
        },
    );
    let mut out = format!(
        "| Measure | {} |\n|---|{}\n",
        servers.join(" | "),
        "---|".repeat(servers.len())
    );
    for (name, cells) in rows {
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.4), "1,234,567");
    }
}
