//! A document reader process (see `sirocco_documents::isolated`): what the tests start.

fn main() {
    sirocco_documents::run_if_reader();
    eprintln!("this program reads documents for Sirocco; it is not meant to be run by hand");
    std::process::exit(2);
}
