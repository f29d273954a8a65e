//! Stage 1: reading a literate Markdown file.
//!
//! Splits a file into its optional TOML front matter, the prose (kept as Markdown text, to be
//! rendered by the report) and the fenced `derivation` blocks (handed to the language stage
//! with the byte offset of their first line, so every later span points into the `.md` file).
//! This module and `report::write` are the only places that touch the filesystem.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::diagnostic::{FileId, InputError, SourceFiles, Span};

/// Front matter fields the report uses; unknown keys are kept for templates.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub author: Option<String>,
    pub course: Option<String>,
    pub extra: toml::Table,
}

/// A piece of a literate file, in document order.
#[derive(Debug, Clone)]
pub enum Part {
    /// Markdown prose, verbatim.
    Prose(String),
    /// The body of a ```derivation fence; `span` covers the body in the file.
    Derivation { code: String, span: Span },
}

#[derive(Debug, Clone)]
pub struct LiterateFile {
    pub file: FileId,
    pub path: String,
    pub front: FrontMatter,
    pub parts: Vec<Part>,
}

/// The one place that sets the Markdown options (math on), so the reader and the report
/// see the same document.
pub fn markdown_parser(text: &str) -> Parser<'_> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_MATH);
    options.insert(Options::ENABLE_TABLES);
    Parser::new_ext(text, options)
}

/// Expands the command line's paths: files as given, folders to their `.md` files (sorted,
/// not recursive into hidden folders). A missing path is an error.
pub fn collect_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found).map_err(|e| format!("{}: {e}", path.display()))?;
            if found.is_empty() {
                return Err(format!("{}: no .md files in this folder", path.display()));
            }
            found.sort();
            out.extend(found);
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits an already-loaded file into front matter, prose and derivation blocks.
/// Math in the prose must pass the LaTeX allow-list (`mathtex`): every refusal is an error.
pub fn split(file: FileId, files: &SourceFiles) -> Result<LiterateFile, Vec<InputError>> {
    let (literate, errors) = split_with_errors(file, files)?;
    if errors.is_empty() { Ok(literate) } else { Err(errors) }
}

/// Like [`split`], but the file comes with the prose's errors, so that the blocks can be
/// parsed for theirs too; only broken front matter stops it.
pub fn split_with_errors(file: FileId, files: &SourceFiles) -> Result<(LiterateFile, Vec<InputError>), Vec<InputError>> {
    let source = files.get(file);
    let text: &str = &source.text;
    let (front, body_start) = front_matter(file, text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let body = &text[body_start..];
    let mut parts = Vec::new();
    let mut prose_start = 0;
    // The text pieces of the derivation block being read, as byte ranges of the file.
    let mut in_derivation: Option<Vec<std::ops::Range<usize>>> = None;
    for (event, range) in markdown_parser(body).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if info.split_whitespace().next() == Some("derivation") => {
                push_prose(&mut parts, &body[prose_start..range.start]);
                in_derivation = Some(Vec::new());
                prose_start = range.end;
            }
            Event::Text(_) => {
                if let Some(pieces) = in_derivation.as_mut() {
                    pieces.push(body_start + range.start..body_start + range.end);
                }
            }
            Event::InlineMath(math) | Event::DisplayMath(math) if in_derivation.is_none() => {
                if let Err(refused) = crate::mathtex::check(&math) {
                    // The event's range includes the `$` delimiters.
                    let at = body_start + range.start + body[range.clone()].find(&*math).unwrap_or(0);
                    errors.push(InputError::new(Span::new(file, at + refused.at.start, at + refused.at.end), refused.message).label("refused"));
                }
            }
            Event::End(TagEnd::CodeBlock) if in_derivation.is_some() => {
                let pieces = in_derivation.take().unwrap_or_default();
                parts.push(derivation(file, text, &pieces, body_start + range.end));
                prose_start = range.end;
            }
            _ => {}
        }
    }
    push_prose(&mut parts, &body[prose_start..]);
    Ok((LiterateFile { file, path: source.path.clone(), front, parts }, errors))
}

