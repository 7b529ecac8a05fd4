//! Finding weights: local folders, an HF cache laid out on disk, and a real download through
//! hf-hub from a stand-in Hub on 127.0.0.1.

mod common;

use std::sync::atomic::Ordering;

use common::{closed_endpoint, root, serve_hub, small_model_files};
use encodec::hub::{resolve, HubOptions, ModelFiles};
use encodec::{Bandwidth, Encodec, Error};

fn options(cache: &std::path::Path, endpoint: String, offline: bool) -> HubOptions {
    HubOptions { cache_dir: cache.to_owned(), endpoint, offline, progress: false }
}

fn assert_works(files: &ModelFiles) {
    let model = Encodec::from_files(files).unwrap();
    let pcm = vec![vec![0.1f32; 3000]; model.channels()];
    assert_eq!(model.decode(&model.encode(&pcm, Bandwidth::Kbps6).unwrap()).unwrap()[0].len(), 3000);
}

#[test]
fn a_local_folder_is_used_as_it_is() {
    let dir = root().join("weights/test-24khz");
    let files = resolve(dir.to_str().unwrap(), &options(&root(), closed_endpoint(), true)).unwrap();
    assert_eq!(files, ModelFiles::in_dir(&dir));
}

#[test]
fn downloads_through_hf_hub_then_works_offline_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let served = small_model_files("weights/test-24khz");
    let (endpoint, requests) = serve_hub(served.clone());
    let files = resolve("facebook/encodec_24khz", &options(cache.path(), endpoint.clone(), false)).unwrap();
    assert!(files.config.starts_with(cache.path()) && files.weights.starts_with(cache.path()));
    assert_eq!(std::fs::read(&files.weights).unwrap(), served["model.safetensors"]);
    assert_eq!(std::fs::read(&files.config).unwrap(), served["config.json"]);
    assert_works(&files);
    let seen = requests.load(Ordering::SeqCst);
    assert!(seen >= 2, "the download really went over HTTP ({seen} requests)");

    // Now cached: offline works, and online does not ask the server again.
    let offline = resolve("facebook/encodec_24khz", &options(cache.path(), closed_endpoint(), true)).unwrap();
    assert_eq!(offline, files);
    resolve("facebook/encodec_24khz", &options(cache.path(), endpoint, false)).unwrap();
    assert_eq!(requests.load(Ordering::SeqCst), seen);
}

#[test]
fn reads_a_hugging_face_cache_laid_out_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let repo = cache.path().join("models--facebook--encodec_48khz");
    let snapshot = repo.join("snapshots").join("abc123");
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs").join("main"), "abc123").unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(root().join("weights/test-48khz").join(file), snapshot.join(file)).unwrap();
    }
    // By repository id, and by the name .ecdc files carry.
    for spec in ["facebook/encodec_48khz", "encodec_48khz"] {
        let files = resolve(spec, &options(cache.path(), closed_endpoint(), false)).unwrap();
        assert_eq!(files, ModelFiles::in_dir(&snapshot));
        assert_works(&files);
    }
}

#[test]
fn unreachable_hub_without_cache_says_how_to_get_the_weights() {
    let cache = tempfile::tempdir().unwrap();
    for offline in [false, true] {
        match resolve("facebook/encodec_24khz", &options(cache.path(), closed_endpoint(), offline)) {
            Err(err @ Error::Hub { .. }) => {
                let message = err.to_string();
                assert!(message.contains("huggingface-cli download facebook/encodec_24khz"), "{message}");
                assert!(message.contains("--model DIR"), "{message}");
                assert!(!offline || message.contains("HF_HUB_OFFLINE"), "{message}");
            }
            other => panic!("expected a Hub error, got {other:?}"),
        }
    }
    let (endpoint, _) = serve_hub(Default::default()); // reachable, but the files are not there
    let err = resolve("facebook/encodec_24khz", &options(cache.path(), endpoint, false)).unwrap_err();
    assert!(err.to_string().contains("huggingface-cli download"), "{err}");
    let err = resolve("not-a-repo", &options(cache.path(), closed_endpoint(), false)).unwrap_err();
    assert!(matches!(err, Error::Hub { .. }), "{err:?}");
}
