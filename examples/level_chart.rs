//! The comparison README shows: every level and bitrate's size (MB per minute) and quality
//! (ViSQOL v3 speech-mode MOS-LQO with the lattice mapping, C++ ViSQOL's default: mean, min,
//! median and max over the clips) on a folder of speech WAV files, as a table (`levels.md`), the
//! numbers (`levels.json`) and a chart (`levels.svg`, plotters).
//! Also Opus's encode and decode speed (times real time, one thread).
//!
//!     bash conversion/speech_corpus.sh /tmp/corpus      # espeak-ng, flite, festival: 10 min
//!     cargo run --release --example level_chart -- /tmp/corpus docs
//!     cargo run --release --example level_chart -- --redraw docs   # the chart from levels.json
//!
//! EnCodec is shown by size only: this repository carries only its test weights, whose sound
//! means nothing; its sizes are those of any weights (codes per second are fixed).

use std::path::{Path, PathBuf};
use std::time::Instant;

use encodec::audio::{self, Audio, AudioChunks};
use encodec::codec::{self, Codec};
use encodec::encodec::Models;
use encodec::lyra::{Bitrate, LyraCodec};
use encodec::quality::{mos_lqo, QualityMode};
use encodec::{
    levels, AacCodec, AacProfile, AacSettings, Bandwidth, Encodec, EncodecCodec, OpusCodec, OpusSettings,
};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Row {
    level: String,
    codec: String,
    kbps: f32,
    mb_per_minute: f64,
    /// Mean MOS-LQO over the clips (`None`: size only).
    mos_lqo: Option<f64>,
    /// Min, median and max MOS-LQO over the clips.
    #[serde(default)]
    mos_spread: Option<(f64, f64, f64)>,
    /// Encode and decode speed, times real time (Opus only).
    speed_x_realtime: Option<(f64, f64)>,
}

struct Clip {
    path: PathBuf,
    audio: Audio,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, out] = args.as_slice() else {
        return Err("usage: level_chart CORPUS_DIR OUT_DIR, or level_chart --redraw OUT_DIR".into());
    };
    let out = Path::new(out);
    if corpus == "--redraw" {
        let rows: Vec<Row> = serde_json::from_str(&std::fs::read_to_string(out.join("levels.json"))?)?;
        return chart(&rows, &out.join("levels.svg"));
    }
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(corpus)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "wav"));
    paths.sort();
    let clips: Vec<Clip> = paths
        .into_iter()
        .map(|path| Ok(Clip { audio: audio::read(&path)?, path }))
        .collect::<encodec::Result<_>>()?;
    let minutes = clips.iter().map(|c| c.audio.duration_s()).sum::<f64>() / 60.0;
    eprintln!("{} clips, {minutes:.2} minutes", clips.len());

    let mut candidates: Vec<(&'static str, String, Box<dyn Codec>, bool)> = Vec::new();
    for bitrate in Bitrate::ALL {
        candidates.push(("ultra", "Lyra v2".into(), Box::new(LyraCodec::new(bitrate)), true));
    }
    for kbps in [6, 9, 12, 16, 24] {
        candidates.push(("compact", "Opus".into(), Box::new(OpusCodec::new(OpusSettings::new(kbps)?)), true));
    }
    for (profile, kbps, name) in [
        (AacProfile::Lc, 64, "AAC-LC"),
        (AacProfile::HeV1, 32, "HE-AAC v1"),
        (AacProfile::HeV2, 24, "HE-AAC v2"),
    ] {
        let codec = AacCodec::new(AacSettings::new(profile, kbps)?);
        candidates.push(("standard", name.into(), Box::new(codec), true));
    }
    let test_weights = Models::loaded(Encodec::from_dir(Path::new("weights/test-24khz"))?);
    let mut rows = Vec::new();
    for (level, name, codec, scored) in &candidates {
        rows.push(measure(level, name, codec.as_ref(), *scored, &clips, minutes)?);
    }
    for bandwidth in Bandwidth::ALL {
        let codec = EncodecCodec::new(&test_weights, bandwidth);
        rows.push(measure("ultra", "EnCodec (size only)", &codec, false, &clips, minutes)?);
    }

    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("levels.json"), serde_json::to_string_pretty(&rows)? + "\n")?;
    std::fs::write(out.join("levels.md"), table(&rows, &clips, minutes))?;
    chart(&rows, &out.join("levels.svg"))?;
    print!("{}", table(&rows, &clips, minutes));
    Ok(())
}

