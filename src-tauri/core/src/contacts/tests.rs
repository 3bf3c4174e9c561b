//! Phone book tests on a real database file, with a sample file for each exporter
//! (tests/fixtures/contacts/).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::history::{search, Query};
use crate::store::{ingest_batch, open, IncomingEvent, DB_FILE};
use crate::webhook;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/contacts").join(name)
}

fn db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = open(&dir.path().join(DB_FILE)).unwrap();
    (dir, conn)
}

fn import(conn: &mut Connection, names: &[&str]) -> ImportReport {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    import_files(conn, &paths.iter().map(PathBuf::as_path).collect::<Vec<&Path>>()).unwrap()
}

fn named(conn: &Connection, number: &str) -> Option<String> {
    lookup(conn, number).unwrap().map(|m| m.name)
}

#[test]
fn android_vcard_21_quoted_printable() {
    let (_d, mut conn) = db();
    let r = import(&mut conn, &["android-2.1-qp.vcf"]);
    assert_eq!((r.added, r.updated), (3, 0), "{r:?}");
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    assert!(r.skipped[0].place.starts_with("android-2.1-qp.vcf: card 3 (line"), "{r:?}");
    assert_eq!(named(&conn, "+90 532 444 55 66").as_deref(), Some("Mehmet Öztürk"));
    assert_eq!(named(&conn, "905551112233").as_deref(), Some("İpek Işık"));
    assert_eq!(named(&conn, "02163332211").as_deref(), Some("İpek Işık"));
    assert_eq!(named(&conn, "5051234567").as_deref(), Some("Ahmet Yılmaz"), "name built from N");
    let m = lookup(&conn, "0532 444 55 66").unwrap().unwrap();
    assert_eq!(m.company.as_deref(), Some("Öztürk Lojistik Taşımacılık A.Ş."));
    assert_eq!(m.note.as_deref(), Some("Sabah 9'dan önce aramayın"));
}

#[test]
fn iphone_vcard_30() {
    let (_d, mut conn) = db();
    let r = import(&mut conn, &["iphone-3.0.vcf"]);
    assert_eq!((r.added, r.skipped.len()), (2, 0), "{r:?}");
    let c = &list(&conn, "şükrü", 10).unwrap()[0];
    assert_eq!(c.company.as_deref(), Some("Ağaoğlu, Çelik ve Ortakları"));
    let labels: Vec<_> = c.numbers.iter().map(|n| (n.e164.as_deref(), n.label.as_deref())).collect();
    assert_eq!(labels, [(Some("+905321112233"), Some("cep")), (Some("+903124440000"), Some("Merkez")), (Some("+908508850000"), Some("iş"))]);
    assert_eq!(c.tags, ["Müşteri", "VIP"]);
    assert!(c.note.as_deref().unwrap().contains("virgüllerle; noktalı virgüllerle ve ikinci satırda"), "{:?}", c.note);
    assert_eq!(named(&conn, "0049 30 1234567").as_deref(), Some("Çağla Güneş"));
}

#[test]
fn csv_exports_of_google_outlook_excel_and_a_plain_file() {
    let (_d, mut conn) = db();
    let r = import(&mut conn, &["google.csv"]);
    assert_eq!((r.added, r.skipped.len()), (2, 1), "{r:?}");
    assert_eq!(r.skipped[0].place, "google.csv: line 5", "Mehmet's note runs over two lines");
    assert_eq!(named(&conn, "05324445567").as_deref(), Some("Mehmet Öztürk"), "second number of a ' ::: ' cell");
    let m = &list(&conn, "mehmet", 10).unwrap()[0];
    assert_eq!(m.note.as_deref(), Some("Çok önemli, \"VIP\" müşteri\nikinci satır"));
    assert_eq!(m.tags, ["Tedarikçi"]);

    let r = import(&mut conn, &["outlook-1254.csv", "excel-semicolon-1254.csv", "excel-unicode-text-utf16.txt", "plain.csv"]);
    assert_eq!((r.added, r.skipped.len()), (8, 0), "{r:?}");
    assert_eq!(named(&conn, "0532 111 22 33").as_deref(), Some("Şükrü Ağaoğlu"));
    assert_eq!(named(&conn, "02163332211").as_deref(), Some("İlkay Ilgın Işıklı"));
    assert_eq!(named(&conn, "+905322223344").as_deref(), Some("Ayşe Doğan"));
    let ayse = &list(&conn, "ayse dogan", 10).unwrap()[0];
    assert_eq!(ayse.company.as_deref(), Some("Doğan Gıda"));
    assert_eq!(ayse.numbers[0].label.as_deref(), Some("cep"));
    assert_eq!(ayse.numbers[1].label.as_deref(), Some("iş"));
    assert_eq!(list(&conn, "Hüseyin", 10).unwrap()[0].note.as_deref(), Some("Noktalı; virgüllü not"));
    assert_eq!(named(&conn, "05329876543").as_deref(), Some("Özgür Şener"));
    assert_eq!(named(&conn, "05321234568").as_deref(), Some("Türkan Şoray"));
}

