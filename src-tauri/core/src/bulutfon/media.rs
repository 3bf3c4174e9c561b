//! Recordings and fax documents from Bulutfon's API, fetched on demand through the engine (the
//! token never leaves it) and cached in the data directory under a size cap, oldest first out.
//! A fax arrives as TIFF (CCITT Group 4 in practice; the `tiff` crate decodes it): shown as one
//! PNG per page, saved as the TIFF itself or as a PDF of those pages (`pdf-writer`).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use super::{ApiError, Client};

/// The cache's folder in the data directory.
pub const CACHE_DIR: &str = "cache/bulutfon";
/// Most the cache keeps; the least recently used files go first.
pub const CACHE_CAP_BYTES: u64 = 256 << 20;
/// Largest recording or fax accepted.
const MAX_MEDIA_BYTES: u64 = 64 << 20;
/// Largest fax page decoded (a fax page is 1728 × 2200 or so).
const MAX_PAGE_PIXELS: u64 = 8_000 * 12_000;
/// Most pages decoded from one fax.
const MAX_PAGES: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0:?} is not a call's uuid")]
    BadUuid(String),
    #[error("the cache in {path} cannot be written: {source}")]
    Cache { path: PathBuf, source: std::io::Error },
    #[error("the fax document cannot be read: {0}")]
    BadFax(String),
}

/// What kind of media and where its cached file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub path: PathBuf,
    pub content_type: &'static str,
}

/// The cache of one data directory.
#[derive(Debug, Clone)]
pub struct MediaCache {
    dir: PathBuf,
    cap: u64,
}

impl MediaCache {
    pub fn new(data_dir: &Path) -> MediaCache {
        MediaCache { dir: data_dir.join(CACHE_DIR), cap: CACHE_CAP_BYTES }
    }

    pub fn with_cap(mut self, cap: u64) -> MediaCache {
        self.cap = cap;
        self
    }

    /// The call's recording (`GET /call-records/UUID`), fetched unless cached.
    pub fn recording(&self, client: &Client, uuid: &str) -> Result<Cached, MediaError> {
        self.fetch(client, "recording", uuid, &format!("call-records/{uuid}"))
    }

    /// The fax's document (`GET /incoming-faxes/UUID`, TIFF), fetched unless cached.
    pub fn fax(&self, client: &Client, uuid: &str) -> Result<Cached, MediaError> {
        self.fetch(client, "fax", uuid, &format!("incoming-faxes/{uuid}"))
    }

    /// The fax's pages as PNG files, in order, rendered once: the window asks for each page of a
    /// fax in turn, and decoding the whole TIFF for every page would do the work again each time.
    pub fn fax_page_pngs(&self, client: &Client, uuid: &str) -> Result<Vec<PathBuf>, MediaError> {
        check_uuid(uuid)?;
        let page_path = |n: usize| self.dir.join(format!("faxpage-{uuid}-{n}.png"));
        let count_path = self.dir.join(format!("faxpage-{uuid}.count"));
        let rendered = std::fs::read_to_string(&count_path).ok().and_then(|t| t.trim().parse::<usize>().ok());
        if let Some(n) = rendered {
            let paths: Vec<PathBuf> = (1..=n).map(page_path).collect();
            // Some may have been evicted since: render again then.
            if paths.iter().all(|p| p.exists()) {
                return Ok(paths);
            }
        }
        let tiff = self.fax(client, uuid)?;
        let bytes = std::fs::read(&tiff.path).map_err(|source| MediaError::Cache { path: tiff.path.clone(), source })?;
        let pages = fax_pages(&bytes)?;
        let io = |source| MediaError::Cache { path: self.dir.clone(), source };
        let mut paths = Vec::with_capacity(pages.len());
        for (i, page) in pages.iter().enumerate() {
            let path = page_path(i + 1);
            std::fs::write(&path, page_png(page)?).map_err(io)?;
            paths.push(path);
        }
        std::fs::write(&count_path, pages.len().to_string()).map_err(io)?;
        self.evict(&tiff.path);
        Ok(paths)
    }

