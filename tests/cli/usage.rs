//! The CLI without rough edges: reproducible seeds wherever a file is, the failures listed
//! at the end, output folders checked before the work, Ctrl-C, one typo one error, and user
//! LaTeX that cannot reach the TA's machine.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{derivcheck, scratch, text};

/// The seed of every claim in the JSON of a `check` run.
fn seeds(path: &str, json: &Path) -> Vec<(String, String)> {
    let out = derivcheck(&["check", path, "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    value["claims"].as_array().unwrap().iter().map(|c| (c["claim"].as_str().unwrap().to_string(), c["seed"].as_str().unwrap().to_string())).collect()
}

#[test]
fn a_claims_seed_is_the_same_from_any_folder() {
    let dir = scratch("seeds");
    let absolute = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ok/small.md");
    let typed = seeds("tests/data/ok/small.md", &dir.join("a.json"));
    assert!(!typed.is_empty());
    assert_eq!(seeds("./tests/data/ok/small.md", &dir.join("b.json")), typed);
    assert_eq!(seeds(absolute.to_str().unwrap(), &dir.join("c.json")), typed);
}

#[test]
fn the_end_of_a_run_lists_every_failure_in_one_block() {
    let out = derivcheck(&["check", "tests/data/err/sign_slip.md"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let block = stdout.split("claim(s) not verified:").nth(1).unwrap_or_else(|| panic!("a failure block: {stdout}"));
    assert!(block.contains("tests/data/err/sign_slip.md:40: claim mom_rec: NOT SHOWN (line 45 refuted)"), "{block}");
    assert!(stdout.contains("the proof is wrong at line 45; the statement holds"), "a true statement with a wrong step is not refuted: {stdout}");
    assert!(block.trim_end().ends_with(&format!("(root seed {})", 20220323)), "the summary comes last: {block}");
}

#[test]
fn an_output_folder_that_cannot_be_written_is_an_error_before_checking() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let target = file.join("report");
    let out = derivcheck(&["report", "derivations", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("cannot write in the folder `{}`", target.display())), "{stderr}");
    assert!(text(&out.stdout).trim().is_empty() || !text(&out.stdout).contains("step of"), "nothing was checked: {}", text(&out.stdout));
    let out = derivcheck(&["check", "tests/data/ok/small.md", "--json", target.join("v.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "the JSON's folder too");
}

#[test]
fn ctrl_c_prints_the_claims_checked_so_far() {
    if Command::new("kill").arg("-l").output().is_err() {
        eprintln!("SKIPPED: no `kill` command here");
        return;
    }
    let child = Command::new(env!("CARGO_BIN_EXE_derivcheck"))
        .args(["check", "derivations"])
        // Checked now, not read back from an earlier run's results.
        .env("DERIVCHECK_CACHE", "off")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The worked answers take seconds; the first claims are done well before.
    std::thread::sleep(std::time::Duration::from_millis(4000));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    // What was checked is printed (stdout is a pipe here, flushed at the end), then the counts.
    assert!(stdout.contains("claim(s):") && !stdout.contains("claim identical"), "stopped before the last claim: {stdout}");
    assert!(stderr.contains("interrupted"), "{stderr}");
}

fn input_errors(name: &str, source: &str) -> String {
    let dir = scratch(name);
    let path = dir.join("x.md");
    std::fs::write(&path, source).unwrap();
    let out = derivcheck(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    text(&out.stderr)
}

#[test]
fn one_typo_gives_one_error() {
    let stderr = input_errors(
        "typo",
        "```derivation\nlet a: scalar\nlemma rate: a = a\nproof\n  a = a\nqed\nclaim c: a = a\nproof\n  a = a   by rat\nqed\n```\n",
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(stderr.contains("unknown justification `rat`") && stderr.contains("did you mean `rate`?"), "{stderr}");

    let stderr = input_errors("typo-step", "```derivation\nlet a: scalar\nclaim c: a = a\nproof\n  a = a\n    = (a   by algebra\nqed\n```\n");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");

    let stderr = input_errors("greek", "```derivation\nlet Δθ: scalar\n```\n");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(stderr.contains("a Greek letter is a name on its own: `Δθ`") && stderr.contains("x.md:2:5"), "{stderr}");
}

#[test]
fn latex_that_could_reach_the_machine_is_refused_at_its_place() {
    let stderr = input_errors("hostile-math", "# Q\n\nSee $x + \\input{/etc/hostname}$.\n\n```derivation\nlet x: scalar\n```\n");
    assert!(stderr.contains("`\\input` is not a math command the report allows") && stderr.contains("x.md:3:10"), "{stderr}");
    let stderr = input_errors("hostile-as", "```derivation\nlet x: scalar as \"\\immediate\\write18{ls}\"\n```\n");
    assert!(stderr.contains("`\\immediate`") && stderr.contains("x.md:2:19"), "{stderr}");
    let stderr = input_errors("hostile-caret", "$^^5cinput{/etc/passwd}$\n\n```derivation\nlet x: scalar\n```\n");
    assert!(stderr.contains("`^^` is TeX's character escape"), "{stderr}");
}

/// Everything that is not math is escaped: a hostile file that passes compiles to a PDF with
/// nothing of the machine in it.
#[test]
fn a_hostile_file_compiles_to_a_pdf_with_nothing_of_the_machine() {
    let dir = scratch("hostile-pdf");
    let path = dir.join("h.md");
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim().to_string();
    std::fs::write(
        &path,
        "+++\ntitle = '\\input{/etc/hostname}'\nauthor = '\\openout1=x.tex'\n+++\n# \\input{/etc/hostname}\n\n\
         Prose \\input{/etc/hostname} and `\\input{/etc/hostname}` and [link](\\input{/etc/hostname}).\n\n\
         <!-- -->$\\text{\\input{/etc/hostname}}\\immediate\\openout9=x.tex$\n\n\
         [a](x^^7d^^7ba^^7d^^5cinput^^7b/etc/hostname^^7d^^7b) and <http://h/^^7d^^5cinput^^7b/etc/hostname^^7d>\n\n\
         [b](y^^7d^^5cimmediate^^5copenout9=x.tex^^20) [c](run:/usr/bin/xcalc)\n\n\
         ```derivation\nlet x: scalar\nclaim c: x = x\nproof\n  x = x\nqed\n```\n",
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = derivcheck(&["report", path.to_str().unwrap(), "-o", out_dir.to_str().unwrap(), "--format", "tex"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    if Command::new("pdflatex").arg("--version").output().is_err() || Command::new("pdftotext").arg("-v").output().is_err() {
        eprintln!("SKIPPED: pdflatex or pdftotext is not installed here (CI installs them through .ci/run)");
        return;
    }
    let status = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "report.tex"])
        .current_dir(&out_dir)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status.stdout));
    assert!(!out_dir.join("x.tex").exists(), "no file written by \\openout");
    let tex = std::fs::read_to_string(out_dir.join("report.tex")).unwrap();
    assert!(!tex.contains("run:"), "no link that launches a program");
    let pdf = Command::new("pdftotext").args(["report.pdf", "-"]).current_dir(&out_dir).output().unwrap();
    let pdf_text = text(&pdf.stdout);
    assert!(pdf_text.contains("input{/etc/hostname}"), "the text is shown, escaped: {pdf_text}");
    if !hostname.is_empty() {
        assert!(!pdf_text.contains(&hostname), "the machine's name is in the PDF: {pdf_text}");
    }
}

#[test]
fn an_unknown_layout_is_a_usage_error() {
    let out = derivcheck(&["report", "tests/data/ok/small.md", "--layout", "compact"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown layout `compact`; the layouts are writeup, full"), "{}", text(&out.stderr));
}

/// Results are computed once per build, seed, sample count and file text: the second run
/// reuses the library's and each unchanged file's, says so, and prints exactly what the first
/// printed; a changed file is checked again.
#[test]
fn results_are_computed_once_and_reused_while_the_file_is_unchanged() {
    let cache = scratch("library-cache");
    let copy = cache.join("small.md");
    std::fs::copy(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ok/small.md"), &copy).unwrap();
    let run = |cache_setting: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_derivcheck"));
        command.args(["check", copy.to_str().unwrap(), "derivations/q2_momentum.md"]).current_dir(env!("CARGO_MANIFEST_DIR"));
        command.env("XDG_CACHE_HOME", &cache);
        if let Some(setting) = cache_setting {
            command.env("DERIVCHECK_CACHE", setting);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        // The engine's banner shows only when the engine starts: not when every result is reused.
        let stdout: Vec<String> = text(&out.stdout).lines().filter(|l| !l.starts_with(['┌', '│', '├', '└'])).map(String::from).collect();
        (stdout.join("\n"), text(&out.stderr))
    };
    let (first, first_err) = run(None);
    assert!(!first_err.contains("reused"), "{first_err}");
    let files: Vec<_> = std::fs::read_dir(cache.join("derivcheck")).unwrap().collect();
    assert_eq!(files.len(), 3, "one cache file for the library and one per file");
    let (second, second_err) = run(None);
    assert!(second_err.contains("built-in lemma library: its results for this build, seed and sample count are reused from"), "{second_err}");
    assert!(second_err.contains("q2_momentum.md: unchanged; its results for this build, seed and sample count are reused from"), "{second_err}");
    assert_eq!(second, first, "the same results");
    // A changed file is checked again; the others are not.
    let edited = std::fs::read_to_string(&copy).unwrap() + "\nOne more sentence of prose.\n";
    std::fs::write(&copy, edited).unwrap();
    let (_, edited_err) = run(None);
    assert!(!edited_err.contains("small.md: unchanged"), "{edited_err}");
    assert!(edited_err.contains("q2_momentum.md: unchanged"), "{edited_err}");
    let (third, third_err) = run(Some("off"));
    assert!(!third_err.contains("reused"), "DERIVCHECK_CACHE=off checks everything again");
    assert_eq!(third, first);
}
