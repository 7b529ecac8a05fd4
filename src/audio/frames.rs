//! Whether an MPEG audio (MP3) or ADTS (AAC) stream ends inside a frame: a file still being
//! written, or a slice of a stream. symphonia decodes such a stream to its last whole frame
//! but ends it the same way whether or not a frame was cut, so the frames are walked here,
//! by their headers alone (no decoding). Written by hand: the header parsers of the MP3 and
//! AAC crates are private to them.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// How far into the stream its first frame is looked for (after an ID3v2 tag).
const SYNC_WINDOW: u64 = 64 * 1024;

/// A frame header's length in bytes: MPEG-1/2/2.5 layers I-III, or ADTS.
fn frame_length(header: &[u8; 7]) -> Option<u64> {
    if header[0] != 0xFF {
        return None;
    }
    if header[1] & 0xF6 == 0xF0 {
        // ADTS: a 13-bit length that counts the header.
        let length = ((header[3] as u64 & 3) << 11) | ((header[4] as u64) << 3) | (header[5] as u64 >> 5);
        return (length >= 7).then_some(length);
    }
    if header[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (header[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = (header[1] >> 1) & 3; // 1: III, 2: II, 3: I
    let bitrate_index = (header[2] >> 4) as usize;
    let rate_index = ((header[2] >> 2) & 3) as usize;
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1: [[u32; 15]; 3] = [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    ];
    const V2: [[u32; 15]; 2] = [
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let layer_row = (3 - layer) as usize; // 0: I, 1: II, 2: III
    let kbps = match version {
        3 => V1[layer_row][bitrate_index],
        _ => V2[layer_row.min(1)][bitrate_index],
    } as u64;
    let rate = [44_100u64, 48_000, 32_000][rate_index] >> [2, 0, 1, 0][version as usize];
    let padding = (header[2] >> 1) as u64 & 1;
    Some(match (layer, version) {
        (3, _) => (12 * kbps * 1000 / rate + padding) * 4,
        (1, 0 | 2) => 72 * kbps * 1000 / rate + padding,
        _ => 144 * kbps * 1000 / rate + padding,
    })
}

/// The length of an ID3v2 tag at the start of `head`, if there is one.
fn id3_length(head: &[u8]) -> u64 {
    match head {
        [b'I', b'D', b'3', _, _, flags, a, b, c, d, ..] => {
            let size = [a, b, c, d].iter().fold(0u64, |n, &&byte| (n << 7) | (byte as u64 & 0x7F));
            10 + size + if flags & 0x10 != 0 { 10 } else { 0 }
        }
        _ => 0,
    }
}

/// Whether the MPEG audio or ADTS stream in `reader` ends inside a frame. The first frame is
/// the first header (within 64 KiB of the start, after any ID3v2 tag) that another header
/// follows; the walk then goes header to header and stops, saying "not cut", at anything that
/// is no header (an ID3v1 tag, trailing junk). Left at the start.
pub fn ends_inside_a_frame(reader: &mut (impl Read + Seek + ?Sized)) -> io::Result<bool> {
    let size = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    (&mut *reader).take(10).read_to_end(&mut head)?;
    let start = id3_length(&head).min(size);
    reader.seek(SeekFrom::Start(start))?;
    let mut window = Vec::new();
    (&mut *reader).take(SYNC_WINDOW + 7).read_to_end(&mut window)?;
    let header_at = |bytes: &[u8], at: usize| -> Option<u64> {
        bytes.get(at..at + 7).and_then(|h| frame_length(h.try_into().expect("7 bytes")))
    };
    let first = (0..window.len().min(SYNC_WINDOW as usize)).find(|&at| {
        header_at(&window, at).is_some_and(|length| {
            let next = at + length as usize;
            // Another header follows, or this frame runs to (or past) the window's end.
            next >= window.len() || header_at(&window, next).is_some()
        })
    });
    let Some(first) = first else {
        reader.seek(SeekFrom::Start(0))?;
        return Ok(false);
    };
    let mut at = start + first as u64;
    reader.seek(SeekFrom::Start(at))?;
    // Buffered: a header every few hundred bytes, skipped to within the buffer.
    let mut frames = BufReader::new(&mut *reader);
    let cut = loop {
        let left = size - at;
        if left == 0 {
            break false;
        }
        let mut header = [0u8; 7];
        if left < 7 {
            // The start of a header, or of no frame at all.
            frames.read_exact(&mut header[..left as usize])?;
            break header[0] == 0xFF;
        }
        frames.read_exact(&mut header)?;
        match frame_length(&header) {
            Some(length) if at + length > size => break true,
            Some(length) => {
                at += length;
                frames.seek_relative(length as i64 - 7)?;
            }
            None => break false,
        }
    };
    drop(frames);
    reader.seek(SeekFrom::Start(0))?;
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_are_the_standard_ones() {
        // MPEG-1 layer III, 128 kbps, 44.1 kHz, no padding: 417 bytes; padded: 418.
        assert_eq!(frame_length(&[0xFF, 0xFB, 0x90, 0x00, 0, 0, 0]), Some(417));
        assert_eq!(frame_length(&[0xFF, 0xFB, 0x92, 0x00, 0, 0, 0]), Some(418));
        // MPEG-2 layer III, 64 kbps, 22.05 kHz: 72 * 64000 / 22050 = 208.
        assert_eq!(frame_length(&[0xFF, 0xF3, 0x80, 0x00, 0, 0, 0]), Some(208));
        // ADTS with a 13-bit length of 371.
        let length = 371u16;
        let adts = [
            0xFF,
            0xF1,
            0x50,
            0x80 | (length >> 11) as u8,
            (length >> 3) as u8,
            ((length & 7) << 5) as u8,
            0,
        ];
        assert_eq!(frame_length(&adts), Some(371));
        // Not headers: no sync, a free or bad bitrate, a reserved rate.
        for bad in [
            [0u8; 7],
            [0xFF, 0xFB, 0x00, 0, 0, 0, 0],
            [0xFF, 0xFB, 0xF0, 0, 0, 0, 0],
            [0xFF, 0xFB, 0x9C, 0, 0, 0, 0],
        ] {
            assert_eq!(frame_length(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_told_from_a_whole_one() {
        let frame = |padded: bool| {
            let mut f = vec![0u8; if padded { 418 } else { 417 }];
            f[..4].copy_from_slice(&[0xFF, 0xFB, if padded { 0x92 } else { 0x90 }, 0x00]);
            f
        };
        let whole: Vec<u8> = (0..20).flat_map(|i| frame(i % 3 == 0)).collect();
        let cut = |bytes: &[u8]| ends_inside_a_frame(&mut io::Cursor::new(bytes)).unwrap();
        assert!(!cut(&whole));
        assert!(cut(&whole[..whole.len() - 100]));
        assert!(cut(&whole[..whole.len() - 417 + 3]), "a header's first bytes");
        // A slice from inside a frame: the first header found starts the walk.
        assert!(!cut(&whole[1000..]));
        assert!(cut(&whole[1000..5000]));
        // An ID3v1 tag after the last frame is no cut.
        let tagged = [&whole[..], b"TAG", &[0u8; 125]].concat();
        assert!(!cut(&tagged));
        assert!(!cut(b"not audio at all"));
    }
}
