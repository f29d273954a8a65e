//! The `derivcheck` command: parses arguments, runs the library, prints results and
//! diagnostics, and returns an exit code (0 all verified, 1 a step refuted or a claim not
//! proved, 2 usage, input or output errors).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use derivcheck::LoadError;
use derivcheck::check;
use derivcheck::report::{self, Format, Layout};

#[derive(Parser)]
#[command(
    name = "derivcheck",
    version,
    about = "Checks hand-written math derivations symbolically and by exact rational instantiation, and writes a literate report.",
    long_about = None,
    after_help = "Environment: DERIVCHECK_CACHE=off checks every file again (by default an unchanged file's results, kept per build, seed, sample count and text in $XDG_CACHE_HOME/derivcheck or ~/.cache/derivcheck, are reused; =library keeps only the lemma library's); DERIVCHECK_THREADS=N checks claims, and runs Monte Carlo, on N threads (by default one per core; the results do not depend on N)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check derivations and print one line per step and claim.
    Check(CheckArgs),
    /// Check derivations and write report.tex, report.html and report.md.
    Report(ReportArgs),
    /// Mutate every step of every proof (sign flips, dropped or doubled factors, shifted
    /// indices and bounds, swapped operands, wrong exponents and constants) and report how
    /// many mutants that change the meaning each layer rejects, and every one that survives.
    /// Exits with 1 when a meaning-changing mutant is accepted.
    Audit(AuditArgs),
}

/// What every command reads, and how it draws.
#[derive(Args)]
struct Input {
    /// Markdown files, or folders to search for .md files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Root seed of every random choice (each claim derives its own from it).
    #[arg(long, default_value_t = check::Options::default().seed)]
    seed: u64,
    /// Exact instantiations per step when a claim has no `check exact N` (at least 1).
    #[arg(long, default_value_t = check::Options::default().samples, value_parser = parse_samples)]
    samples: usize,
}

#[derive(Args)]
struct AuditArgs {
    #[command(flatten)]
    input: Input,
    /// Also write every mutant and its verdict as JSON to this file (not `-`: the algebra
    /// engine prints its banner on standard output).
    #[arg(long, value_name = "FILE", value_parser = parse_output_file)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    input: Input,
    /// A step that only the symbolic layer could judge (no numeric layer applies) makes its
    /// claim not shown, instead of "verified (symbolic only)".
    #[arg(long)]
    strict: bool,
    /// Also write every verdict as JSON to this file (schema: docs/json.md; not `-`: the
    /// algebra engine prints its banner on standard output).
    #[arg(long, value_name = "FILE", value_parser = parse_output_file)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    check: CheckArgs,
    /// Folder for the reports (and the .svg figures that report.md links to).
    #[arg(short, long, default_value = "report")]
    output: PathBuf,
    /// Which reports to write, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "tex,html,md", value_parser = parse_format)]
    format: Vec<Format>,
    /// `writeup`: the student's text in order with one mark per step and one line per claim,
    /// every table, seed and layer detail in a verification appendix (the submission).
    /// `full`: every layer's verdict and detail under each claim, the summary table first.
    #[arg(long, value_name = "LAYOUT", default_value = "writeup", value_parser = parse_layout)]
    layout: Layout,
    /// Folder with templates (report.tex.tera, report.html.tera, report.md.tera) that replace
    /// the built-in ones; a template missing there stays built in.
    #[arg(long, value_name = "DIR", value_parser = parse_templates)]
    templates: Option<PathBuf>,
}

fn parse_samples(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least one point is needed: with 0 the exact layer would check nothing".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

fn parse_output_file(text: &str) -> Result<PathBuf, String> {
    if text == "-" {
        return Err("standard output is not available for JSON: the algebra engine prints its banner there; give a file name".into());
    }
    Ok(PathBuf::from(text))
}

fn parse_templates(text: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(text);
    if !dir.is_dir() {
        return Err(format!("no folder `{text}`"));
    }
    Ok(dir)
}

fn parse_layout(name: &str) -> Result<Layout, String> {
    Layout::from_name(name).ok_or_else(|| format!("unknown layout `{name}`; the layouts are writeup, full"))
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| format!("unknown format `{name}`; the formats are {}", Format::ALL.map(Format::name).join(", ")))
}

