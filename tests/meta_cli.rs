//! `encodec` without a subcommand is Meta's command: the files it writes against the ones Meta's
//! `python -m encodec` wrote (tests/fixtures/meta-cli, conversion/meta_cli_fixtures.py), and
//! Meta's names, checks and messages.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::root;

fn encodec(args: &[&str], kernels: Option<&str>) -> Output {
    let mut command = common::cli();
    command.args(args).env("HF_HUB_OFFLINE", "1").env("HF_HOME", root().join("target/no-hf-home"));
    if let Some(kernels) = kernels {
        command.env("ENCODEC_KERNELS", kernels);
    }
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The chunks of a RIFF/WAVE file, in order.
fn chunks(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((id, &bytes[at + 8..at + 8 + size]));
        at += 8 + size + (size & 1);
    }
    out
}

fn chunk<'b>(chunks: &[([u8; 4], &'b [u8])], id: &[u8; 4]) -> &'b [u8] {
    chunks.iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no {id:?} chunk")).1
}

fn i16s(bytes: &[u8]) -> Vec<i16> {
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// The peak Meta's clipping warning names.
fn warned_peak(stderr: &str) -> Option<f64> {
    let rest = stderr.split("Clipping!! max scale ").nth(1)?;
    rest.split(',').next()?.parse().ok()
}

struct Comparison {
    samples: usize,
    differing: usize,
}

/// Compares our WAV with Meta's: the same format chunk, byte for byte, and the same samples,
/// where the only differences allowed are 1 LSB in at most 2 % of the samples. Our decoder's
/// floats equal torch's to within a few ULP (tests/golden.rs), not bit for bit, so a sample
/// whose x * 32768 lies within a ULP of a rounding tie can round the other way, more often in
/// loud audio (larger ULPs): Meta's own output differs this way between 1 and 2 torch threads
/// (speech 34 of 36 000 and 84 of 100 800 samples, the loud files 10 of 7 200 and 36 of
/// 14 400; conversion/meta_cli_fixtures.py); ours from Meta's, at most 116 of 14 400 (0.8 %).
/// A wrong sample, gain or clamp changes far more. Meta's file also holds a LIST chunk naming
/// the FFmpeg that torchaudio saved through; ours, none.
fn compare_wav(ours: &[u8], theirs: &[u8], what: &str) -> Comparison {
    let (ours, theirs) = (chunks(ours), chunks(theirs));
    assert_eq!(chunk(&ours, b"fmt "), chunk(&theirs, b"fmt "), "{what}: format chunks differ");
    let ids: Vec<_> = ours.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [*b"fmt ", *b"data"], "{what}");
    let (a, b) = (i16s(chunk(&ours, b"data")), i16s(chunk(&theirs, b"data")));
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    let worst = a.iter().zip(&b).map(|(&x, &y)| (x as i32 - y as i32).abs()).max().unwrap_or(0);
    assert!(worst <= 1, "{what}: a sample differs by {worst}");
    assert!(differing * 50 <= a.len(), "{what}: {differing} of {} samples differ", a.len());
    Comparison { samples: a.len(), differing }
}

#[derive(serde::Deserialize)]
struct Manifest {
    runs: Vec<Run>,
}

#[derive(serde::Deserialize)]
struct Run {
    args: Vec<String>,
    stderr: String,
    output: String,
}

