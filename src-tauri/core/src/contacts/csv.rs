//! Contacts from CSV as Google Contacts, Outlook and Excel write it (any header layout Kanca can
//! map, Turkish headers included, or a plain "name, number" file), and the phone book as CSV.
//! The delimiter (comma, semicolon, tab) is detected from the first line; the `csv` crate reads
//! the quoting (embedded quotes and newlines).

use crate::fold::fold;
use super::{Card, CardNumber, Contact, Skip};

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Name,
    Given,
    Middle,
    Family,
    Company,
    Email,
    Note,
    Tags,
    Uid,
    /// A phone number; the label from the header ("Mobile Phone" → cep) when it says one.
    Phone(Option<String>),
    /// Google's "Phone 1 - Label": the label of the phone column with the same number.
    PhoneLabel(String),
    /// Google's "Phone 1 - Value".
    PhoneValue(String),
    Other,
}

fn words(folded: &str) -> Vec<&str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect()
}

fn label_from(words: &[&str]) -> Option<String> {
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    if has(&["mobile", "cep", "gsm", "cell"]) {
        Some("cep".into())
    } else if has(&["fax", "faks"]) {
        Some("faks".into())
    } else if has(&["business", "work", "is", "company", "office"]) {
        Some("iş".into())
    } else if has(&["home", "ev"]) {
        Some("ev".into())
    } else {
        None
    }
}

/// The column a header names, in English or Turkish, as the exporters spell it.
fn column(header: &str) -> Column {
    let f = fold(header.trim().trim_start_matches('\u{feff}'));
    let w = words(&f);
    let has = |set: &[&str]| w.iter().any(|x| set.contains(x));
    let numbered = |prefix: &str| -> Option<String> {
        // "phone 1 - value" → "1"
        let rest = f.strip_prefix(prefix)?.trim_start();
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!n.is_empty()).then_some(n)
    };
    if let Some(n) = numbered("phone") {
        if has(&["label", "type"]) {
            return Column::PhoneLabel(n);
        }
        if has(&["value"]) {
            return Column::PhoneValue(n);
        }
    }
    match f.as_str() {
        "name" | "full name" | "display name" | "ad soyad" | "adi soyadi" | "ad soyadi" | "adsoyad" | "isim" | "isim soyisim" | "kisi"
        | "kisi adi" | "contact" | "contact name" | "unvan" => return Column::Name,
        "given name" | "first name" | "ad" | "adi" | "ilk ad" => return Column::Given,
        "additional name" | "middle name" | "ikinci ad" => return Column::Middle,
        "family name" | "last name" | "surname" | "soyad" | "soyadi" | "soyisim" => return Column::Family,
        "company" | "organization" | "organization name" | "organization 1 - name" | "sirket" | "firma" | "kurum" | "is yeri" | "sirket adi"
        | "firma adi" => return Column::Company,
        "notes" | "note" | "not" | "notlar" | "aciklama" => return Column::Note,
        "labels" | "group membership" | "categories" | "kategoriler" | "etiketler" | "etiket" | "gruplar" => return Column::Tags,
        "uid" | "id" => return Column::Uid,
        _ => {}
    }
    if has(&["mail", "email", "eposta", "posta"]) && !has(&["type", "label", "display", "tur"]) {
        return if f.contains("2") || f.contains("3") { Column::Other } else { Column::Email };
    }
    let phone_words = ["phone", "telefon", "telefonu", "tel", "cep", "gsm", "numara", "numarasi", "number", "mobile", "faks", "fax", "no"];
    if has(&phone_words) && !has(&["label", "type", "etiket", "tur", "mail"]) {
        return Column::Phone(label_from(&w));
    }
    Column::Other
}

/// The delimiter of the first line outside quotes (comma, semicolon or tab), and whether that
/// line is Excel's `sep=;` hint, which is not data.
fn delimiter(text: &str) -> (u8, bool) {
    let first = text.lines().next().unwrap_or("");
    if let Some(sep) = first.strip_prefix("sep=").and_then(|s| s.bytes().next()) {
        return (sep, true);
    }
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    ([b',', b';', b'\t'][best], false)
}