/// Codes every clip with `codec`; sizes, and (if `scored`) the decode's MOS-LQO and speed.
fn measure(
    level: &'static str,
    name: &str,
    codec: &dyn Codec,
    scored: bool,
    clips: &[Clip],
    minutes: f64,
) -> encodec::Result<Row> {
    let (mut bytes, mut scores, mut encode_s, mut decode_s) = (0usize, Vec::new(), 0.0, 0.0);
    for clip in clips {
        let mut source = AudioChunks::open(&clip.path)?;
        let mut file = Vec::new();
        let start = Instant::now();
        codec::encode_pcm(codec, &mut source, &mut file)?;
        encode_s += start.elapsed().as_secs_f64();
        bytes += file.len();
        if scored {
            let start = Instant::now();
            let decoded = levels::decompress(&file, &Models::none())?.audio;
            decode_s += start.elapsed().as_secs_f64();
            scores.push(mos_lqo(&clip.audio, &decoded, QualityMode::Speech)?.mos_lqo);
        }
    }
    let kbps = codec.bitrate_kbps().unwrap_or_default();
    let seconds = minutes * 60.0;
    let row = Row {
        level: level.to_string(),
        codec: name.to_string(),
        kbps,
        mb_per_minute: bytes as f64 / 1e6 / minutes,
        mos_lqo: scored.then(|| scores.iter().sum::<f64>() / scores.len() as f64),
        mos_spread: scored.then(|| {
            scores.sort_by(f64::total_cmp);
            let median = match scores.len() % 2 {
                1 => scores[scores.len() / 2],
                _ => (scores[scores.len() / 2 - 1] + scores[scores.len() / 2]) / 2.0,
            };
            (scores[0], median, scores[scores.len() - 1])
        }),
        speed_x_realtime: (codec.name() == "opus").then(|| (seconds / encode_s, seconds / decode_s)),
    };
    eprintln!("{name} {kbps} kbps: {:.4} MB/min, MOS {:?}", row.mb_per_minute, row.mos_lqo);
    Ok(row)
}

fn table(rows: &[Row], clips: &[Clip], minutes: f64) -> String {
    let mut md = format!(
        "Measured on {} clips of espeak-ng, flite and festival speech at 16 to 48 kHz, some noisy or \
         reverberant, {minutes:.1} minutes in all (`conversion/speech_corpus.sh`). MOS-LQO is ViSQOL \
         v3 speech mode (1-5) with the lattice mapping (C++ ViSQOL's default; our port, which agrees \
         with visqol-python within 0.00001 on 58 pairs): the mean over the clips, and min / median / \
         max. Smaller is how many times smaller than AAC-LC at 64 kbps.\n\n\
         | level | codec | kbps | MB per minute | smaller | MOS-LQO | min / median / max |\n\
         |---|---|---:|---:|---:|---:|---|\n",
        clips.len()
    );
    let aac64 = rows.iter().find(|r| r.codec == "AAC-LC" && r.kbps == 64.0).map(|r| r.mb_per_minute);
    for row in rows {
        let mos = row.mos_lqo.map_or("(test weights: size only)".to_string(), |m| format!("{m:.2}"));
        let spread = row.mos_spread.map_or(String::new(), |(a, b, c)| format!("{a:.2} / {b:.2} / {c:.2}"));
        let smaller = aac64.map_or(String::new(), |a| format!("{:.1}×", a / row.mb_per_minute));
        md += &format!(
            "| {} | {} | {} | {:.3} | {smaller} | {mos} | {spread} |\n",
            row.level, row.codec, row.kbps, row.mb_per_minute
        );
    }
    md
}

fn chart(rows: &[Row], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Speech quality per megabyte, every level", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(54)
        .build_cartesian_2d((0.008f64..0.8).log_scale(), 1.0f64..5.0)?;
    chart
        .configure_mesh()
        .x_desc("MB per minute (log scale)")
        .y_desc("ViSQOL MOS-LQO (speech, lattice): mean, min-max")
        .x_label_formatter(&|x| format!("{x:.3}"))
        .draw()?;
    let families =
        [("Lyra v2", BLUE), ("Opus", RED), ("AAC-LC", GREEN), ("HE-AAC v1", MAGENTA), ("HE-AAC v2", CYAN)];
    for (family, color) in families {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.codec == family)
            .filter_map(|r| r.mos_lqo.map(|m| (r.mb_per_minute, m)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(family)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        // The spread over clips, min to max, as a thin vertical bar.
        for row in rows.iter().filter(|r| r.codec == family) {
            if let Some((low, _, high)) = row.mos_spread {
                let x = row.mb_per_minute;
                chart.draw_series(LineSeries::new([(x, low), (x, high)], color.mix(0.4).stroke_width(1)))?;
            }
        }
        for row in rows.iter().filter(|r| r.codec == family) {
            if let Some(m) = row.mos_lqo {
                let label = match family {
                    "Lyra v2" | "Opus" => format!("{}", row.kbps),
                    _ => format!("{family} {}", row.kbps),
                };
                // HE-AAC v2 sits between Opus 24 and HE-AAC v1: its label goes to the left.
                let at = match family {
                    "HE-AAC v2" => (row.mb_per_minute / 1.7, m + 0.01),
                    _ => (row.mb_per_minute * 1.04, m + 0.05),
                };
                chart.draw_series([Text::new(label, at, ("sans-serif", 12))])?;
            }
        }
    }
    // EnCodec: sizes only, as ticks along the bottom.
    let encodec: Vec<&Row> = rows.iter().filter(|r| r.codec.starts_with("EnCodec")).collect();
    chart
        .draw_series(encodec.iter().map(|r| TriangleMarker::new((r.mb_per_minute, 1.1), 6, BLACK.filled())))?
        .label("EnCodec 1.5-24 kbps (size only: test weights)")
        .legend(|(x, y)| TriangleMarker::new((x + 9, y), 5, BLACK.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
