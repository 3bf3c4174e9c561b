//! Phone-number normalisation for Bulutfon webhooks: turns every spelling a number can arrive in
//! (905324445566, "+90 532 444 55 66", "0532 444 55 66", internal 1000, "anonymous", ...) into one
//! canonical, displayable and searchable form.

use phonenumber::{country, Mode};
use serde::Serialize;

/// Turkey's calling code. Bulutfon is a Turkish PBX, so Turkey is the default region.
const TR_CODE: u16 = 90;
/// E.164 numbers have at most 15 digits, 17 with a "00" prefix. Anything longer is not a phone
/// number and is never handed to the parser (which has panicked on odd input in the past).
const MAX_DIGITS: usize = 17;
/// Internal extensions (99, 111, 1000, ...) have at most this many digits.
const MAX_INTERNAL_DIGITS: usize = 5;

/// A number from a webhook, in every form the app needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneNumber {
    /// Exactly as received (trimmed), e.g. "90532000000" or "anonymous".
    pub raw: String,
    /// E.164 with '+' ("+905324445566") when the number is a valid full number; None otherwise.
    pub e164: Option<String>,
    /// Form to show Turkish users: "0 532 444 55 66" for Turkish numbers with a 10-digit
    /// national number, libphonenumber's national format for other Turkish numbers (e.g. "444 1 444"),
    /// international format for foreign numbers ("+49 30 1234567"), the digits for short internal
    /// numbers ("1000"), and `raw` for anything unparseable.
    pub display: String,
    /// Digits used for substring search: E.164 digits without '+' for valid numbers ("905324445566"),
    /// the digits for short internal numbers ("1000"), otherwise the raw text with whitespace removed
    /// (digits only if raw is only digits and separators).
    ///
    /// Because Turkey's code ends in 0, the national form "05324445566" is a substring of
    /// "905324445566", so this one form matches national, international and partial queries.
    pub search: String,
    pub kind: NumberKind,
}

/// What a number is, so the UI can decide e.g. whether to offer "call back" or a contact lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberKind {
    /// Valid number with country code 90.
    Turkish,
    /// Valid number of another country.
    Foreign,
    /// Short PBX extension (at most 5 digits, no '+').
    Internal,
    /// Junk, withheld ("anonymous") or a number libphonenumber does not consider valid.
    Unknown,
}

/// Normalises a number as received in a webhook. Never panics.
///
/// A JSON number that went through a float ("905324445566.0") has its trailing ".0" stripped
/// before parsing; `raw` still keeps it.
pub fn normalize(raw: &str) -> PhoneNumber {
    // Parsing with libphonenumber's metadata costs tens of microseconds and the same few
    // numbers (the company's lines, regular callers) recur in every event: keep recent results.
    // Shared by all threads so the listener can parse a new number before the store's
    // projector needs it.
    static CACHE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, PhoneNumber>>> =
        std::sync::LazyLock::new(Default::default);
    // Small: a busy day's callers are mostly new numbers, and a full cache of 8,192 was about 3 MiB
    // kept for the life of the app.
    const CACHE_MAX: usize = 1024;
    if let Some(hit) = CACHE.lock().ok().and_then(|c| c.get(raw).cloned()) {
        return hit;
    }
    let parsed = normalize_uncached(raw);
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(raw.to_owned(), parsed.clone());
    }
    parsed
}

/// Loads libphonenumber's metadata and compiles the patterns Turkish and foreign numbers need,
/// which the first parse would otherwise do (tens of milliseconds): call it off the hot path when
/// a receiver starts, so the first call's pop-up is as quick as the later ones.
pub fn warm_up() {
    for sample in ["905324445566", "902124445566", "+4930123456"] {
        let _ = normalize_uncached(sample);
    }
}