#[test]
fn reimport_adds_nothing_and_an_edited_file_updates() {
    let (dir, mut conn) = db();
    let all = ["android-2.1-qp.vcf", "iphone-3.0.vcf", "google.csv", "outlook-1254.csv", "excel-semicolon-1254.csv", "excel-unicode-text-utf16.txt", "plain.csv"];
    let first = import(&mut conn, &all);
    let again = import(&mut conn, &all);
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, first.added + first.updated), "{again:?}");
    let count = |c: &Connection| c.query_row("SELECT count(*) FROM contacts", [], |r| r.get::<_, i64>(0)).unwrap();
    let before = count(&conn);

    // The same file, a number changed and a card added.
    let edited = std::fs::read_to_string(fixture("iphone-3.0.vcf")).unwrap().replace("0312 444 00 00", "0312 444 00 01")
        + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Yeni Kişi\r\nTEL:0532 000 11 22\r\nEND:VCARD\r\n";
    let path = dir.path().join("iphone-3.0.vcf");
    std::fs::write(&path, edited).unwrap();
    let r = import_files(&mut conn, &[&path]).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (1, 1, 1), "{r:?}");
    assert_eq!(count(&conn), before + 1);
    assert_eq!(named(&conn, "03124440001").as_deref(), Some("Şükrü Ağaoğlu"));
    assert_eq!(named(&conn, "03124440000"), None);
}

#[test]
fn a_contact_edited_in_kanca_keeps_its_edits_over_the_file() {
    let (dir, mut conn) = db();
    import(&mut conn, &["iphone-3.0.vcf"]);
    let sukru = list(&conn, "şükrü", 1).unwrap().remove(0);
    let with_call = add_number(&mut conn, sukru.id, &NumberInput { raw: "+90 555 999 88 77".into(), label: Some("cep".into()) }).unwrap();
    assert_eq!(with_call.numbers.len(), 4);
    assert_eq!(add_number(&mut conn, sukru.id, &NumberInput { raw: "05559998877".into(), label: None }).unwrap().numbers.len(), 4, "already there");
    assert_eq!(named(&conn, "905559998877").as_deref(), Some("Şükrü Ağaoğlu"));
    // The same file again, and an edited one: the card differs from the contact now, and what
    // was changed by hand is kept.
    let again = import(&mut conn, &["iphone-3.0.vcf"]);
    assert_eq!((again.added, again.updated), (0, 0), "{again:?}");
    assert!(again.skipped.iter().any(|s| s.reason.contains("changed in Kanca")), "{again:?}");
    let edited = std::fs::read_to_string(fixture("iphone-3.0.vcf")).unwrap().replace("Faturalar", "Siparişler");
    let path = dir.path().join("iphone-3.0.vcf");
    std::fs::write(&path, edited).unwrap();
    import_files(&mut conn, &[&path]).unwrap();
    assert_eq!(named(&conn, "905559998877").as_deref(), Some("Şükrü Ağaoğlu"));
    assert!(list(&conn, "şükrü", 1).unwrap()[0].note.as_deref().unwrap().starts_with("Faturalar"));
}

#[test]
fn broken_and_unreadable_files_say_so() {
    let (_d, mut conn) = db();
    let r = import(&mut conn, &["broken.vcf"]);
    assert_eq!(r.added, 1);
    assert_eq!(r.skipped.len(), 1);
    assert!(r.skipped[0].reason.contains("no END:VCARD"), "{r:?}");
    let missing = fixture("no-such-file.vcf");
    let r = import_files(&mut conn, &[&missing, &fixture("plain.csv")]).unwrap();
    assert_eq!((r.added, r.unreadable.len()), (2, 1), "the readable file is imported: {r:?}");
    assert!(r.skipped[0].reason.contains("cannot read"), "{r:?}");
    let (_d2, mut conn2) = db();
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"\x00\x01\x02PNG\x00\x00 not contacts").unwrap();
    let r = import_files(&mut conn2, &[junk.path()]).unwrap();
    assert_eq!(r.added, 0);
    assert!(r.skipped[0].reason.contains("not a vCard or CSV"), "{r:?}");
}

