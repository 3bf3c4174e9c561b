//! The phone book through the command line: a user imports the contacts of their phone, a
//! caller rings from one of those numbers spelled another way, and history shows the name.

use kanca_tests::*;
use serde_json::Value;

fn import_json(data: &std::path::Path, files: &[&str]) -> Value {
    let mut args = vec!["contacts", "import"];
    args.extend_from_slice(files);
    args.push("--json");
    let out = kanca_ok(data, &args);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("import --json is not one JSON object ({e}): {out}"))
}

#[test]
fn imported_names_show_in_history_and_find_their_calls() {
    let work = Workdir::new();
    let data = work.data_dir();
    let dir = workspace_root().join("tests/fixtures/contacts");
    let android = dir.join("android-2.1-qp.vcf");
    let excel = dir.join("excel-semicolon-1254.csv");
    let files = [android.to_str().unwrap(), excel.to_str().unwrap()];
    let first = import_json(&data, &files);
    assert_eq!(first["added"], 5, "{first}");
    assert_eq!(first["updated"], 0, "{first}");
    let skipped = first["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{first}");
    assert!(skipped[0]["where"].as_str().unwrap().contains("card 3"), "{first}");

    let server = Server::start(&data);
    // Mehmet's card says "0 532 444 55 66"; Bulutfon sends 905324445566.
    server.post_json(&event_json("call_init", "from-mehmet", 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    // Ayşe's row (Windows-1254, semicolons) says "0532 222 33 44".
    server.post_json(&event_json("call_init", "from-ayse", 905322223344, 908508850000, "IN", 1_700_000_100_000_000).to_string()).expect_accepted();
    server.post_json(&event_json("call_init", "from-nobody", 905320001122, 908508850000, "IN", 1_700_000_200_000_000).to_string()).expect_accepted();

    let calls = history(&data, &[]);
    let by = |uuid: &str| calls.iter().find(|c| c["uuid"] == uuid).unwrap_or_else(|| panic!("{uuid} in {calls:?}")).clone();
    assert_eq!(by("from-mehmet")["caller_name"], "Mehmet Öztürk");
    assert_eq!(by("from-ayse")["caller_name"], "Ayşe Doğan");
    assert_eq!(by("from-nobody")["caller_name"], Value::Null);
    assert_eq!(by("from-nobody")["callee_name"], Value::Null);
    assert_eq!(by("from-mehmet")["note"], Value::Null);
    assert_eq!(by("from-mehmet")["tags"], serde_json::json!([]));
    assert_eq!(show(&data, "from-mehmet")["caller_name"], "Mehmet Öztürk");

    // By name or company, in Turkish or plain letters.
    for q in ["mehmet", "ÖZTÜRK", "ozturk lojistik"] {
        assert_eq!(history_uuids(&data, &[q]), ["from-mehmet"], "{q:?}");
    }
    assert_eq!(history_uuids(&data, &["ayse", "dogan"]), ["from-ayse"]);

    // Importing the same files again, while the receiver runs, adds nothing.
    let again = import_json(&data, &files);
    assert_eq!((again["added"].as_u64(), again["updated"].as_u64()), (Some(0), Some(0)), "{again}");
    let listed = kanca_ok(&data, &["contacts", "list", "--json"]);
    assert_eq!(listed.lines().count(), 5, "{listed}");
    let mehmet: Value = serde_json::from_str(kanca_ok(&data, &["contacts", "list", "0532 444 55 66", "--json"]).trim()).unwrap();
    assert_eq!(mehmet["numbers"][0]["e164"], "+905324445566");
    assert_eq!(mehmet["numbers"][0]["label"], "cep");
}

#[test]
fn import_fails_only_for_a_file_it_cannot_read() {
    let work = Workdir::new();
    let data = work.data_dir();
    let plain = workspace_root().join("tests/fixtures/contacts/plain.csv");
    let out = kanca(&data, &["contacts", "import", "/no/such/file.vcf", plain.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 2, "the readable file is imported: {report}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("cannot read"), "{report}");
}

#[test]
fn exported_calls_open_in_a_spreadsheet_as_text_with_turkish_letters() {
    let work = Workdir::new();
    let data = work.data_dir();
    let book = work.data_dir().with_file_name("book.csv");
    std::fs::write(&book, "Ad Soyad,Telefon\n\"=HYPERLINK(\"\"http://example.com\"\",\"\"x\"\")\",0532 111 22 33\nŞükrü Ağaoğlu,0532 111 22 34\n").unwrap();
    kanca_ok(&data, &["contacts", "import", book.to_str().unwrap()]);
    let server = Server::start(&data);
    server.post_json(&event_json("call_init", "hostile", 905321112233, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    server.post_json(&event_json("call_init", "turkish", 905321112234, 908508850000, "IN", 1_700_000_100_000_000).to_string()).expect_accepted();
    let out = kanca(&data, &["export", "--delimiter", ";"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.starts_with("\u{feff}Started;Direction;Caller;Caller name;"), "{text}");
    assert!(text.contains(";Şükrü Ağaoğlu;"), "{text}");
    assert!(text.contains(";\"'=HYPERLINK("), "a formula is shown as text: {text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    // The filters are history's.
    let only = String::from_utf8(kanca(&data, &["export", "şükrü"]).stdout).unwrap();
    assert_eq!(only.lines().count(), 2, "{only}");
    assert!(only.contains(",Şükrü Ağaoğlu,"), "{only}");
}