/// The code of a derivation block from its text pieces. Inside a list item or a block quote
/// the pieces leave out each line's indentation or `>`: those bytes become spaces, so that
/// the code keeps the file's byte offsets and every span still points into the `.md` file.
fn derivation(file: FileId, text: &str, pieces: &[std::ops::Range<usize>], end_of_block: usize) -> Part {
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        // An empty block keeps its place, so the report shows it was there.
        return Part::Derivation { code: String::new(), span: Span::new(file, end_of_block, end_of_block) };
    };
    let (start, end) = (first.start, last.end);
    let mut code: Vec<u8> = text.as_bytes()[start..end].iter().map(|&b| if b == b'\n' { b'\n' } else { b' ' }).collect();
    for piece in pieces {
        code[piece.start - start..piece.end - start].copy_from_slice(&text.as_bytes()[piece.clone()]);
    }
    // Blanking whole bytes keeps every multi-byte character either whole or all spaces.
    let code = String::from_utf8(code).unwrap_or_default();
    Part::Derivation { code, span: Span::new(file, start, end) }
}

/// Keeps prose for the report, without its HTML comments (notes to self, fixture labels):
/// they are invisible in Markdown and must stay so in every format.
fn push_prose(parts: &mut Vec<Part>, text: &str) {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.match_indices("<!--").map(|(i, _)| i).find(|&i| i == 0 || rest[..i].ends_with('\n')) {
        let Some(close) = rest[open..].find("-->") else { break };
        kept.push_str(&rest[..open]);
        rest = rest[open + close + 3..].strip_prefix('\n').unwrap_or(&rest[open + close + 3..]);
    }
    kept.push_str(rest);
    if !kept.trim().is_empty() {
        parts.push(Part::Prose(kept));
    }
}

