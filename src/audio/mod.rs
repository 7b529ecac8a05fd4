//! Audio in and out: decoding files (WAV with hound, MP3/AAC/M4A/FLAC/Ogg Vorbis with
//! symphonia), converting to a model's rate and channels (rubato), and writing WAV.

mod convert;
mod frames;
mod read;
mod riff;
mod write;

pub use convert::{convert, StreamingConverter};
pub(crate) use frames::ends_inside_a_frame;
pub use read::{read, read_bytes, AudioChunks, SAMPLE_RATES};
pub use write::{sample_to_i16, wav_bytes, write_wav, WavFormat, WavStream};

pub use crate::pcm::{deinterleave, interleave, Audio};
