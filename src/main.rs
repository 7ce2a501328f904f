//! `carto`: the GUI without a subcommand (`carto`, `carto FILE...`,
//! `carto open FILE...`), headless analysis with one. Arguments parse into typed options; one call does the work.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("carto: error: {e:#}");
        std::process::exit(1);
    }
}