/// Parses a `+++`-delimited TOML block at the start (after blank lines and HTML comments,
/// which are dropped with it); returns it and where the body starts.
fn front_matter(file: FileId, text: &str) -> Result<(FrontMatter, usize), InputError> {
    let mut lead = text.trim_start();
    while let Some(comment) = lead.strip_prefix("<!--") {
        let Some(end) = comment.find("-->") else { break };
        lead = comment[end + 3..].trim_start();
    }
    let Some(rest) = lead.strip_prefix("+++\n").or_else(|| lead.strip_prefix("+++\r\n")) else {
        return Ok((FrontMatter::default(), 0));
    };
    let header = text.len() - rest.len();
    let Some(close) = rest.find("\n+++").map(|i| i + 1) else {
        return Err(InputError::new(Span::new(file, 0, 3), "front matter is never closed")
            .label("opened here")
            .help("end the front matter with a line holding only `+++`"));
    };
    let toml_text = &rest[..close];
    let body_start = header + close + rest[close..].find('\n').map_or(rest.len() - close, |i| i + 1);
    let mut table: toml::Table = toml_text.parse().map_err(|e: toml::de::Error| {
        let span = e.span().map_or(Span::new(file, header, header + close), |r| Span::new(file, header + r.start, header + r.end.max(r.start + 1)));
        InputError::new(span, format!("front matter is not valid TOML: {}", e.message()))
    })?;
    let mut take = |key: &str| -> Result<Option<String>, InputError> {
        match table.remove(key) {
            None => Ok(None),
            // One-line fields: a blank line in a title would end a paragraph in the PDF's.
            Some(toml::Value::String(s)) => Ok(Some(s.split_whitespace().collect::<Vec<_>>().join(" "))),
            Some(_) => Err(InputError::new(Span::new(file, header, header + close), format!("front matter `{key}` must be a string"))),
        }
    };
    let title = take("title")?;
    let author = take("author")?;
    let course = take("course")?;
    Ok((FrontMatter { title, author, course, extra: table }, body_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_text(text: &str) -> (SourceFiles, LiterateFile) {
        let mut files = SourceFiles::default();
        let id = files.add("t.md".into(), text.into());
        let doc = split(id, &files).unwrap();
        (files, doc)
    }

    #[test]
    fn derivation_blocks_keep_their_lines_in_the_markdown_file() {
        let text = "+++\ntitle = \"T\"\n+++\n# Q\n\nProse $x$.\n\n```derivation\nlet x: scalar\nclaim c: x = x\n```\n\nMore.\n";
        let (files, doc) = split_text(text);
        assert_eq!(doc.front.title.as_deref(), Some("T"));
        assert_eq!(doc.parts.len(), 3);
        let Part::Derivation { code, span } = &doc.parts[1] else { panic!("{:?}", doc.parts) };
        assert_eq!(code, "let x: scalar\nclaim c: x = x\n");
        assert_eq!(files.line(*span), 9);
        assert!(matches!(&doc.parts[0], Part::Prose(p) if p.contains("Prose $x$")));
        assert!(matches!(&doc.parts[2], Part::Prose(p) if p.contains("More.")));
    }

    #[test]
    fn a_block_in_a_list_item_or_a_quote_is_one_block_with_its_lines() {
        for text in [
            "1. First\n\n   ```derivation\n   let x: scalar\n   claim c: x = x\n   ```\n",
            "> ```derivation\n> let x: scalar\n> claim c: x = x\n> ```\n",
        ] {
            let (files, doc) = split_text(text);
            let blocks: Vec<(&String, &Span)> =
                doc.parts.iter().filter_map(|p| if let Part::Derivation { code, span } = p { Some((code, span)) } else { None }).collect();
            assert_eq!(blocks.len(), 1, "{text}: {:?}", doc.parts);
            let (code, span) = blocks[0];
            assert_eq!(code.split_whitespace().collect::<Vec<_>>(), ["let", "x:", "scalar", "claim", "c:", "x", "=", "x"]);
            assert_eq!(files.line(*span), if text.starts_with('>') { 2 } else { 4 });
            assert_eq!(&files.get(span.file).text[span.start + code.find("claim").unwrap()..][..5], "claim", "offsets kept");
        }
    }

    #[test]
    fn front_matter_may_follow_comments() {
        let (_, doc) = split_text("<!-- class: accept -->\n\n<!-- two\nlines -->\n+++\ntitle = \"T\"\n+++\nBody.\n");
        assert_eq!(doc.front.title.as_deref(), Some("T"));
        assert!(matches!(&doc.parts[..], [Part::Prose(p)] if p == "Body.\n"), "{:?}", doc.parts);
        let (_, doc) = split_text("Keep.\n<!-- note -->\nAlso `<!--` inline.\n");
        assert!(matches!(&doc.parts[..], [Part::Prose(p)] if p == "Keep.\nAlso `<!--` inline.\n"), "{:?}", doc.parts);
    }

    #[test]
    fn prose_math_outside_the_allow_list_is_an_error_where_it_is() {
        let mut files = SourceFiles::default();
        let id = files.add("t.md".into(), "Fine $a_t$.\n\nBad $x + \\input{/etc/hostname}$ and $$\\write18{ls}$$\n".into());
        let errors = split(id, &files).unwrap_err();
        let blamed: Vec<&str> = errors.iter().map(|e| &files.get(id).text[e.span.start..e.span.end]).collect();
        assert_eq!(blamed, ["\\input", "\\write"]);
        assert!(errors[0].render(&files).contains("t.md:3:10"), "{}", errors[0].render(&files));
    }

    #[test]
    fn other_code_blocks_stay_prose() {
        let (_, doc) = split_text("```rust\nfn main() {}\n```\n");
        assert!(matches!(&doc.parts[..], [Part::Prose(_)]));
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let mut files = SourceFiles::default();
        let id = files.add("t.md".into(), "+++\ntitle = 1\n".into());
        assert!(split(id, &files).unwrap_err()[0].message.contains("never closed"));
    }
}
