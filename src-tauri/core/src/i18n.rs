//! The words Kanca shows outside the window (pop-ups, the tray, the command line), from the same catalogues the
//! window reads: `i18n/tr.json` and `i18n/en.json` at the top of the repository, one flat map
//! of keys to text per language, `{name}` marking a parameter. A new text is added there, in
//! both files (the UI's tests and the tests below check that both have every key).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::call::{CallKind, CallState, RouteStep};
use crate::webhook::RouteType;

type Catalogue = HashMap<String, String>;

fn load(json: &str) -> Catalogue {
    // The catalogues are compiled in and checked by the tests below: they always parse.
    serde_json::from_str(json).unwrap_or_default()
}

static TR: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../../i18n/tr.json")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../../i18n/en.json")));

/// The text for `key` in English or Turkish; the Turkish text when English lacks it, the key
/// itself when neither has it.
pub fn t(english: bool, key: &'static str) -> &'static str {
    let catalogue: &'static Catalogue = if english { &EN } else { &TR };
    catalogue.get(key).or_else(|| TR.get(key)).map(String::as_str).unwrap_or(key)
}

/// [`t`] with each `{name}` replaced by its value.
pub fn tf(english: bool, key: &'static str, params: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = t(english, key).to_string();
    for (name, value) in params {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

/// A call's state as a word ("Cevapsız"); a fax that arrived is "Alındı".
pub fn state_word(english: bool, kind: CallKind, state: CallState) -> &'static str {
    let key = match (kind, state) {
        (CallKind::Fax, CallState::Ended) => "state.faxReceived",
        (_, CallState::Ringing) => "state.ringing",
        (_, CallState::Answered) => "state.answered",
        (_, CallState::Missed) => "state.missed",
        (_, CallState::Ended) => "state.ended",
        (_, CallState::EndUnknown) => "state.end_unknown",
    };
    t(english, key)
}

/// Each step of a call's route in words ("Menü 10", "Grup 111", "Dahili 1000"), unescaped.
pub fn route_words(english: bool, route: &[RouteStep]) -> Vec<String> {
    route
        .iter()
        .map(|step| {
            let key = match step.kind {
                RouteType::Menu => "route.menu",
                RouteType::Group => "route.group",
                RouteType::Extension => "route.extension",
            };
            let words = tf(english, key, &[("d", &step.destination)]);
            match &step.name {
                // "Grup 101 · Teknik Destek"
                Some(name) => format!("{words} · {name}"),
                None => words,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        let tr: Catalogue = serde_json::from_str(include_str!("../../../i18n/tr.json")).unwrap();
        let en: Catalogue = serde_json::from_str(include_str!("../../../i18n/en.json")).unwrap();
        let mut missing: Vec<_> = tr.keys().filter(|k| !en.contains_key(*k)).chain(en.keys().filter(|k| !tr.contains_key(*k))).collect();
        missing.sort();
        assert!(missing.is_empty(), "keys in one catalogue only: {missing:?}");
        assert!(tr.values().chain(en.values()).all(|v| !v.is_empty()));
    }

    /// Every key the Rust code asks for (`t(…, "key")`, `tf(…, "key", …)`) is in the catalogue.
    #[test]
    fn every_key_used_in_rust_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut used = Vec::new();
        for dir in ["core/src", "src", "src/desktop", "src/desktop/popups"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap().filter_map(Result::ok) {
                let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
                // Unit tests may ask for missing keys on purpose.
                let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
                for call in ["t(en, \"", "t(english, \"", "t(true, \"", "tf(en, \"", "tf(english, \"", "tf(true, \""] {
                    for piece in text.split(call).skip(1) {
                        used.push(piece.split('"').next().unwrap_or_default().to_string());
                    }
                }
            }
        }
        assert!(used.len() > 30, "found only {} uses: has the call style changed?", used.len());
        let missing: Vec<_> = used.iter().filter(|k| !TR.contains_key(k.as_str())).collect();
        assert!(missing.is_empty(), "keys used in Rust but not in i18n/tr.json: {missing:?}");
    }

    #[test]
    fn every_state_and_route_has_words_in_both_languages() {
        use crate::call::{CallKind, CallState, RouteStep};
        let states = [CallState::Ringing, CallState::Answered, CallState::Missed, CallState::Ended, CallState::EndUnknown];
        for english in [false, true] {
            for kind in [CallKind::Call, CallKind::Fax] {
                for state in states {
                    let word = state_word(english, kind, state);
                    assert!(!word.starts_with("state."), "{kind:?} {state:?} has no words: {word}");
                }
            }
        }
        assert_eq!(state_word(false, CallKind::Fax, CallState::Ended), "Alındı");
        assert_eq!(state_word(false, CallKind::Call, CallState::Ended), "Bitti");
        let route: Vec<RouteStep> = [(RouteType::Menu, "10"), (RouteType::Group, "111"), (RouteType::Extension, "1000")]
            .into_iter()
            .map(|(kind, d)| RouteStep { kind, destination: d.into(), at: None, name: None })
            .collect();
        assert_eq!(route_words(false, &route), ["Menü 10", "Grup 111", "Dahili 1000"]);
        assert_eq!(route_words(true, &route), ["Menu 10", "Group 111", "Ext. 1000"]);
        let mut named = route.clone();
        named[1].name = Some("Teknik Destek".into());
        assert_eq!(route_words(false, &named)[1], "Grup 111 · Teknik Destek");
    }

    #[test]
    fn parameters_are_filled() {
        assert_eq!(tf(false, "popup.incoming", &[("caller", &"0 532 444 55 66")]), "Gelen arama: 0 532 444 55 66");
        assert_eq!(tf(true, "tray.missedMany", &[("n", &3)]), "3 missed calls — show");
        assert_eq!(t(true, "no.such.key"), "no.such.key");
    }
}
