//! Text folded for search: Turkish case rules (İ→i, I→ı) and then forgiving of missing accents,
//! so "isik", "IŞIK" and "ışık" all find "İpek Işık".
//!
//! Lower-casing follows Turkish rules first (otherwise "I" would become "i" and "İ" would become
//! "i̇" with a combining dot); then every letter with a diacritic is replaced by its plain Latin
//! letter. Both the stored text and the query go through [`fold`], so dotless and dotted i meet
//! at "i" whichever the user typed.

/// Folds `text` for comparison: lower case by Turkish rules, accents removed, runs of whitespace
/// as one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        // Control characters (a NUL pasted in) separate words like spaces.
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        push_folded(&mut out, c);
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    let plain = match c {
        'I' | 'İ' | 'ı' | 'i' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ş' | 'ş' | 'Ś' | 'ś' | 'Š' | 'š' => 's',
        'Ğ' | 'ğ' => 'g',
        'Ü' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'ù' | 'ú' | 'û' => 'u',
        'Ö' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => 'c',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'È' | 'É' | 'Ê' | 'Ë' | 'è' | 'é' | 'ê' | 'ë' => 'e',
        'Ñ' | 'ñ' => 'n',
        'Ý' | 'ý' | 'ÿ' => 'y',
        'Ž' | 'ž' => 'z',
        // Combining marks (a decomposed "ş" or the dot of "i̇"): dropped.
        '\u{0300}'..='\u{036F}' => return,
        c if c.is_ascii() => c.to_ascii_lowercase(),
        c => {
            // Lower-cased, a letter can become one this match folds further (the ANGSTROM SIGN
            // "Å" is "å"): fold what it became, so folding twice changes nothing.
            for lower in c.to_lowercase() {
                if lower == c {
                    out.push(lower);
                } else {
                    push_folded(out, lower);
                }
            }
            return;
        }
    };
    out.push(plain);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn turkish_spellings_meet() {
        let name = fold("İpek Işık");
        assert_eq!(name, "ipek isik");
        for q in ["isik", "IŞIK", "ışık", "Işık", "ISIK", "ipek", "İPEK", "IPEK", "ıpek"] {
            assert!(name.contains(&fold(q)), "{q:?} -> {:?}", fold(q));
        }
        assert_eq!(fold("ÇAĞLAR ŞÜKRÜ Öztürk"), "caglar sukru ozturk");
        assert_eq!(fold("  Mehmet\t\n Öztürk "), "mehmet ozturk");
        // "i̇" as İ lower-cased by non-Turkish rules (i + combining dot above).
        assert_eq!(fold("i\u{307}pek"), "ipek");
        assert_eq!(fold("Müller & Söhne"), "muller & sohne");
        assert_eq!(fold("Ωμέγα"), "ωμέγα");
        // Signs that lower-case to a letter with an accent (ANGSTROM SIGN, KELVIN SIGN).
        assert_eq!(fold("\u{212B}ngström \u{212A}"), "angstrom k");
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in any::<String>()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn case_and_accents_do_not_matter(s in "[a-zA-ZçğıöşüÇĞİÖŞÜ ]{0,30}") {
            let upper: String = s.chars().map(|c| match c { 'i' => 'İ', 'ı' => 'I', c => c.to_uppercase().next().unwrap_or(c) }).collect();
            let ascii: String = s.chars().map(|c| match c { 'ç' => 'c', 'ğ' => 'g', 'ı' => 'i', 'ö' => 'o', 'ş' => 's', 'ü' => 'u', c => c }).collect();
            prop_assert_eq!(fold(&upper), fold(&s));
            prop_assert_eq!(fold(&ascii), fold(&s));
            prop_assert!(fold(&s).chars().all(|c| c.is_ascii_lowercase() || c == ' '));
        }
    }
}