/// A cell as written: the `'` Kanca's own export puts before a formula-like cell is dropped.
fn cell(s: &str) -> &str {
    let s = s.trim();
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => s,
    }
}

/// The numbers in a cell: Google puts several in one (" ::: "), people use new lines.
fn numbers_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(":::").flat_map(|p| p.split('\n')).map(str::trim).filter(|p| !p.is_empty())
}

fn looks_like_number(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 3 && s.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

/// Every data row of `text`: a [`Card`] or why it was skipped. Empty rows are left out.
pub fn parse(text: &str) -> Result<Vec<Result<Card, Skip>>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let (delim, hint) = delimiter(text);
    let body = if hint { text.split_once('\n').map(|(_, rest)| rest).unwrap_or("") } else { text };
    let first_line = if hint { 2 } else { 1 };
    let mut reader = csv::ReaderBuilder::new().delimiter(delim).has_headers(false).flexible(true).from_reader(body.as_bytes());
    let mut first = csv::StringRecord::new();
    match reader.read_record(&mut first) {
        Ok(true) => {}
        Ok(false) => return Ok(Vec::new()),
        Err(e) => return Err(format!("line {first_line}: {e}")),
    }
    let header: Vec<Column> = first.iter().map(column).collect();
    let mapped = header.iter().any(|c| !matches!(c, Column::Other));
    // No header Kanca knows: a plain "name, number" file, its first line data too.
    let (columns, pending) = if mapped {
        (header, None)
    } else if first.len() >= 2 && looks_like_number(cell(&first[1])) {
        let mut cols = vec![Column::Name, Column::Phone(None)];
        cols.extend((2..first.len()).map(|_| Column::Phone(None)));
        (cols, Some(first))
    } else {
        return Err(format!(
            "line {first_line}: no column Kanca knows (a name such as \"Name\", \"Ad\", \"Ad Soyad\" and a number such as \"Phone\", \"Telefon\", \"Cep\"), and the second column is not a number"
        ));
    };
    let mut out = Vec::new();
    // The line a row starts on (a quoted cell may run over several lines).
    // The reader stops before a row's line break, so the next row starts after the breaks.
    // Rows come in order: count the line breaks from where the last row started.
    let mut seen = (0usize, 1usize);
    let mut line_at = |byte: u64| {
        let bytes = body.as_bytes();
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        let (from, line) = if at >= seen.0 { seen } else { (0, 1) };
        seen = (at, line + bytes[from..at].iter().filter(|b| **b == b'\n').count());
        seen.1
    };
    let handle = |record: &csv::StringRecord, line: usize, out: &mut Vec<Result<Card, Skip>>| {
        if record.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        let at = format!("line {}", line + first_line - 1);
        out.push(row(&columns, record).finish().map(|c| Card { at: at.clone(), ..c }).map_err(|reason| Skip::new(at, reason)));
    };
    if let Some(first) = pending {
        handle(&first, 1, &mut out);
    }
    let mut record = csv::StringRecord::new();
    loop {
        let byte = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(true) => handle(&record, line_at(byte), &mut out),
            Ok(false) => break,
            Err(e) => {
                let line = line_at(e.position().map_or(byte, |p| p.byte())) + first_line - 1;
                out.push(Err(Skip::new(format!("line {line}"), format!("unreadable row: {e}"))));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

fn row(columns: &[Column], record: &csv::StringRecord) -> Card {
    let mut c = Card::default();
    let (mut given, mut middle, mut family) = (String::new(), String::new(), String::new());
    let mut google_labels: Vec<(&str, String)> = Vec::new();
    for (col, value) in columns.iter().zip(record.iter()) {
        if let Column::PhoneLabel(n) = col {
            google_labels.push((n, cell(value).to_owned()));
        }
    }
    let set = |slot: &mut Option<String>, v: &str| {
        if slot.is_none() && !v.is_empty() {
            *slot = Some(v.to_owned());
        }
    };
    for (col, value) in columns.iter().zip(record.iter()) {
        let v = cell(value);
        match col {
            Column::Name if c.name.is_empty() => c.name = v.to_owned(),
            Column::Given => given = v.to_owned(),
            Column::Middle => middle = v.to_owned(),
            Column::Family => family = v.to_owned(),
            Column::Company => set(&mut c.company, v),
            Column::Email => set(&mut c.email, v),
            Column::Note => set(&mut c.note, v),
            Column::Uid => set(&mut c.uid, v),
            Column::Tags => c.tags.extend(
                v.split(":::").map(|t| t.trim().trim_start_matches("* ").to_owned()).filter(|t| !t.is_empty() && t != "myContacts" && t != "starred"),
            ),
            Column::Phone(label) => c.numbers.extend(numbers_in(v).map(|raw| CardNumber { raw: raw.to_owned(), label: label.clone() })),
            Column::PhoneValue(n) => {
                let label = google_labels.iter().find(|(ln, _)| ln == n).and_then(|(_, l)| google_label(l));
                c.numbers.extend(numbers_in(v).map(|raw| CardNumber { raw: raw.to_owned(), label: label.clone() }));
            }
            _ => {}
        }
    }
    if c.name.is_empty() {
        c.name = [given, middle, family].iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    }
    c
}

fn google_label(label: &str) -> Option<String> {
    let l = label.trim().trim_start_matches("* ");
    let w = fold(l);
    label_from(&words(&w)).or_else(|| (!l.is_empty() && !l.eq_ignore_ascii_case("other")).then(|| l.to_owned()))
}

/// A cell a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, tab or carriage
/// return would be read as a formula, so it gets a leading `'`.
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Rows written as Excel opens them: UTF-8 with a BOM (or it reads the file as the system's code
/// page and garbles Turkish letters), CRLF, every cell formula-safe.
pub fn write_rows<W: std::io::Write>(out: W, delimiter: u8, rows: impl IntoIterator<Item = Vec<String>>) -> std::io::Result<()> {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new().delimiter(delimiter).terminator(csv::Terminator::CRLF).flexible(true).from_writer(out);
    for r in rows {
        w.write_record(r.iter().map(|c| formula_safe(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// The phone book as CSV in Google's layout (which Kanca and the others import again).
pub fn export<W: std::io::Write>(out: W, contacts: &[Contact]) -> std::io::Result<()> {
    let most = contacts.iter().map(|c| c.numbers.len()).max().unwrap_or(1).max(1);
    let mut header: Vec<String> = vec!["Name".into(), "Organization 1 - Name".into()];
    for i in 1..=most {
        header.push(format!("Phone {i} - Label"));
        header.push(format!("Phone {i} - Value"));
    }
    header.extend(["E-mail 1 - Value", "Notes", "Labels", "UID"].map(String::from));
    let rows = contacts.iter().map(move |c| {
        let mut r = vec![c.name.clone(), c.company.clone().unwrap_or_default()];
        for i in 0..most {
            let n = c.numbers.get(i);
            r.push(n.and_then(|n| n.label.clone()).unwrap_or_default());
            r.push(n.map(|n| n.raw.clone()).unwrap_or_default());
        }
        r.push(c.email.clone().unwrap_or_default());
        r.push(c.note.clone().unwrap_or_default());
        r.push(c.tags.join(" ::: "));
        r.push(c.uid.clone().unwrap_or_default());
        r
    });
    write_rows(out, b',', std::iter::once(header).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<Card> {
        parse(text).unwrap().into_iter().map(|c| c.unwrap()).collect()
    }

    #[test]
    fn headers_map_in_english_and_turkish() {
        assert_eq!(column("Ad"), Column::Given);
        assert_eq!(column("Soyadı"), Column::Family);
        assert_eq!(column("SOYADI"), Column::Family);
        assert_eq!(column("Ad Soyad"), Column::Name);
        assert_eq!(column("Telefon"), Column::Phone(None));
        assert_eq!(column("Cep"), Column::Phone(Some("cep".into())));
        assert_eq!(column("Cep Telefonu"), Column::Phone(Some("cep".into())));
        assert_eq!(column("İş Telefonu"), Column::Phone(Some("iş".into())));
        assert_eq!(column("Mobile Phone"), Column::Phone(Some("cep".into())));
        assert_eq!(column("Business Fax"), Column::Phone(Some("faks".into())));
        assert_eq!(column("Phone 1 - Value"), Column::PhoneValue("1".into()));
        assert_eq!(column("Phone 2 - Label"), Column::PhoneLabel("2".into()));
        assert_eq!(column("E-mail Address"), Column::Email);
        assert_eq!(column("E-posta"), Column::Email);
        assert_eq!(column("Şirket"), Column::Company);
        assert_eq!(column("E-mail 2 Address"), Column::Other);
        assert_eq!(column("Birthday"), Column::Other);
    }

    #[test]
    fn plain_name_number_file_and_delimiters() {
        for text in ["Ali Veli,0532 444 55 66\nAyşe,05551112233\n", "Ali Veli;0532 444 55 66\r\nAyşe;05551112233\r\n", "Ali Veli\t0532 444 55 66\nAyşe\t05551112233"] {
            let c = ok(text);
            assert_eq!(c.len(), 2, "{text:?}");
            assert_eq!(c[0].name, "Ali Veli");
            assert_eq!(c[1].numbers[0].raw, "05551112233");
            assert_eq!(c[1].at, "line 2");
        }
        assert_eq!(ok("name,number\nAli,0532 444 55 66\n")[0].name, "Ali");
    }

    #[test]
    fn google_multi_number_cells_and_quotes() {
        let text = "Name,Given Name,Family Name,Organization 1 - Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Notes,Labels\n\
\"Öztürk, Mehmet \"\"Memo\"\"\",Mehmet,Öztürk,Öztürk Lojistik,Mobile,+90 532 444 55 66 ::: 0532 444 55 67,Work,0212 555 12 34,\"iki\nsatır\",* myContacts ::: VIP\n";
        let c = &ok(text)[0];
        assert_eq!(c.name, "Öztürk, Mehmet \"Memo\"");
        assert_eq!(c.company.as_deref(), Some("Öztürk Lojistik"));
        let raws: Vec<_> = c.numbers.iter().map(|n| (n.raw.as_str(), n.label.as_deref())).collect();
        assert_eq!(raws, [("+90 532 444 55 66", Some("cep")), ("0532 444 55 67", Some("cep")), ("0212 555 12 34", Some("iş"))]);
        assert_eq!(c.note.as_deref(), Some("iki\nsatır"));
        assert_eq!(c.tags, ["VIP"]);
    }

    #[test]
    fn rows_without_a_name_are_skipped_with_their_line() {
        let text = "Ad;Soyad;Cep\nAli;Yılmaz;0532 444 55 66\n;;\n;;0532 000 00 00\n\"Kapanmayan;x;1\n";
        let got = parse(text).unwrap();
        assert_eq!(got[0].as_ref().unwrap().name, "Ali Yılmaz");
        let skip = got[1].as_ref().unwrap_err();
        assert_eq!(skip.place, "line 4");
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn not_a_contacts_file() {
        assert!(parse("foo,bar\nbaz,qux\n").is_err());
    }

    #[test]
    fn formula_cells_are_text() {
        for bad in ["=1+1", "+90532", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(formula_safe(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(formula_safe("İpek"), "İpek");
        let mut out = Vec::new();
        write_rows(&mut out, b';', [vec!["=HYPERLINK(\"x\")".to_string(), "Şükrü".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\u{feff}\"'=HYPERLINK(\"\"x\"\")\";Şükrü\r\n");
    }
}
