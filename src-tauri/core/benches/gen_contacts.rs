//! A deterministic phone book for the benchmarks: Turkish names (with their letters), companies,
//! and numbers drawn from the callers the search benchmark's history is made of, so half of its
//! callers are contacts.

#![allow(dead_code)]

pub const FIRST: [&str; 48] = [
    "Mehmet", "Ahmet", "Mustafa", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf", "Murat", "Ömer", "Ramazan", "Halil",
    "Süleyman", "Abdullah", "Mahmut", "Salih", "Kemal", "Recep", "Emre", "Burak", "Çağlar", "Oğuz", "Ayşe", "Fatma", "Emine", "Hatice",
    "Zeynep", "Elif", "Meryem", "Şerife", "Zehra", "Sultan", "Hanife", "Merve", "Özlem", "Gül", "Büşra", "Esra", "İpek", "Şule", "Derya",
    "Gökçe", "Ilgın", "Irmak", "Ece", "Nur",
];
pub const LAST: [&str; 48] = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan",
    "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Özer", "Erdoğan", "Güneş", "Aktaş", "Işık", "Ağaoğlu", "Bulut", "Keskin",
    "Ünal", "Tekin", "Acar", "Güler", "Sarı", "Uçar", "Coşkun", "Karaca", "Bozkurt", "Avcı", "Toprak", "Eren", "Duman", "Soylu", "Gök",
    "Uysal", "Başaran", "Ekinci", "Türk",
];
const TRADE: [&str; 12] =
    ["Lojistik", "İnşaat", "Gıda", "Tekstil", "Otomotiv", "Mobilya", "Turizm", "Yazılım", "Eczanesi", "Kırtasiye", "Danışmanlık", "Ticaret"];

/// The search benchmark's caller `n` (0..200,000), "905XXXXXXXXX".
pub fn caller_number(n: u64) -> String {
    format!("905{:02}{:07}", 30 + (n * 7919 % 70), n * 104_729 % 10_000_000)
}

pub struct GenContact {
    pub name: String,
    pub company: Option<String>,
    /// Spelled as people save them: "0 5XX XXX XX XX".
    pub numbers: Vec<String>,
    pub note: Option<String>,
}

/// Contact `i` (0..100,000): caller `i`'s number, and every third a second number.
pub fn contact(i: u64) -> GenContact {
    let first = FIRST[(i * 7 % 48) as usize];
    let last = LAST[(i / 48 * 13 % 48) as usize];
    let company = (!i.is_multiple_of(3)).then(|| format!("{} {}", LAST[(i * 31 % 48) as usize], TRADE[(i / 7 % 12) as usize]));
    let spell = |d: &str| format!("0 {} {} {} {}", &d[2..5], &d[5..8], &d[8..10], &d[10..]);
    let mut numbers = vec![spell(&caller_number(i))];
    if i.is_multiple_of(3) {
        numbers.push(format!("0 212 {:03} {:02} {:02}", i % 1000, i / 1000 % 100, i / 100_000 % 100 + 10));
    }
    let note = (i.is_multiple_of(10)).then(|| format!("Müşteri no {i}, sabah 9'dan önce aramayın"));
    GenContact { name: format!("{first} {last}"), company, numbers, note }
}

/// `n` contacts as a vCard file: a quarter vCard 2.1 with QUOTED-PRINTABLE names (as Android
/// writes them), the rest 3.0.
pub fn vcard(n: u64) -> String {
    let mut out = String::new();
    for i in 0..n {
        let c = contact(i);
        if i % 4 == 0 {
            let qp: String = c.name.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b' ' { (b as char).to_string() } else { format!("={b:02X}") }).collect();
            out.push_str(&format!("BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp}\r\n"));
            for (k, num) in c.numbers.iter().enumerate() {
                out.push_str(&format!("TEL;{}:{num}\r\n", if k == 0 { "CELL" } else { "WORK" }));
            }
        } else {
            let (given, family) = c.name.split_once(' ').unwrap_or(("", &c.name));
            out.push_str(&format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{}\r\nN:{family};{given};;;\r\n", c.name));
            if let Some(org) = &c.company {
                out.push_str(&format!("ORG:{org}\r\n"));
            }
            for (k, num) in c.numbers.iter().enumerate() {
                out.push_str(&format!("item{}.TEL;type={}:{num}\r\n", k + 1, if k == 0 { "CELL" } else { "WORK" }));
            }
            if let Some(note) = &c.note {
                out.push_str(&format!("NOTE:{}\r\n", note.replace(',', "\\,")));
            }
            out.push_str(&format!("UID:bench-{i}\r\n"));
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

/// `n` contacts as Google Contacts' CSV.
pub fn csv(n: u64) -> String {
    let mut out = String::from("Name,Given Name,Family Name,Organization 1 - Name,Phone 1 - Label,Phone 1 - Value,Notes\r\n");
    for i in 0..n {
        let c = contact(i);
        let (given, family) = c.name.split_once(' ').unwrap_or(("", &c.name));
        let note = c.note.map(|s| format!("\"{s}\"")).unwrap_or_default();
        out.push_str(&format!("{},{given},{family},{},Mobile,{},{note}\r\n", c.name, c.company.unwrap_or_default(), c.numbers.join(" ::: ")));
    }
    out
}
