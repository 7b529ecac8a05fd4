//! include/encodec.h is what cbindgen makes of src/lib.rs today (ENCODEC_BLESS=1 rewrites it).

use std::path::Path;

#[test]
fn header_matches_the_code() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new().with_crate(crate_dir).with_config(config).generate().unwrap();
    let mut made = Vec::new();
    bindings.write(&mut made);
    let path = crate_dir.join("include/encodec.h");
    if std::env::var_os("ENCODEC_BLESS").is_some() {
        std::fs::write(&path, &made).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == made,
        "include/encodec.h is stale: run ENCODEC_BLESS=1 cargo test -p encodec-capi --test header"
    );
}
