//! vCard 2.1, 3.0 and 4.0 as phones and address books export them, and export as vCard 3.0.
//!
//! Read by hand on purpose: the one maintained vCard parser on crates.io (`ical`) reads UTF-8
//! lines only and knows nothing of vCard 2.1's QUOTED-PRINTABLE soft line breaks, which Android
//! writes for every name with a Turkish letter; a card split at such a break would lose its name.
//! What is not vCard-specific comes from crates: `quoted_printable` decodes the values and
//! `encoding_rs` their CHARSET.

use super::{Card, CardNumber, Skip};

/// One content line, unfolded: `[group.]NAME;PARAMS:value`.
struct Line {
    group: Option<String>,
    name: String,
    /// Parameters upper-cased by name; 2.1's bare `CELL` is `("TYPE", "CELL")`.
    params: Vec<(String, String)>,
    value: String,
    /// Where the line starts in the file (1-based).
    at: usize,
}

impl Line {
    fn param<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn types(&self) -> Vec<String> {
        self.param("TYPE").flat_map(|v| v.split(',')).map(|t| t.trim().trim_matches('"').to_ascii_uppercase()).collect()
    }

    fn is_quoted_printable(&self) -> bool {
        self.param("ENCODING").any(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
    }
}

/// Whether `text` looks like a vCard file.
pub fn looks_like(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').trim_start().get(..11).is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD"))
}

/// Every card of `text`: a [`Card`] or why it was skipped. `legacy` decodes QUOTED-PRINTABLE
/// bytes that are not valid UTF-8 and have no CHARSET (old phones wrote their own code page).
pub fn parse(text: &str, legacy: &'static encoding_rs::Encoding) -> Vec<Result<Card, Skip>> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<Line>)> = None;
    let mut cards = 0;
    for line in logical_lines(text) {
        let Some(line) = line else { continue };
        match (line.name.as_str(), line.value.trim().to_ascii_uppercase().as_str()) {
            ("BEGIN", "VCARD") => {
                cards += 1;
                if let Some((start, _)) = current.replace((line.at, Vec::new())) {
                    out.push(Err(Skip::new(format!("card {} (line {start})", cards - 1), "no END:VCARD before the next card")));
                }
            }
            ("END", "VCARD") => match current.take() {
                Some((start, lines)) => out.push(card(&lines, legacy, format!("card {cards} (line {start})"))),
                None => out.push(Err(Skip::new(format!("line {}", line.at), "END:VCARD without BEGIN:VCARD"))),
            },
            _ => {
                if let Some((_, lines)) = current.as_mut() {
                    lines.push(line);
                }
            }
        }
    }
    if let Some((start, _)) = current {
        out.push(Err(Skip::new(format!("card {cards} (line {start})"), "the file ends inside this card (no END:VCARD): it may be cut short")));
    }
    out
}

/// Unfold physical lines into content lines: a line starting with a space or tab continues the
/// one before (RFC 6350 3.2, RFC 2425), and a QUOTED-PRINTABLE value ending in `=` continues on
/// the next line (vCard 2.1's soft line break). None for lines that are not properties.
fn logical_lines(text: &str) -> impl Iterator<Item = Option<Line>> + '_ {
    let mut physical = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().peekable();
    std::iter::from_fn(move || {
        let (i, first) = physical.next()?;
        let mut raw = first.to_owned();
        loop {
            match physical.peek() {
                Some((_, next)) if next.starts_with([' ', '\t']) => {
                    raw.push_str(&next[1..]);
                    physical.next();
                }
                Some((_, next)) if raw.ends_with('=') && is_qp_header(&raw) => {
                    raw.pop();
                    raw.push_str(next.trim_start());
                    physical.next();
                }
                _ => break,
            }
        }
        Some(parse_line(&raw, i + 1))
    })
}