#[test]
fn lookup_matches_the_whole_number_never_a_tail() {
    let (_d, mut conn) = db();
    add(&mut conn, &ContactInput { name: "Uzun".into(), numbers: vec![NumberInput { raw: "+90 532 444 55 66".into(), label: None }], ..Default::default() }).unwrap();
    add(&mut conn, &ContactInput { name: "Dahili".into(), numbers: vec![NumberInput { raw: "1000".into(), label: None }], ..Default::default() }).unwrap();
    for spelling in ["905324445566", "0532 444 55 66", "(0532) 444-55-66", "5324445566", "00905324445566"] {
        assert_eq!(named(&conn, spelling).as_deref(), Some("Uzun"), "{spelling}");
    }
    for other in ["4445566", "532444556", "+44 532 444 55 66", "10000", "100", "anonymous", ""] {
        assert_eq!(named(&conn, other), None, "{other}");
    }
    assert_eq!(named(&conn, "1000").as_deref(), Some("Dahili"));
    // A range libphonenumber does not know yet: Bulutfon's and the book's spellings still meet.
    add(&mut conn, &ContactInput { name: "Yeni hat".into(), numbers: vec![NumberInput { raw: "0 591 234 56 78".into(), label: None }], ..Default::default() }).unwrap();
    assert_eq!(number_key("905912345678").as_deref(), Some("+905912345678"));
    for spelling in ["905912345678", "+90 591 234 56 78", "5912345678", "00905912345678"] {
        assert_eq!(named(&conn, spelling).as_deref(), Some("Yeni hat"), "{spelling}");
    }
    assert_eq!(named(&conn, "1234567"), None);
}

#[test]
fn add_update_delete() {
    let (_d, mut conn) = db();
    let input = ContactInput { name: " Ali ".into(), numbers: vec![NumberInput { raw: "0532 444 55 66".into(), label: Some("cep".into()) }], ..Default::default() };
    let c = add(&mut conn, &input).unwrap();
    assert_eq!((c.name.as_str(), c.source), ("Ali", ContactSource::Typed));
    let changed = update(&mut conn, c.id, &ContactInput { name: "Ali Veli".into(), ..input.clone() }).unwrap();
    assert_eq!(changed.name, "Ali Veli");
    assert_eq!(list(&conn, "veli", 10).unwrap().len(), 1);
    assert!(matches!(add(&mut conn, &ContactInput::default()), Err(ContactsError::NoName)));
    let bad = ContactInput { name: "X".into(), numbers: vec![NumberInput { raw: "abc".into(), label: None }], ..Default::default() };
    assert!(matches!(add(&mut conn, &bad), Err(ContactsError::BadNumber(_))));
    delete(&conn, c.id).unwrap();
    assert_eq!(named(&conn, "05324445566"), None);
    assert!(list(&conn, "veli", 10).unwrap().is_empty(), "search index follows deletes");
    assert!(matches!(delete(&conn, c.id), Err(ContactsError::NotFound(_))));
}

#[test]
fn list_by_words_by_first_letters_and_by_number() {
    let (_d, mut conn) = db();
    import(&mut conn, &["android-2.1-qp.vcf", "iphone-3.0.vcf", "excel-semicolon-1254.csv"]);
    let names = |q: &str| list(&conn, q, 10).unwrap().into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(names("ışık"), ["İpek Işık"]);
    assert_eq!(names("isik ip"), ["İpek Işık"], "a short word narrows a long one");
    assert_eq!(names("ay"), ["Ayşe Doğan"], "one or two letters: the start of the name");
    assert_eq!(names("Ş"), ["Şükrü Ağaoğlu"]);
    assert_eq!(names("lojistik"), ["Mehmet Öztürk"], "company");
    assert_eq!(names("+90 555 111 22 33"), ["İpek Işık"], "a whole number");
    for odd in ["\"", "a\"b\" OR x", "*", "NEAR(", "'; DROP TABLE contacts; --"] {
        let _ = names(odd);
    }
    assert_eq!(names("").len(), 7);
}