    fn fetch(&self, client: &Client, kind: &str, uuid: &str, path: &str) -> Result<Cached, MediaError> {
        check_uuid(uuid)?;
        let io = |source| MediaError::Cache { path: self.dir.clone(), source };
        if let Some(hit) = self.cached(kind, uuid) {
            // Used again: last out.
            let _ = std::fs::File::options().append(true).open(&hit.path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(hit);
        }
        let (bytes, _declared) = client.get_bytes(path, MAX_MEDIA_BYTES)?;
        let content_type = sniff(&bytes);
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let file = self.dir.join(format!("{kind}-{uuid}.{}", extension(content_type)));
        let tmp = self.dir.join(format!(".{kind}-{uuid}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, &file)).map_err(io)?;
        self.evict(&file);
        Ok(Cached { path: file, content_type })
    }

    fn cached(&self, kind: &str, uuid: &str) -> Option<Cached> {
        let prefix = format!("{kind}-{uuid}.");
        std::fs::read_dir(&self.dir).ok()?.filter_map(Result::ok).find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ext = name.strip_prefix(&prefix)?;
            Some(Cached { path: e.path(), content_type: content_type_of(ext) })
        })
    }

    /// Remove the least recently used files until the cache fits its cap (never `keep`).
    fn evict(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                m.is_file().then(|| (m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.cap {
                break;
            }
            if path != keep && std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// A uuid as Bulutfon writes them (letters, digits, dashes): nothing that could name another
/// path or URL.
fn check_uuid(uuid: &str) -> Result<(), MediaError> {
    let ok = !uuid.is_empty() && uuid.len() <= 64 && uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(()).ok_or_else(|| MediaError::BadUuid(uuid.chars().take(80).collect()))
}

/// The content type of a recording or document, by its first bytes (what the API declares is
/// not trusted: it is served to the window as this type).
pub fn sniff(bytes: &[u8]) -> &'static str {
    match bytes {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => "audio/wav",
        [b'I', b'D', b'3', ..] | [0xFF, 0xE0..=0xFF, ..] => "audio/mpeg",
        [b'O', b'g', b'g', b'S', ..] => "audio/ogg",
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => "image/tiff",
        [b'%', b'P', b'D', b'F', ..] => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "audio/wav" => "wav",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "image/tiff" => "tif",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

fn content_type_of(ext: &str) -> &'static str {
    match ext {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "tif" => "image/tiff",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// One decoded fax page: 8-bit grey, 0 black, 255 white; with its aspect (vertical over
/// horizontal resolution: a standard-resolution fax has half as many lines per inch).
#[derive(Debug, Clone, PartialEq)]
pub struct FaxPage {
    pub width: u32,
    pub height: u32,
    pub grey: Vec<u8>,
    pub aspect: f32,
}

/// Every page of a TIFF fax document.
pub fn fax_pages(tiff_bytes: &[u8]) -> Result<Vec<FaxPage>, MediaError> {
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;
    let bad = |e: tiff::TiffError| MediaError::BadFax(e.to_string());
    let mut decoder = Decoder::new(Cursor::new(tiff_bytes)).map_err(bad)?;
    let mut pages = Vec::new();
    loop {
        let (width, height) = decoder.dimensions().map_err(bad)?;
        if u64::from(width) * u64::from(height) > MAX_PAGE_PIXELS || width == 0 || height == 0 {
            return Err(MediaError::BadFax(format!("a page of {width} × {height} pixels")));
        }
        let colour = decoder.colortype().map_err(bad)?;
        // 0: white is zero (what faxes use), 1: black is zero.
        let white_is_zero = decoder.find_tag(Tag::PhotometricInterpretation).ok().flatten().and_then(|v| v.into_u32().ok()) == Some(0);
        let mut resolution = |tag| {
            let value = decoder.find_tag(tag).ok().flatten()?;
            let r = match value {
                tiff::decoder::ifd::Value::Rational(n, d) if d > 0 => n as f32 / d as f32,
                other => other.into_f32().ok()?,
            };
            (r > 0.0).then_some(r)
        };
        let aspect = match (resolution(Tag::XResolution), resolution(Tag::YResolution)) {
            (Some(x), Some(y)) => (x / y).clamp(0.25, 4.0),
            _ => 1.0,
        };
        let data = match decoder.read_image().map_err(bad)? {
            DecodingResult::U8(d) => d,
            _ => return Err(MediaError::BadFax(format!("{colour:?} pages are not supported"))),
        };
        let (w, h) = (width as usize, height as usize);
        let mut grey = match colour {
            tiff::ColorType::Gray(1) => {
                // Packed rows, each padded to whole bytes.
                let row = w.div_ceil(8);
                if data.len() < row * h {
                    return Err(MediaError::BadFax("a page is shorter than its size".into()));
                }
                let mut out = Vec::with_capacity(w * h);
                for y in 0..h {
                    for x in 0..w {
                        let bit = data[y * row + x / 8] >> (7 - x % 8) & 1;
                        out.push(if bit == 1 { 255 } else { 0 });
                    }
                }
                out
            }
            tiff::ColorType::Gray(8) => data,
            other => return Err(MediaError::BadFax(format!("{other:?} pages are not supported"))),
        };
        if grey.len() < w * h {
            return Err(MediaError::BadFax("a page is shorter than its size".into()));
        }
        grey.truncate(w * h);
        if white_is_zero {
            grey.iter_mut().for_each(|p| *p = 255 - *p);
        }
        pages.push(FaxPage { width, height, grey, aspect });
        if !decoder.more_images() || pages.len() >= MAX_PAGES {
            break;
        }
        decoder.next_image().map_err(bad)?;
    }
    Ok(pages)
}

/// A page as PNG, its lines doubled or halved to its aspect so it is not squashed on screen.
pub fn page_png(page: &FaxPage) -> Result<Vec<u8>, MediaError> {
    let height = ((page.height as f32) * page.aspect).round().max(1.0) as u32;
    let (w, h0) = (page.width as usize, page.height as usize);
    let mut rows = Vec::with_capacity(w * height as usize);
    for y in 0..height as usize {
        let src = (y * h0 / height as usize).min(h0 - 1);
        rows.extend_from_slice(&page.grey[src * w..(src + 1) * w]);
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, page.width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| MediaError::BadFax(e.to_string()))?;
    writer.write_image_data(&rows).map_err(|e| MediaError::BadFax(e.to_string()))?;
    writer.finish().map_err(|e| MediaError::BadFax(e.to_string()))?;
    Ok(out)
}

/// The pages as a PDF, one page each, A4 wide.
pub fn fax_pdf(pages: &[FaxPage]) -> Vec<u8> {
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};
    use std::io::Write as _;
    const A4_WIDTH: f32 = 595.0;
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let ids: Vec<(Ref, Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(3 + 3 * i), Ref::new(4 + 3 * i), Ref::new(5 + 3 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _, _)| *p)).count(pages.len() as i32);
    for (page, (page_id, image_id, content_id)) in pages.iter().zip(&ids) {
        let height = A4_WIDTH * page.height as f32 * page.aspect / page.width as f32;
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, A4_WIDTH, height));
        p.parent(tree);
        p.contents(*content_id);
        p.resources().x_objects().pair(Name(b"Fax"), *image_id);
        p.finish();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = z.write_all(&page.grey);
        let compressed = z.finish().unwrap_or_default();
        let mut image = pdf.image_xobject(*image_id, &compressed);
        image.filter(Filter::FlateDecode);
        image.width(page.width as i32);
        image.height(page.height as i32);
        image.color_space().device_gray();
        image.bits_per_component(8);
        image.finish();
        let mut content = Content::new();
        content.save_state();
        content.transform([A4_WIDTH, 0.0, 0.0, height, 0.0, 0.0]);
        content.x_object(Name(b"Fax"));
        content.restore_state();
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-page grey TIFF as a scanner would write it.
    fn two_pages() -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
        for shade in [0u8, 200] {
            let mut img: Vec<u8> = vec![255; 64 * 40];
            img[..64 * 10].fill(shade);
            enc.write_image::<tiff::encoder::colortype::Gray8>(64, 40, &img).unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn a_tiff_fax_becomes_pages_pngs_and_a_pdf() {
        let bytes = two_pages();
        assert_eq!(sniff(&bytes), "image/tiff");
        let pages = fax_pages(&bytes).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[0].width, pages[0].height), (64, 40));
        assert_eq!((pages[0].grey[0], pages[0].grey[64 * 39], pages[1].grey[0]), (0, 255, 200));
        assert_eq!(pages[0].aspect, 1.0, "the encoder's default resolution is square");
        let png = page_png(&pages[0]).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let pdf = fax_pdf(&pages);
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(String::from_utf8_lossy(&pdf).matches("/Type /Page\n").count() + String::from_utf8_lossy(&pdf).matches("/Type /Page ").count(), 2, "two pages");
    }

    #[test]
    fn what_is_not_a_tiff_is_a_clear_error() {
        assert!(matches!(fax_pages(b"not a tiff at all"), Err(MediaError::BadFax(_))));
        assert!(matches!(fax_pages(&two_pages()[..20]), Err(MediaError::BadFax(_))));
    }

    #[test]
    fn uuids_cannot_name_other_paths_and_types_are_sniffed() {
        for bad in ["../x", "a/b", "", "x?access_token=1", "a b"] {
            assert!(matches!(check_uuid(bad), Err(MediaError::BadUuid(_))), "{bad:?}");
        }
        check_uuid("dd3b3506-e40e-11e4-9880-17aee3ce4e7b").unwrap();
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), "audio/wav");
        assert_eq!(sniff(b"ID3\x04"), "audio/mpeg");
        assert_eq!(sniff(b"<html>"), "application/octet-stream");
    }
}