fn normalize_uncached(raw: &str) -> PhoneNumber {
    let raw = raw.trim();
    let make = |e164, display, search, kind| PhoneNumber { raw: raw.to_owned(), e164, display, search, kind };

    let Some((plus, digits)) = split_number(strip_float_suffix(raw)) else {
        let search = raw.chars().filter(|c| !c.is_whitespace()).collect();
        return make(None, raw.to_owned(), search, NumberKind::Unknown);
    };
    if !plus && digits.len() <= MAX_INTERNAL_DIGITS {
        return make(None, digits.clone(), digits, NumberKind::Internal);
    }
    if let Some(nsn) = turkish_national(plus, &digits) {
        if let Some(valid) = turkish_prefix_valid(nsn) {
            return if valid {
                let display = format!("0 {} {} {} {}", &nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]);
                make(Some(format!("+90{nsn}")), display, format!("90{nsn}"), NumberKind::Turkish)
            } else {
                make(None, raw.to_owned(), digits, NumberKind::Unknown)
            };
        }
    }
    parsed(raw, plus, digits)
}

/// [`normalize_uncached`] by libphonenumber alone, for number-like text that is not short.
fn parsed(raw: &str, plus: bool, digits: String) -> PhoneNumber {
    let make = |e164, display, search, kind| PhoneNumber { raw: raw.to_owned(), e164, display, search, kind };
    let Some(number) = parse_valid(plus, &digits) else {
        // Parses but is not valid (e.g. the 11-digit fake 90532000000): keep it searchable only.
        return make(None, raw.to_owned(), digits, NumberKind::Unknown);
    };

    let e164 = number.format().mode(Mode::E164).to_string();
    let search = e164.trim_start_matches('+').to_owned();
    let (display, kind) = if number.code().value() == TR_CODE {
        let nsn = number.national().to_string();
        let display = if nsn.len() == 10 {
            // Turkish habit: trunk "0" set apart, no parentheses ("0 212 555 12 34").
            format!("0 {} {} {} {}", &nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..])
        } else {
            number.format().mode(Mode::National).to_string()
        };
        (display, NumberKind::Turkish)
    } else {
        let display = number.format().mode(Mode::International).to_string();
        (display, NumberKind::Foreign)
    };
    make(Some(e164), display, search, kind)
}

/// The 10-digit Turkish national number in the spellings webhooks and people use for it:
/// "+90" or "90" or "0090" and the number, "0" and the number, or the bare number (unless it
/// starts "90"). Its first digit is 2–9: nothing valid starts with 0 or 1, and those are left to
/// libphonenumber.
fn turkish_national(plus: bool, digits: &str) -> Option<&str> {
    let nsn = match (plus, digits.len()) {
        (true, 12) | (false, 12) => digits.strip_prefix("90")?,
        (false, 14) => digits.strip_prefix("0090")?,
        (false, 11) => digits.strip_prefix('0')?,
        // A bare number starting "90" reads to libphonenumber as the country code and the rest.
        (false, 10) if !digits.starts_with("90") => digits,
        _ => return None,
    };
    matches!(nsn.as_bytes()[0], b'2'..=b'9').then_some(nsn)
}

/// Whether 10-digit Turkish national numbers starting as `nsn` does are valid, decided by
/// libphonenumber once per six-digit prefix: its Turkish patterns for 10-digit numbers look at
/// most six digits deep (`561 011`, `592 21[12]`) and accept any digits after that. A busy
/// day's callers are mostly new numbers, and a parse costs tens of microseconds; this table
/// makes every number after the first of its prefix cost a lookup. `phone::tests` compares it
/// with libphonenumber across prefixes, so a change of the metadata that breaks the rule fails
/// there. None when libphonenumber reads the prefix as something else (never expected).
fn turkish_prefix_valid(nsn: &str) -> Option<bool> {
    // Prefix -> Some(valid), or None when libphonenumber read the probe as something else.
    static PREFIXES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<u32, Option<bool>>>> =
        std::sync::LazyLock::new(Default::default);
    // Turkey uses well under this many prefixes; a sender inventing numbers cannot grow the
    // table past a few MiB.
    const PREFIXES_MAX: usize = 200_000;
    let prefix: u32 = nsn.get(..6)?.parse().ok()?;
    if let Some(known) = PREFIXES.lock().ok().and_then(|t| t.get(&prefix).copied()) {
        return known;
    }
    let probe = format!("90{}0000", &nsn[..6]);
    let answer = match parse_valid(true, &probe) {
        Some(n) if n.code().value() == TR_CODE && n.national().to_string() == probe[2..] => Some(true),
        Some(_) => None,
        None => Some(false),
    };
    if let Ok(mut t) = PREFIXES.lock() {
        if t.len() >= PREFIXES_MAX {
            t.clear();
        }
        t.insert(prefix, answer);
    }
    answer
}