fn is_qp_header(raw: &str) -> bool {
    let head = raw.split(':').next().unwrap_or("");
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

fn parse_line(raw: &str, at: usize) -> Option<Line> {
    // The name and parameters end at the first ':' outside a quoted parameter value.
    let mut quoted = false;
    let colon = raw.char_indices().find(|&(_, c)| {
        if c == '"' {
            quoted = !quoted;
        }
        c == ':' && !quoted
    })?;
    let (head, value) = (&raw[..colon.0], &raw[colon.0 + 1..]);
    let mut parts = split_unquoted(head, ';').into_iter();
    let full_name = parts.next()?.trim().to_owned();
    let (group, name) = match full_name.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_owned()), n.to_ascii_uppercase()),
        None => (None, full_name.to_ascii_uppercase()),
    };
    if name.is_empty() {
        return None;
    }
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_owned()),
            // vCard 2.1: a bare value names its type, except the encodings and charsets.
            None => {
                let v = p.trim().to_ascii_uppercase();
                let key = match v.as_str() {
                    "QUOTED-PRINTABLE" | "BASE64" | "8BIT" | "7BIT" => "ENCODING",
                    _ => "TYPE",
                };
                (key.to_owned(), v)
            }
        })
        .collect();
    Some(Line { group, name, params, value: value.to_owned(), at })
}

/// Split at `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// The value's text: QUOTED-PRINTABLE decoded in its CHARSET (UTF-8 unless said).
fn decoded(line: &Line, legacy: &'static encoding_rs::Encoding) -> String {
    if !line.is_quoted_printable() {
        return line.value.clone();
    }
    let bytes = quoted_printable::decode(line.value.as_bytes(), quoted_printable::ParseMode::Robust).unwrap_or_else(|_| line.value.clone().into_bytes());
    let charset = line.param("CHARSET").next().and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()));
    let encoding = match charset {
        Some(enc) => enc,
        None if std::str::from_utf8(&bytes).is_ok() => encoding_rs::UTF_8,
        None => legacy,
    };
    encoding.decode_without_bom_handling(&bytes).0.into_owned()
}

/// Split a structured value (N, ORG) at unescaped ';', each component unescaped.
fn components(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.last_mut().map(|s| s.push('\n')).unwrap_or(()),
                Some(other) => out.last_mut().map(|s| s.push(other)).unwrap_or(()),
                None => {}
            },
            ';' => out.push(String::new()),
            c => out.last_mut().map(|s| s.push(c)).unwrap_or(()),
        }
    }
    out
}

/// An unstructured value unescaped (`\,` `\;` `\\` `\n`).
fn unescape(value: &str) -> String {
    components(&value.replace("\\;", "\u{0}")).join(";").replace('\u{0}', ";")
}

/// The Turkish label for a TEL's types, or the custom label Apple keeps in `itemN.X-ABLabel`.
fn label_of(types: &[String]) -> Option<String> {
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("CELL") || has("MOBILE") || has("IPHONE") {
        Some("cep".into())
    } else if has("FAX") {
        Some("faks".into())
    } else if has("WORK") {
        Some("iş".into())
    } else if has("HOME") {
        Some("ev".into())
    } else {
        None
    }
}

fn card(lines: &[Line], legacy: &'static encoding_rs::Encoding, at: String) -> Result<Card, Skip> {
    let mut c = Card { at: at.clone(), ..Card::default() };
    let mut n_name = None;
    let labels: Vec<(&str, String)> = lines
        .iter()
        .filter(|l| l.name == "X-ABLABEL")
        .filter_map(|l| Some((l.group.as_deref()?, clean_apple_label(&unescape(&decoded(l, legacy))))))
        .collect();
    for line in lines {
        let text = || decoded(line, legacy);
        match line.name.as_str() {
            "FN" => c.name = unescape(&text()).trim().to_owned(),
            "N" => n_name = Some(name_from_n(&components(&text()))),
            "ORG" => c.company = components(&text()).into_iter().map(|s| s.trim().to_owned()).find(|s| !s.is_empty()),
            "TEL" => {
                let value = unescape(&text());
                let raw = value.trim().trim_start_matches("tel:").trim().to_owned();
                let custom = line.group.as_deref().and_then(|g| labels.iter().find(|(lg, _)| *lg == g)).map(|(_, l)| l.clone());
                c.numbers.push(CardNumber { raw, label: custom.or_else(|| label_of(&line.types())) });
            }
            "EMAIL" if c.email.is_none() => c.email = Some(unescape(&text()).trim().to_owned()).filter(|e| !e.is_empty()),
            "NOTE" => c.note = Some(unescape(&text()).trim().to_owned()).filter(|n| !n.is_empty()),
            "UID" => c.uid = Some(unescape(&text()).trim().to_owned()).filter(|u| !u.is_empty()),
            "CATEGORIES" => c.tags.extend(components(&text().replace(',', ";")).into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())),
            _ => {}
        }
    }
    if c.name.is_empty() {
        c.name = n_name.unwrap_or_default();
    }
    c.finish().map_err(|reason| Skip::new(at, reason))
}

