fn main() {
    // tauri.conf.json lives at the repository root (this package's root); capabilities stay
    // with the rest of the Tauri crate under src-tauri/.
    let attributes = tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