/// Digits a user typed in a search box, normalised so that it is a substring of `PhoneNumber::search`
/// for the number they mean: strip everything but digits; strip a leading "00" international prefix;
/// "+90532444" -> "90532444", "0532 444" -> "0532444", "532 444 55 66" -> "5324445566".
/// Returns None when the text is not number-like (contains letters or other characters than digits, spaces, + - ( ) . /)
/// or has no digits (a lone "00" prefix counts as no digits).
pub fn search_digits(query: &str) -> Option<String> {
    if !query.chars().all(|c| c.is_ascii_digit() || c == '+' || is_separator(c)) {
        return None;
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix("00").unwrap_or(&digits);
    (!digits.is_empty()).then(|| digits.to_owned())
}

/// Characters people and systems put between digits.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '(' | ')' | '.' | '/')
}

/// "905324445566.0" -> "905324445566": a JSON number that was handled as a float on the way.
fn strip_float_suffix(s: &str) -> &str {
    match s.strip_suffix(".0") {
        Some(int) if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) => int,
        _ => s,
    }
}

/// Splits number-like text into (has a leading '+', digits). None when the text contains anything
/// but digits and separators, or has no digits.
fn split_number(s: &str) -> Option<(bool, String)> {
    let (plus, rest) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !is_separator(c) {
            return None;
        }
    }
    (!digits.is_empty()).then_some((plus, digits))
}

