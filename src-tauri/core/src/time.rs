//! Time as Kanca stores it: microseconds since the Unix epoch, and RFC 3339 text for display
//! and JSON. One place for the conversions the webhook parser, the call model and the store
//! share.

use chrono::{DateTime, Utc};

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// An RFC 3339 time (any offset) in microseconds since the epoch.
pub fn rfc3339_to_micros(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_micros())
}

/// Microseconds since the epoch as RFC 3339 in UTC; None out of chrono's range.
pub fn micros_to_rfc3339(us: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_micros(us).map(|d| d.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_offsets() {
        let us = 1_435_762_851_086_820;
        let text = micros_to_rfc3339(us).unwrap();
        assert_eq!(text, "2015-07-01T15:00:51.086820+00:00");
        assert_eq!(rfc3339_to_micros(&text), Some(us));
        assert_eq!(rfc3339_to_micros("2015-07-01T18:00:51+03:00"), Some(1_435_762_851_000_000));
        assert_eq!(rfc3339_to_micros("dün"), None);
        assert_eq!(micros_to_rfc3339(i64::MAX), None);
        assert!(now_us() > us);
    }
}
