//! The text of an imported file, whatever encoding the exporter chose: a BOM (UTF-8, UTF-16
//! LE/BE) says it; UTF-16 without a BOM shows as NUL bytes; valid UTF-8 is UTF-8; anything else
//! is guessed by chardetng with Turkey as the hint (Windows-1254 from a Turkish Windows, which
//! differs from Windows-1252 exactly in ğ, ı, ş, Ğ, İ, Ş).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// `bytes` decoded, and the name of the encoding it was read as.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let encoding = detect(bytes);
    // decode() strips a BOM of the encoding it finds, which wins over `encoding`.
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

/// Which encoding `bytes` are in.
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        return enc;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    guess_legacy(bytes)
}

/// A legacy (single-byte) encoding for bytes that are not UTF-8, guessed for a Turkish user.
pub fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(Some(b"tr"), chardetng::Utf8Detection::Deny)
}

/// Text in UTF-16 without a BOM has a NUL in every other byte of its ASCII characters.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if odd * 10 >= pairs * 4 && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 4 && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_an_exporter_uses() {
        let text = "Ad;Telefon\r\nİpek Işık;0532 444 55 66\r\nŞükrü Ağaoğlu;0212 555 12 34\r\n";
        let (w1254, _, _) = encoding_rs::WINDOWS_1254.encode(text);
        let utf16le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        let bare16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let bom8: Vec<u8> = [0xEF, 0xBB, 0xBF].iter().copied().chain(text.bytes()).collect();
        for (bytes, name) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            (bom8, "UTF-8"),
            (w1254.into_owned(), "windows-1254"),
            (utf16le, "UTF-16LE"),
            (utf16be, "UTF-16BE"),
            (bare16, "UTF-16LE"),
        ] {
            let (decoded, used) = decode(&bytes);
            assert_eq!(decoded, text, "as {name}");
            assert_eq!(used, name);
        }
    }
}
