//! Calls as CSV for a spreadsheet: UTF-8 with a BOM so Excel shows Turkish letters, comma or
//! semicolon (Excel on a Turkish Windows expects `;`), every cell formula-safe.

use chrono::{DateTime, Local};

use crate::call::{Call, CallState};
use crate::contacts::csv::write_rows;

pub const HEADER: [&str; 13] =
    ["Started", "Direction", "Caller", "Caller name", "Callee", "Callee name", "Status", "Talk (s)", "Route", "Note", "Tags", "Ended", "UUID"];

fn local(us: Option<i64>) -> String {
    us.and_then(DateTime::from_timestamp_micros).map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

fn row(c: &Call) -> Vec<String> {
    let status = match c.state {
        CallState::Ringing => "ringing",
        CallState::Answered => "answered",
        CallState::Missed => "missed",
        CallState::Ended => "ended",
        CallState::EndUnknown => "end unknown",
    };
    let route = c.route.iter().map(|r| r.destination.as_str()).collect::<Vec<_>>().join(" > ");
    vec![
        local(Some(c.started_at_us)),
        c.direction.as_str().to_owned(),
        c.caller.clone().unwrap_or_default(),
        c.caller_name.clone().unwrap_or_default(),
        c.callee.clone().unwrap_or_default(),
        c.callee_name.clone().unwrap_or_default(),
        if c.kind == crate::CallKind::Fax { "fax".to_owned() } else { status.to_owned() },
        c.duration_s.map(|d| d.to_string()).unwrap_or_default(),
        route,
        c.note.clone().unwrap_or_default(),
        c.tags.join(", "),
        local(c.ended_at_us),
        c.uuid.clone(),
    ]
}

/// Write `calls` as CSV with a header line.
pub fn calls_csv<W: std::io::Write>(out: W, delimiter: u8, calls: &[Call]) -> std::io::Result<()> {
    let header = HEADER.iter().map(|h| h.to_string()).collect();
    write_rows(out, delimiter, std::iter::once(header).chain(calls.iter().map(row)))
}
