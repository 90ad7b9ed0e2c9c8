//! Opening a dump: plain or gzip (told by its first bytes, not its name), read in
//! pieces so memory stays flat, with a count of the file's bytes read for the
//! progress bar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A file's bytes read so far, shared with whoever reports progress.
#[derive(Clone, Default)]
pub struct BytesRead(Arc<AtomicU64>);

impl BytesRead {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    read: BytesRead,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.read.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// `path`, decompressed if it is gzip, and its size on disk.
pub fn open(path: &Path, read: &BytesRead) -> io::Result<(Box<dyn BufRead + Send>, u64)> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut counted = BufReader::new(Counting {
        inner: file,
        read: read.clone(),
    });
    let gzip = counted.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(
            counted,
        )))
    } else {
        Box::new(counted)
    };
    Ok((reader, size))
}

/// `bytes` as text; `true` when some were not UTF-8 and were replaced.
pub fn text(bytes: &[u8]) -> (String, bool) {
    match String::from_utf8_lossy(bytes) {
        std::borrow::Cow::Borrowed(text) => (text.to_owned(), false),
        std::borrow::Cow::Owned(mended) => (mended, true),
    }
}