/// Every run of Meta's command in the manifest, repeated by ours with the same arguments (the
/// output in a temporary folder, the small test model in place of the published one): `.ecdc`
/// files equal byte for byte, WAV files as [`compare_wav`] says, the clipping warning when
/// Meta's gave it, with the same peak; the output the same on every kernel path.
#[test]
fn meta_style_runs_write_what_metas_command_wrote() {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(root().join("tests/fixtures/meta-cli/manifest.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut ecdc_equal, mut wav_files, mut wav_equal, mut samples, mut differing) = (0, 0, 0, 0, 0);
    for run in &manifest.runs {
        let preset = if run.output.contains("/48khz/") { "48khz" } else { "24khz" };
        let model = root().join("weights").join(format!("test-{preset}"));
        let reference = std::fs::read(root().join(&run.output)).unwrap();
        let mut outputs = Vec::new();
        for kernels in encodec::Kernels::available() {
            let name = Path::new(&run.output).file_name().unwrap().to_str().unwrap();
            let output: PathBuf = dir.path().join(format!("{kernels}-{preset}-{name}"));
            let mut args: Vec<String> = run
                .args
                .iter()
                .map(|a| if *a == run.output { output.display().to_string() } else { absolute(a) })
                .collect();
            args.extend(["--model".into(), model.display().to_string(), "--quiet".into()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let result = encodec(&args, Some(kernels.as_str()));
            assert!(result.status.success(), "{args:?}: {}", stderr(&result));
            match warned_peak(&run.stderr) {
                Some(peak) => {
                    let ours = warned_peak(&stderr(&result))
                        .unwrap_or_else(|| panic!("no warning: {}", stderr(&result)));
                    assert!((ours - peak).abs() < 1e-5 * peak, "peak {ours} against Meta's {peak}");
                }
                None => assert!(!stderr(&result).contains("Clipping"), "{}", stderr(&result)),
            }
            outputs.push(std::fs::read(&output).unwrap());
        }
        assert!(
            outputs.iter().all(|o| *o == outputs[0]),
            "{}: the kernel paths wrote different files",
            run.output
        );
        if run.output.ends_with(".ecdc") {
            assert!(outputs[0] == reference, "{}: .ecdc bytes differ", run.output);
            ecdc_equal += 1;
            continue;
        }
        let comparison = compare_wav(&outputs[0], &reference, &run.output);
        wav_files += 1;
        samples += comparison.samples;
        differing += comparison.differing;
        wav_equal += usize::from(comparison.differing == 0);
    }
    assert_eq!((ecdc_equal, wav_files), (2, 14));
    // The figures the README quotes.
    eprintln!(
        "Meta-style outputs: .ecdc {ecdc_equal}/2 equal; WAV format chunks {wav_files}/{wav_files} equal, \
         samples equal in {wav_equal}/{wav_files} files; {differing} of {samples} 16-bit samples differ by 1"
    );
}

fn absolute(arg: &str) -> String {
    match arg.starts_with("tests/") {
        true => root().join(arg).display().to_string(),
        false => arg.to_owned(),
    }
}

/// Meta's default names, `-s`, `-f`, and its errors; `--lm` refused; `-b` choices.
#[test]
fn meta_style_names_checks_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = root().join("weights/test-24khz");
    let model = model.to_str().unwrap();
    let ecdc = dir.path().join("speech.ecdc");
    std::fs::copy(root().join("tests/fixtures/small-24khz/ecdc/speech.6.0.ecdc"), &ecdc).unwrap();
    let ecdc = ecdc.to_str().unwrap();
    let run = |args: &[&str]| encodec(&[args, &["--model", model, "--quiet"]].concat(), None);
    let fails = |args: &[&str]| {
        let output = run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"));
        stderr(&output)
    };

    // An .ecdc INPUT decompresses to INPUT_decompressed.wav, or the -s suffix.
    assert!(run(&[ecdc]).status.success());
    let default = dir.path().join("speech_decompressed.wav");
    assert!(default.exists());
    assert!(run(&[ecdc, "-s", "_back"]).status.success());
    assert_eq!(std::fs::read(dir.path().join("speech_back.wav")).unwrap(), std::fs::read(&default).unwrap());
    // Not over an existing file without -f.
    assert!(fails(&[ecdc]).contains("exist. Use -f / --force to overwrite."));
    std::fs::write(&default, b"old").unwrap();
    assert!(run(&[ecdc, "-f"]).status.success());
    assert_ne!(std::fs::read(&default).unwrap(), b"old");

    // Audio INPUT compresses to INPUT.ecdc: the bytes `encode` writes.
    let wav = default.to_str().unwrap();
    assert!(run(&[wav]).status.success());
    let encoded = dir.path().join("encoded.ecdc");
    let subcommand = encodec(&["encode", wav, encoded.to_str().unwrap(), "--model", model, "--quiet"], None);
    assert!(subcommand.status.success(), "{}", stderr(&subcommand));
    assert_eq!(
        std::fs::read(dir.path().join("speech_decompressed.ecdc")).unwrap(),
        std::fs::read(&encoded).unwrap()
    );

    // Meta's errors, word for word.
    let missing = dir.path().join("missing.wav");
    assert!(fails(&[missing.to_str().unwrap()])
        .contains(&format!("Input file {} does not exist.", missing.display())));
    assert!(fails(&[ecdc, &format!("{}/out.mp3", dir.path().display())])
        .contains("Output extension must be .wav"));
    assert!(fails(&[wav, &format!("{}/out.mp3", dir.path().display())])
        .contains("Output extension must be .wav or .ecdc"));
    let nowhere = dir.path().join("no-such-folder/out.wav");
    assert!(fails(&[ecdc, nowhere.to_str().unwrap()]).contains("Output folder for"));
    assert!(fails(&[wav, "-f", "-q", "-b", "1.5"])
        .contains("Bandwidth 1.5 is not supported by the model encodec_48khz"));
    assert!(fails(&[wav, "--lm", "-f"]).contains("not supported yet"));
    let bad_bandwidth = run(&[wav, "-b", "7"]);
    assert_eq!(bad_bandwidth.status.code(), Some(2));
    assert!(stderr(&bad_bandwidth).contains("choose from 1.5, 3, 6, 12, 24"));
}

/// The help says both modes and where `-q` differs.
#[test]
fn help_tells_of_metas_mode_and_the_q_clash() {
    let help = String::from_utf8(encodec(&["--help"], None).stdout).unwrap();
    assert!(help.contains("Without a subcommand, encodec is Meta's `encodec` command"), "{help}");
    assert!(help.contains("-q means --hq"), "{help}");
    let meta_help = String::from_utf8(encodec(&["x.ecdc", "--help"], None).stdout).unwrap();
    assert!(meta_help.contains("--hq") && meta_help.contains("--rescale"), "{meta_help}");
}

/// The subcommands refuse a name whose extension says another format than they write, unless
/// forced; `encode` reads `-` (standard input, any streamable format) and writes `-` (stdout).
#[test]
fn subcommands_refuse_misnamed_outputs_and_stream_stdin_to_stdout() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let model = root().join("weights/test-24khz");
    let model = model.to_str().unwrap();
    let input = root().join("tests/fixtures/samples/speech-44k-stereo.wav");
    let input = input.to_str().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();

    let refused = encodec(&["encode", input, &out("y.wav"), "--model", model, "--quiet"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("names a WAV file, but this writes an EnCodec .ecdc file"),
        "{}",
        stderr(&refused)
    );
    assert!(!dir.path().join("y.wav").exists());
    let forced = encodec(&["encode", input, &out("y.wav"), "--model", model, "--quiet", "--force"], None);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let to_ecdc = encodec(&["decode", &out("y.wav"), &out("z.ecdc"), "--quiet"], None);
    assert!(
        stderr(&to_ecdc).contains("names an EnCodec file, but this writes a WAV file"),
        "{}",
        stderr(&to_ecdc)
    );
    let opus_in_lyra = encodec(&["encode", input, &out("a.lyra"), "--codec", "opus", "--quiet"], None);
    assert!(stderr(&opus_in_lyra).contains("names a Lyra file"), "{}", stderr(&opus_in_lyra));

    for (name, codec, extension) in [("ecdc", "ecdc", "ecdc"), ("opus", "opus", "opus")] {
        for sample in ["speech-44k-stereo.wav", "speech-44k-stereo.mp3", "speech-44k-stereo.flac"] {
            let sample = root().join("tests/fixtures/samples").join(sample);
            let from_file = out(&format!("{name}-file.{extension}"));
            let args = [
                "encode",
                sample.to_str().unwrap(),
                &from_file,
                "--codec",
                codec,
                "--model",
                model,
                "--quiet",
            ];
            assert!(encodec(&args, None).status.success());
            let mut child = common::cli()
                .args(["encode", "-", "-", "--codec", codec, "--model", model, "--quiet"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let bytes = std::fs::read(&sample).unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
            let piped = child.wait_with_output().unwrap();
            feeder.join().unwrap().unwrap();
            assert!(piped.status.success(), "{sample:?}: {}", stderr(&piped));
            assert!(
                piped.stdout == std::fs::read(&from_file).unwrap(),
                "{codec} of {sample:?} through pipes differs"
            );
        }
    }
}