/// "_$!<Mobile>!$_" is how Apple spells its own labels.
fn clean_apple_label(label: &str) -> String {
    let inner = label.trim().trim_start_matches("_$!<").trim_end_matches(">!$_");
    match inner.to_ascii_lowercase().as_str() {
        "mobile" | "iphone" => "cep".into(),
        "work" => "iş".into(),
        "home" => "ev".into(),
        "main" => "ana".into(),
        _ => inner.to_owned(),
    }
}

/// A display name from N (family; given; additional; prefixes; suffixes), in the order Turkish
/// names are said: "Dr. Mehmet Ali Öztürk".
fn name_from_n(parts: &[String]) -> String {
    let get = |i: usize| parts.get(i).map(|s| s.trim()).unwrap_or("");
    [get(3), get(1), get(2), get(0), get(4)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A value escaped for vCard 3.0.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Append `line` folded at 75 octets, on character boundaries, with CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The phone book as vCard 3.0. A card keeps the UID it was imported with, so importing the
/// export again updates the same contacts instead of adding copies.
pub fn export(contacts: &[super::Contact]) -> String {
    let mut out = String::new();
    for c in contacts {
        out.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        push_folded(&mut out, &format!("FN:{}", escape(&c.name)));
        // N is required in 3.0; the family name is taken as the last word.
        let (given, family) = c.name.rsplit_once(' ').unwrap_or(("", &c.name));
        push_folded(&mut out, &format!("N:{};{};;;", escape(family), escape(given)));
        if let Some(org) = &c.company {
            push_folded(&mut out, &format!("ORG:{}", escape(org)));
        }
        for (i, n) in c.numbers.iter().enumerate() {
            let ty = match n.label.as_deref() {
                Some("cep") => ";TYPE=CELL",
                Some("iş") => ";TYPE=WORK",
                Some("ev") => ";TYPE=HOME",
                Some("faks") => ";TYPE=FAX",
                None => ";TYPE=VOICE",
                // A label of the user's own, as Apple writes it.
                Some(label) => {
                    push_folded(&mut out, &format!("item{}.TEL:{}", i + 1, escape(&n.raw)));
                    push_folded(&mut out, &format!("item{}.X-ABLabel:{}", i + 1, escape(label)));
                    continue;
                }
            };
            push_folded(&mut out, &format!("TEL{ty}:{}", escape(&n.raw)));
        }
        if let Some(e) = &c.email {
            push_folded(&mut out, &format!("EMAIL;TYPE=INTERNET:{}", escape(e)));
        }
        if let Some(note) = &c.note {
            push_folded(&mut out, &format!("NOTE:{}", escape(note)));
        }
        if !c.tags.is_empty() {
            push_folded(&mut out, &format!("CATEGORIES:{}", c.tags.iter().map(|t| escape(t)).collect::<Vec<_>>().join(",")));
        }
        if let Some(uid) = &c.uid {
            push_folded(&mut out, &format!("UID:{}", escape(uid)));
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> Vec<Result<Card, Skip>> {
        parse(text, encoding_rs::WINDOWS_1254)
    }

    fn ok(text: &str) -> Vec<Card> {
        cards(text).into_iter().map(|c| c.unwrap()).collect()
    }

    #[test]
    fn android_21_quoted_printable_with_soft_breaks() {
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=96zt=C3=BCrk;Mehmet;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Mehmet =C3=96zt=C3=BCrk =C5=9Eirketi=20=C4=B0=\r\nstanbul\r\n\
TEL;CELL;PREF:0532 444 55 66\r\nTEL;WORK:+90 212 555 12 34\r\nEND:VCARD\r\n";
        let c = &ok(text)[0];
        assert_eq!(c.name, "Mehmet Öztürk Şirketi İstanbul");
        assert_eq!(c.numbers.len(), 2);
        assert_eq!(c.numbers[0].label.as_deref(), Some("cep"));
        assert_eq!(c.numbers[1].label.as_deref(), Some("iş"));
    }

    #[test]
    fn qp_without_charset_in_the_phones_code_page() {
        // Old phones: QUOTED-PRINTABLE bytes of Windows-1254 and no CHARSET.
        let text = "BEGIN:VCARD\nVERSION:2.1\nFN;ENCODING=QUOTED-PRINTABLE:=DDpek I=FE=FDk\nTEL:05324445566\nEND:VCARD\n";
        assert_eq!(ok(text)[0].name, "İpek Işık");
    }

    #[test]
    fn iphone_30_groups_folding_escapes() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Işık;İpek;;;\r\nFN:İpek Işık\r\nORG:Işık\\, Kardeşler Ltd.;Satış;\r\n\
item1.TEL;type=pref:+90 (532) 444-55-66\r\nitem1.X-ABLabel:_$!<Mobile>!$_\r\nitem2.TEL:0212 555 12 34\r\nitem2.X-ABLabel:Depo\r\n\
NOTE:Sabah 9'dan önce aramayın\\, lütfen.\\nİkinci satır uzun bir not olarak burada devam edi\r\n yor.\r\nUID:ABC-123\r\nEND:VCARD\r\n";
        let c = &ok(text)[0];
        assert_eq!(c.name, "İpek Işık");
        assert_eq!(c.company.as_deref(), Some("Işık, Kardeşler Ltd."));
        assert_eq!(c.numbers[0].label.as_deref(), Some("cep"));
        assert_eq!(c.numbers[1].label.as_deref(), Some("Depo"));
        assert_eq!(c.note.as_deref(), Some("Sabah 9'dan önce aramayın, lütfen.\nİkinci satır uzun bir not olarak burada devam ediyor."));
        assert_eq!(c.uid.as_deref(), Some("ABC-123"));
    }

    #[test]
    fn name_from_n_when_no_fn_and_40_tel_uri() {
        let text = "BEGIN:VCARD\nVERSION:4.0\nN:Ağaoğlu;Şükrü;;Dr.;\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+905324445566\nEND:VCARD\n";
        let c = &ok(text)[0];
        assert_eq!(c.name, "Dr. Şükrü Ağaoğlu");
        assert_eq!(c.numbers[0].raw, "+905324445566");
        assert_eq!(c.numbers[0].label.as_deref(), Some("cep"));
    }

    #[test]
    fn broken_cards_are_reported_not_dropped() {
        let text = "BEGIN:VCARD\nFN:Ali\nTEL:0532 444 55 66\nBEGIN:VCARD\nFN:Veli\nTEL:0532 444 55 67\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nNOTE:x\nEND:VCARD\nBEGIN:VCARD\nFN:Kesik\n";
        let got = cards(text);
        assert_eq!(got.len(), 4);
        assert!(got[0].as_ref().unwrap_err().reason.contains("no END:VCARD"));
        assert_eq!(got[1].as_ref().unwrap().name, "Veli");
        assert_eq!(got[2].as_ref().unwrap_err().place, "card 3 (line 8)");
        assert!(got[3].as_ref().unwrap_err().reason.contains("ends inside"));
    }

    #[test]
    fn export_round_trips() {
        let contact = super::super::Contact {
            id: 1,
            name: "İpek Işık; \"Çağ\", =1+1".into(),
            company: Some("Öztürk, Lojistik".into()),
            numbers: vec![super::super::ContactNumber { raw: "0532 444 55 66".into(), e164: Some("+905324445566".into()), label: Some("cep".into()) }],
            email: Some("ipek@example.com".into()),
            note: Some("Uzun bir not ".repeat(20)),
            tags: vec!["vip".into(), "tedarikçi".into()],
            source: super::super::ContactSource::Typed,
            uid: Some("u-1".into()),
        };
        let text = export(std::slice::from_ref(&contact));
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        let back = &ok(&text)[0];
        assert_eq!(back.name, contact.name);
        assert_eq!(back.company, contact.company);
        assert_eq!(back.numbers[0].raw, "0532 444 55 66");
        assert_eq!(back.numbers[0].label.as_deref(), Some("cep"));
        assert_eq!(back.note, contact.note.map(|n| n.trim().to_owned()));
        assert_eq!(back.tags, contact.tags);
        assert_eq!(back.uid.as_deref(), Some("u-1"));
    }
}