#[test]
fn exports_import_again_unchanged() {
    let (_d, mut conn) = db();
    import(&mut conn, &["android-2.1-qp.vcf", "iphone-3.0.vcf", "google.csv"]);
    for format in [api::ExportFormat::Vcard, api::ExportFormat::Csv] {
        let bytes = api::export(&conn, format).unwrap();
        let cards = parse_file("export", &bytes).unwrap();
        let r = import_cards(&mut conn, cards).unwrap();
        assert_eq!((r.added, r.updated, r.skipped.len()), (0, 0, 0), "{format:?}: {r:?}");
    }
    let csv = String::from_utf8(api::export(&conn, api::ExportFormat::Csv).unwrap()).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("'+90 532 444 55 66"), "formula-safe number cells: {csv}");
    assert!(csv.contains("Öztürk Lojistik"));
}

fn call(uuid: &str, caller: &str, ts: i64) -> IncomingEvent {
    let body = format!(r#"{{"event_type":"call_init","uuid":"{uuid}","caller":"{caller}","callee":908508850000,"direction":"IN","timestamp":{ts}}}"#);
    IncomingEvent {
        event: webhook::parse(Some("application/json"), body.as_bytes()).unwrap(),
        raw: body.into_bytes(),
        content_type: Some("application/json".into()),
        received_at_us: ts,
    }
}

fn found(conn: &Connection, q: Query) -> Vec<String> {
    search(conn, &Query { limit: 50, ..q }).unwrap().calls.into_iter().map(|c| c.uuid).collect()
}

fn text(t: &str) -> Query {
    Query { text: t.into(), ..Default::default() }
}

#[test]
fn history_shows_names_and_finds_calls_by_name() {
    let (_d, mut conn) = db();
    import(&mut conn, &["android-2.1-qp.vcf", "iphone-3.0.vcf"]);
    let t0 = 1_700_000_000_000_000;
    ingest_batch(
        &mut conn,
        &[call("ipek-1", "905551112233", t0), call("mehmet", "+90 (532) 444 55 66", t0 + 1), call("ipek-2", "0555 111 22 33", t0 + 2), call("nobody", "905550000000", t0 + 3),
          // Ends in İpek's number, but is another number.
          call("tail", "+4915551112233", t0 + 4)],
    )
    .unwrap();
    for q in ["isik", "IŞIK", "ışık", "İpek", "ipek ışık", "IPEK"] {
        assert_eq!(found(&conn, text(q)), ["ipek-2", "ipek-1"], "{q:?}");
    }
    assert_eq!(found(&conn, text("öztürk lojistik")), ["mehmet"], "company");
    assert_eq!(found(&conn, text("ozturk")), ["mehmet"]);
    assert!(found(&conn, text("zeynep")).is_empty());
    let page = search(&conn, &Query { limit: 50, ..Default::default() }).unwrap();
    let by_uuid = |u: &str| page.calls.iter().find(|c| c.uuid == u).unwrap().clone();
    assert_eq!(by_uuid("ipek-1").caller_name.as_deref(), Some("İpek Işık"));
    assert_eq!(by_uuid("nobody").caller_name, None);
    assert_eq!(by_uuid("tail").caller_name, None, "a tail of a number is not the number");
    assert_eq!(by_uuid("mehmet").callee_name.as_deref(), Some("Şükrü Ağaoğlu"), "the company line 0850 885 00 00 is in his card");
    // Paging a name query visits each call once.
    let first = search(&conn, &Query { text: "ipek".into(), limit: 1, ..Default::default() }).unwrap();
    assert_eq!(first.calls[0].uuid, "ipek-2");
    let second = search(&conn, &Query { text: "ipek".into(), limit: 1, before: first.next_cursor, ..Default::default() }).unwrap();
    assert_eq!(second.calls[0].uuid, "ipek-1");
    assert_eq!(second.next_cursor, None);
}

/// A rare name among many newer calls is found through its numbers (the walk of the newest
/// calls gives up), a common one by walking; both give the same pages.
#[test]
fn name_queries_walk_or_seek_with_the_same_answer() {
    let (_d, mut conn) = db();
    add(&mut conn, &ContactInput { name: "Nadir Kişi".into(), numbers: vec![NumberInput { raw: "0555 111 22 33".into(), label: None }], ..Default::default() }).unwrap();
    for i in 0..40 {
        add(&mut conn, &ContactInput { name: format!("Sık Arayan {i}"), numbers: vec![NumberInput { raw: format!("0533 000 00 {i:02}"), label: None }], ..Default::default() }).unwrap();
    }
    let t0 = 1_700_000_000_000_000;
    let mut calls = vec![call("rare-old", "905551112233", t0), call("rare-new", "905551112233", t0 + 1)];
    calls.extend((0..200).map(|i| call(&format!("common-{i}"), &format!("9053300000{:02}", i % 40), t0 + 10 + i)));
    ingest_batch(&mut conn, &calls).unwrap();
    assert_eq!(found(&conn, text("nadir")), ["rare-new", "rare-old"], "seeks after a walk that found nothing");
    let common: Vec<String> = search(&conn, &Query { text: "arayan".into(), limit: 5, ..Default::default() }).unwrap().calls.into_iter().map(|c| c.uuid).collect();
    assert_eq!(common, ["common-199", "common-198", "common-197", "common-196", "common-195"]);
    let mut seen = Vec::new();
    let mut q = Query { text: "sik".into(), limit: 60, ..Default::default() };
    loop {
        let page = search(&conn, &q).unwrap();
        seen.extend(page.calls.into_iter().map(|c| c.uuid));
        match page.next_cursor {
            Some(c) => q.before = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 200);
}

#[test]
fn notes_and_tags_on_calls_are_shown_searched_and_filtered() {
    let (_d, mut conn) = db();
    let t0 = 1_700_000_000_000_000;
    ingest_batch(&mut conn, &[call("a", "905551112233", t0), call("b", "905551112234", t0 + 1), call("c", "905551112235", t0 + 2)]).unwrap();
    crate::notes::set_note(&mut conn, "a", "Fatura itirazı, geri ARANACAK").unwrap();
    crate::notes::set_tags(&mut conn, "a", &["şikayet".into(), "acil".into()]).unwrap();
    crate::notes::set_tags(&mut conn, "c", &["acil".into(), "acil".into()]).unwrap();
    assert!(matches!(crate::notes::set_note(&mut conn, "zzz", "x"), Err(crate::notes::NotesError::UnknownCall(_))));
    assert_eq!(found(&conn, text("aranacak")), ["a"]);
    assert_eq!(found(&conn, text("SIKAYET")), ["a"]);
    assert_eq!(found(&conn, Query { tag: Some("acil".into()), ..Default::default() }), ["c", "a"]);
    assert_eq!(found(&conn, Query { tag: Some("acil".into()), text: "5551112235".into(), ..Default::default() }), ["c"]);
    assert_eq!(found(&conn, Query { tag: Some("acil".into()), text: "fatura".into(), ..Default::default() }), ["a"]);
    let detail = crate::history::get_call(&conn, "a").unwrap().unwrap();
    assert_eq!(detail.call.note.as_deref(), Some("Fatura itirazı, geri ARANACAK"));
    assert_eq!(detail.call.tags, ["şikayet", "acil"]);
    let tags = crate::notes::tags(&conn).unwrap();
    assert_eq!(tags.iter().map(|t| (t.name.as_str(), t.calls)).collect::<Vec<_>>(), [("acil", 2), ("şikayet", 1)]);
    crate::notes::set_tag_colour(&conn, "acil", "red").unwrap();
    assert!(crate::notes::set_tag_colour(&conn, "acil", "#ff0000").is_err());
    assert_eq!(crate::notes::tags(&conn).unwrap()[0].colour, crate::notes::TagColour::Red, "the chosen colour, not the first one");
    crate::notes::set_tags(&mut conn, "a", &[]).unwrap();
    crate::notes::set_note(&mut conn, "a", "").unwrap();
    assert_eq!(crate::notes::get(&conn, "a").unwrap(), (None, Vec::new()));
    assert_eq!(found(&conn, Query { tag: Some("acil".into()), ..Default::default() }), ["c"]);
}

/// A desk mirrors its receiver's notes: all of them replaced in one go, searchable as its own,
/// the ones on calls it lacks left out and counted.
#[test]
fn a_desk_copy_of_the_notes_replaces_them_all() {
    use crate::notes::{all, replace_all, CallNote};
    let (_d, mut conn) = db();
    let t0 = 1_700_000_000_000_000;
    ingest_batch(&mut conn, &[call("a", "905551112233", t0), call("b", "905551112234", t0 + 1)]).unwrap();
    crate::notes::set_note(&mut conn, "a", "eski not").unwrap();
    crate::notes::set_tags(&mut conn, "a", &["eski".into()]).unwrap();
    let theirs = vec![
        CallNote { uuid: "b".into(), note: Some("Geri ARANACAK".into()), tags: vec!["acil".into()] },
        CallNote { uuid: "nope".into(), note: Some("x".into()), tags: vec![] },
    ];
    assert_eq!(replace_all(&mut conn, &theirs).unwrap(), 1, "the note on a call this database lacks");
    assert_eq!(all(&conn).unwrap(), theirs[..1]);
    assert_eq!(crate::notes::get(&conn, "a").unwrap(), (None, Vec::new()), "a's note and tags are gone");
    assert_eq!(found(&conn, text("aranacak")), ["b"]);
    assert_eq!(found(&conn, Query { tag: Some("eski".into()), ..Default::default() }), Vec::<String>::new());
    assert_eq!(found(&conn, Query { tag: Some("acil".into()), ..Default::default() }), ["b"]);
}

#[test]
fn calls_csv_is_formula_safe_with_turkish_letters() {
    let (_d, mut conn) = db();
    add(&mut conn, &ContactInput { name: "=HYPERLINK(\"http://x\")".into(), numbers: vec![NumberInput { raw: "05551112233".into(), label: None }], ..Default::default() }).unwrap();
    add(&mut conn, &ContactInput { name: "Şükrü Ağaoğlu".into(), numbers: vec![NumberInput { raw: "05551112234".into(), label: None }], ..Default::default() }).unwrap();
    ingest_batch(&mut conn, &[call("a", "905551112233", 1_700_000_000_000_000), call("b", "905551112234", 1_700_000_000_000_001)]).unwrap();
    crate::notes::set_note(&mut conn, "b", "@SUM(1)").unwrap();
    let calls = search(&conn, &Query { limit: 10, ..Default::default() }).unwrap().calls;
    let mut out = Vec::new();
    crate::export::calls_csv(&mut out, b';', &calls).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("\u{feff}Started;Direction;Caller;Caller name;"), "{text}");
    assert!(text.contains(";\"'=HYPERLINK(\"\"http://x\"\")\";"), "{text}");
    assert!(text.contains(";Şükrü Ağaoğlu;"), "{text}");
    assert!(text.contains(";'@SUM(1);"), "{text}");
}

proptest! {
    /// Any spelling of a Turkish mobile number finds its contact; a different number never does.
    #[test]
    fn any_spelling_finds_the_contact(nsn in "5[03-5][0-9]{8}", other in "5[03-5][0-9]{8}") {
        let key = number_key(&format!("+90{nsn}"));
        let (a, b, c, d) = (&nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]);
        for s in [format!("90{nsn}"), format!("0{a} {b} {c} {d}"), format!("(0{a}) {b}-{c}-{d}"), nsn.clone(), format!("+90 {a} {b} {c} {d}")] {
            prop_assert_eq!(number_key(&s), key.clone(), "{}", s);
        }
        prop_assert_eq!(number_key(&other) == key, other == nsn);
        // A tail of the number is never the number.
        prop_assert_ne!(number_key(&nsn[3..]), key.clone());
    }

    /// Whatever a vCard or CSV file holds, reading it never panics.
    #[test]
    fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in "(BEGIN:VCARD\n|END:VCARD\n|FN[;A-Z=-]*:[^\n]{0,20}\n|TEL:[0-9 +]{0,14}=?\n|[ ,;\t\"=a-zÇŞ]{0,10}\n){0,12}") {
        let _ = parse_file("x", &bytes);
        let _ = parse_file("x", text.as_bytes());
        let _ = vcard::parse(&text, encoding_rs::WINDOWS_1254);
    }
}