/// Parses cleaned digits with Turkey as the default region and keeps the result only if
/// libphonenumber says it is valid. Only "+digits" or plain digits reach the parser.
fn parse_valid(plus: bool, digits: &str) -> Option<phonenumber::PhoneNumber> {
    if digits.len() > MAX_DIGITS {
        return None;
    }
    let text = if plus {
        format!("+{digits}")
    } else if let Some(international) = digits.strip_prefix("00") {
        format!("+{international}")
    } else if digits.len() == 12 && digits.starts_with("90") {
        // Bulutfon's own form: Turkish international without '+'.
        format!("+{digits}")
    } else {
        // National: "0" + number (the parser strips the trunk prefix) or the bare national number.
        digits.to_owned()
    };
    let number = phonenumber::parse(Some(country::Id::TR), text).ok()?;
    number.is_valid().then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str, e164: Option<&str>, display: &str, search: &str, kind: NumberKind) {
        let p = normalize(raw);
        assert_eq!(p.raw, raw.trim(), "raw of {raw:?}");
        assert_eq!(p.e164.as_deref(), e164, "e164 of {raw:?}");
        assert_eq!(p.display, display, "display of {raw:?}");
        assert_eq!(p.search, search, "search of {raw:?}");
        assert_eq!(p.kind, kind, "kind of {raw:?}");
    }

    #[test]
    fn turkish_mobile_spellings() {
        for raw in [
            "905324445566",
            "+905324445566",
            "+90 532 444 55 66",
            "0532 444 55 66",
            "05324445566",
            "5324445566",
            "00905324445566",
            "+90 (532) 444-55-66",
            "0 532 444 55 66",
            "  +90 532 444 55 66\n",
        ] {
            let display = "0 532 444 55 66";
            check(raw, Some("+905324445566"), display, "905324445566", NumberKind::Turkish);
        }
    }

    #[test]
    fn turkish_landline_and_850() {
        for raw in ["02125551234", "(0212) 555-12-34", "+90 212 555 12 34", "2125551234"] {
            let display = "0 212 555 12 34";
            check(raw, Some("+902125551234"), display, "902125551234", NumberKind::Turkish);
        }
        let display = "0 850 885 00 00";
        check("908508850000", Some("+908508850000"), display, "908508850000", NumberKind::Turkish);
    }

    #[test]
    fn turkish_444_number_uses_national_format() {
        // libphonenumber treats 444 XXXX as a valid 7-digit Turkish number.
        for raw in ["4441444", "444 1 444", "+90 444 1 444"] {
            check(raw, Some("+904441444"), "444 1 444", "904441444", NumberKind::Turkish);
        }
        assert!(normalize("4441444").search.contains(&search_digits("444 1 444").unwrap()));
    }

    #[test]
    fn foreign_number() {
        for raw in ["+49301234567", "0049 30 1234567", "+49 (30) 123-4567"] {
            check(raw, Some("+49301234567"), "+49 30 1234567", "49301234567", NumberKind::Foreign);
        }
    }

    #[test]
    fn internal_numbers() {
        for raw in ["99", "1000", "111", "12345"] {
            check(raw, None, raw, raw, NumberKind::Internal);
        }
        check(" 10-00 ", None, "1000", "1000", NumberKind::Internal);
    }

    #[test]
    fn junk_and_invalid() {
        check("anonymous", None, "anonymous", "anonymous", NumberKind::Unknown);
        check("", None, "", "", NumberKind::Unknown);
        check("   ", None, "", "", NumberKind::Unknown);
        check("12ab", None, "12ab", "12ab", NumberKind::Unknown);
        check("Gizli Numara", None, "Gizli Numara", "GizliNumara", NumberKind::Unknown);
        check("+", None, "+", "+", NumberKind::Unknown);
        // Parses, but is not a valid number: keep it, but only as digits to search.
        check("90532000000", None, "90532000000", "90532000000", NumberKind::Unknown);
        check("+90 532 000 000", None, "+90 532 000 000", "90532000000", NumberKind::Unknown);
        check("+99", None, "+99", "99", NumberKind::Unknown);
        check(&"9".repeat(40), None, &"9".repeat(40), &"9".repeat(40), NumberKind::Unknown);
    }

    #[test]
    fn float_suffix_is_stripped() {
        let raw = "905324445566.0";
        check(raw, Some("+905324445566"), "0 532 444 55 66", "905324445566", NumberKind::Turkish);
        check("99.0", None, "99", "99", NumberKind::Internal);
    }

    #[test]
    fn serializes_kind_in_snake_case() {
        let json = serde_json::to_value(normalize("1000")).unwrap();
        assert_eq!(json["kind"], "internal");
        assert_eq!(json["e164"], serde_json::Value::Null);
    }

    #[test]
    fn search_digits_examples() {
        assert_eq!(search_digits("+90532444").as_deref(), Some("90532444"));
        assert_eq!(search_digits("0532 444").as_deref(), Some("0532444"));
        assert_eq!(search_digits("532 444 55 66").as_deref(), Some("5324445566"));
        assert_eq!(search_digits("0090 532").as_deref(), Some("90532"));
        assert_eq!(search_digits("(0212) 555-12-34").as_deref(), Some("02125551234"));
        assert_eq!(search_digits("0532.444/55").as_deref(), Some("053244455"));
        assert_eq!(search_digits("4445566").as_deref(), Some("4445566"));
        for junk in ["", " ", "+", "00", "abc", "12ab", "0532_444", "５３２"] {
            assert_eq!(search_digits(junk), None, "{junk:?}");
        }
        let search = normalize("905324445566").search;
        for q in ["0532 444", "+90532444", "532 444 55 66", "4445566", "00905324445566"] {
            assert!(search.contains(&search_digits(q).unwrap()), "{q:?}");
        }
    }

    /// The Turkish spellings the prefix table answers, compared with libphonenumber itself.
    fn agrees_with_libphonenumber(nsn: &str) {
        for raw in [format!("+90{nsn}"), format!("90{nsn}"), format!("0090{nsn}"), format!("0{nsn}"), nsn.to_owned()] {
            let (plus, digits) = split_number(&raw).unwrap();
            let bare_90 = raw == nsn && nsn.starts_with("90");
            assert_eq!(turkish_national(plus, &digits).is_some(), !bare_90, "{raw} takes the table");
            assert_eq!(normalize_uncached(&raw), parsed(&raw, plus, digits), "{raw}");
        }
    }

    #[test]
    fn the_prefix_table_agrees_with_libphonenumber_on_every_range() {
        // Every four-digit start, each with tails that differ in every later digit.
        for start in 2000..=9999 {
            for tail in ["000000", "999999", "185274"] {
                agrees_with_libphonenumber(&format!("{start}{tail}"));
            }
        }
        // The ranges the metadata splits deeper than four digits (mobile 561 011 / 561 61,
        // personal 592 21[12] / 592 461): every six-digit start.
        for start in (561_000..=561_999).chain(592_000..=592_999) {
            for tail in ["0000", "9999", "4731"] {
                agrees_with_libphonenumber(&format!("{start}{tail}"));
            }
        }
    }

    #[test]
    fn other_lengths_and_starts_are_left_to_libphonenumber() {
        for (plus, digits) in [(false, "0532444556"), (false, "1234567890"), (true, "905324445566"[..11].as_ref()), (false, "00905324445566"[..13].as_ref()), (false, "09053244455")] {
            let nsn = turkish_national(plus, digits);
            assert!(nsn.is_none() || nsn.is_some_and(|n| n.len() == 10 && !n.starts_with(['0', '1'])), "{digits}");
        }
        assert_eq!(turkish_national(false, "1234567890"), None);
        assert_eq!(turkish_national(false, "9001234567"), None);
        assert_eq!(turkish_national(false, "00123456789"), None);
    }

    /// The spellings of a Turkish mobile number seen in webhooks and typed by users.
    fn spellings(nsn: &str) -> Vec<String> {
        let (a, b, c, d) = (&nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]);
        vec![
            format!("90{nsn}"),
            format!("+90{nsn}"),
            format!("+90 {a} {b} {c} {d}"),
            format!("0{a} {b} {c} {d}"),
            format!("0 {a} {b} {c} {d}"),
            format!("(0{a}) {b}-{c}-{d}"),
            nsn.to_owned(),
            format!("{nsn}.0"),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = normalize(&s);
            let _ = search_digits(&s);
        }

        #[test]
        fn never_panics_on_number_like(
            s in prop_oneof!["[+]?[0-9 ()./-]{0,40}", "(00|0|[+])?[1-9][0-9]{6,13}"],
        ) {
            let p = normalize(&s);
            let _ = search_digits(&s);
            // Whatever is valid shows in a form that normalises back to itself and is found by search.
            if let Some(e164) = &p.e164 {
                prop_assert_eq!(normalize(&p.display).e164, Some(e164.clone()));
                prop_assert!(p.search.contains(&search_digits(&p.display).unwrap()));
            }
        }

        #[test]
        fn the_prefix_table_agrees_on_any_number(nsn in "[2-9][0-9]{9}") {
            agrees_with_libphonenumber(&nsn);
        }

        #[test]
        fn turkish_mobile_spellings_agree(nsn in "5[03-5][0-9]{8}") {
            let e164 = format!("+90{nsn}");
            let search = &e164[1..];
            let intl = format!("00{search}");
            for s in spellings(&nsn).iter().chain([&intl]) {
                let p = normalize(s);
                prop_assert_eq!(p.e164.as_deref(), Some(e164.as_str()), "{:?}", s);
                prop_assert_eq!(p.kind, NumberKind::Turkish);
                prop_assert_eq!(p.search.as_str(), search);
            }
            // Any part of a spelling a user may type is found (".0" is a webhook artefact, not typed).
            for s in spellings(&nsn).iter().map(|s| s.strip_suffix(".0").unwrap_or(s)) {
                for i in 0..s.len() {
                    for j in i + 1..=s.len() {
                        if let Some(q) = search_digits(&s[i..j]) {
                            prop_assert!(search.contains(&q), "{:?} -> {:?}", &s[i..j], q);
                        }
                    }
                }
            }
            // "00" spelling: typed from its start.
            for j in 1..=intl.len() {
                if let Some(q) = search_digits(&intl[..j]) {
                    prop_assert!(search.contains(&q), "{:?} -> {:?}", &intl[..j], q);
                }
            }
        }
    }
}