/// Where and how `report` writes.
struct ReportTo<'a> {
    dir: &'a std::path::Path,
    formats: &'a [Format],
    layout: Layout,
    templates: Option<&'a std::path::Path>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => run(&args, None),
        Command::Audit(args) => audit(&args),
        Command::Report(args) => {
            let mut formats: Vec<Format> = Vec::new();
            for f in &args.format {
                if !formats.contains(f) {
                    formats.push(*f);
                }
            }
            run(&args.check, Some(ReportTo { dir: &args.output, formats: &formats, layout: args.layout, templates: args.templates.as_deref() }))
        }
    };
    ExitCode::from(code)
}

/// Loads the input, or prints why it cannot (and writes the errors as JSON when asked).
fn load(paths: &[PathBuf], json: Option<&std::path::Path>, seed: u64) -> Result<derivcheck::Loaded, u8> {
    match derivcheck::load(paths) {
        // Nothing to check is not a pass (a fence spelled ```Derivation, a folder of notes).
        Ok(l) if !l.documents.iter().any(|d| d.items.iter().any(|i| matches!(i, derivcheck::language::Item::Block(_)))) => {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "error: no `derivation` block in {}: nothing to check (a block is a fenced code block whose info string is exactly `derivation`)",
                names.join(", ")
            );
            Err(2)
        }
        Ok(l) => Ok(l),
        Err(LoadError::Io(msg)) => {
            eprintln!("error: {msg}");
            Err(2)
        }
        Err(LoadError::Input { rendered, errors }) => {
            for r in &rendered {
                eprintln!("{r}");
            }
            // Tools reading the JSON learn why there are no verdicts; no report is written.
            if let Some(path) = json
                && let Err(e) = report::write_file(path, &report::json_errors(seed, &errors))
            {
                eprintln!("error: {e}");
            }
            eprintln!("derivcheck: {} error(s) in the input; nothing was checked and no report was written", errors.len());
            Err(2)
        }
    }
}

fn audit(args: &AuditArgs) -> u8 {
    let loaded = match load(&args.input.paths, args.json.as_deref(), args.input.seed) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let options = check::Options { seed: args.input.seed, samples: args.input.samples, ..check::Options::default() };
    let audit = derivcheck::audit::run(&loaded, &options);
    let _ = derivcheck::audit::print(&audit, &mut std::io::stdout().lock());
    if let Some(path) = &args.json
        && let Err(e) = report::write_file(path, &derivcheck::audit::json(&audit))
    {
        eprintln!("error: {e}");
        return 2;
    }
    if audit.summary.survivors() == 0 { 0 } else { 1 }
}

fn run(args: &CheckArgs, report_to: Option<ReportTo>) -> u8 {
    let loaded = match load(&args.input.paths, args.json.as_deref(), args.input.seed) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // Where the outputs go is checked before the work, not after it.
    let outputs = report_to
        .iter()
        .map(|to| to.dir)
        .chain(args.json.as_deref().map(|p| p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."))));
    for dir in outputs {
        if let Err(e) = report::writable(dir) {
            eprintln!("error: {e}");
            return 2;
        }
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    // The first Ctrl-C stops after the claim being checked and prints what is done; a
    // second one quits at once.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!();
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping after the claim being checked (Ctrl-C again to quit now)");
    });
    let options = check::Options { seed: args.input.seed, samples: args.input.samples, strict: args.strict, stop: Some(stop), known: Vec::new() };
    let (results, cached) = derivcheck::check_with_cache(&loaded, &options);
    for (document, path) in cached {
        let what = if document == derivcheck::LIBRARY_PATH { "its results".to_string() } else { "unchanged; its results".to_string() };
        eprintln!(
            "{document}: {what} for this build, seed and sample count are reused from {} (DERIVCHECK_CACHE=off checks it again)",
            path.display()
        );
    }
    let _ = report::print(&results, &mut std::io::stdout().lock());
    if results.interrupted {
        eprintln!("derivcheck: interrupted; the claims above were checked, the rest were not, and no report or JSON was written");
        return 130;
    }
    if let Some(path) = &args.json
        && let Err(e) = report::write_file(path, &report::json(&results))
    {
        eprintln!("error: {e}");
        return 2;
    }
    if let Some(to) = report_to {
        let written = report::render(&loaded, &results, to.formats, to.layout, to.templates).and_then(|out| report::write_outputs(to.dir, &out));
        match written {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    if results.all_verified() { 0 } else { 1 }
}