fn sample_contact(name: &str, company: &str, note: &str) -> Contact {
    Contact {
        id: 1,
        name: name.trim().to_owned(),
        company: Some(company.trim().to_owned()).filter(|c| !c.is_empty()),
        numbers: vec![ContactNumber { raw: "0532 444 55 66".into(), e164: Some("+905324445566".into()), label: Some("cep".into()) }],
        email: None,
        note: Some(note.trim().to_owned()).filter(|n| !n.is_empty()),
        tags: Vec::new(),
        source: ContactSource::Typed,
        uid: None,
    }
}

proptest! {
    /// What Kanca exports, as CSV or vCard, it reads back the same, whatever the text holds
    /// (quotes, delimiters, new lines, formula characters, Turkish letters).
    #[test]
    fn exports_read_back_the_same(
        name in "[a-zA-ZçğıöşüÇĞİÖŞÜ0-9 ,;\"\\\\=+@\n-]{0,24}[a-zA-ZçğıöşüÇĞİÖŞÜ]",
        company in "[a-zA-ZçğıöşüÇĞİÖŞÜ ,;\"=-]{0,16}",
        note in "[a-zA-ZçğıöşüÇĞİÖŞÜ ,;:\"\\\\\n=]{0,40}",
    ) {
        let c = sample_contact(&name, &company, &note);
        let mut csv_bytes = Vec::new();
        csv::export(&mut csv_bytes, std::slice::from_ref(&c)).unwrap();
        let vcf = vcard::export(std::slice::from_ref(&c)).into_bytes();
        for (format, bytes) in [("csv", csv_bytes), ("vcard", vcf)] {
            let cards = parse_file("x", &bytes).unwrap();
            prop_assert_eq!(cards.len(), 1, "{}", format);
            let back = cards.into_iter().next().unwrap().unwrap();
            prop_assert_eq!(&back.name, &c.name, "{}", format);
            prop_assert_eq!(&back.company, &c.company, "{}", format);
            prop_assert_eq!(&back.note, &c.note, "{}", format);
            prop_assert_eq!(&back.numbers[0].raw, "0532 444 55 66");
        }
    }
}

/// What the desktop shell calls: the engine's async API, off the executor.
#[tokio::test(flavor = "multi_thread")]
async fn engine_api_for_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let engine = crate::Engine::open(dir.path()).unwrap();
    let mehmet = ContactInput {
        name: "Mehmet Öztürk".into(),
        company: Some("Öztürk Lojistik".into()),
        numbers: vec![NumberInput { raw: "0532 444 55 66".into(), label: Some("cep".into()) }],
        note: Some("Sabah 9'dan önce aramayın".into()),
        ..Default::default()
    };
    let added = engine.add_contact(mehmet).await.unwrap();
    let found = engine.lookup_contact("905324445566".into()).await.unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.note.as_deref()), ("Mehmet Öztürk", Some("Sabah 9'dan önce aramayın")));

    // A call from him is published with his name, for the pop-up.
    let mut changes = engine.subscribe();
    engine.store().ingest(call("popup", "+90 532 444 55 66", store_now())).await.unwrap();
    let change = changes.recv().await.unwrap();
    assert_eq!(change.call.caller_name.as_deref(), Some("Mehmet Öztürk"));

    engine.set_call_note("popup".into(), "Teklif istedi".into()).await.unwrap();
    engine.set_call_tags("popup".into(), vec!["satış".into()]).await.unwrap();
    engine.set_tag_colour("satış".into(), "green".into()).await.unwrap();
    let detail = engine.store().read(|c| crate::history::get_call(c, "popup")).await.unwrap().unwrap();
    assert_eq!((detail.call.note.as_deref(), detail.call.tags.clone()), (Some("Teklif istedi"), vec!["satış".to_string()]));
    assert_eq!(engine.call_tags().await.unwrap()[0].colour, crate::notes::TagColour::Green);
    assert!(engine.set_call_note("nope".into(), "x".into()).await.is_err());

    let report = engine.import_contacts(vec![fixture("iphone-3.0.vcf")]).await.unwrap();
    assert_eq!(report.added, 2);
    assert_eq!(engine.list_contacts("ağaoğlu".into(), 10).await.unwrap().len(), 1);
    let csv = engine.export_contacts(api::ExportFormat::Csv).await.unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()));
    let edited = engine.update_contact(added.id, ContactInput { name: "Mehmet Ö.".into(), ..Default::default() }).await.unwrap();
    assert!(edited.numbers.is_empty());
    assert_eq!(engine.lookup_contact("905324445566".into()).await.unwrap(), None, "the change shows in later look-ups at once");
    engine.delete_contact(added.id).await.unwrap();
    assert_eq!(engine.get_contact(added.id).await.unwrap(), None);
}

fn store_now() -> i64 {
    crate::time::now_us()
}
