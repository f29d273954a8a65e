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
pub fn split(file: FileId, files: &SourceFiles) -> Result<LiterateFile, InputError> {
    let source = files.get(file);
    let text: &str = &source.text;
    let (front, body_start) = front_matter(file, text)?;
    let body = &text[body_start..];
    let mut parts = Vec::new();
    let mut prose_start = 0;
    let mut in_derivation: Option<usize> = None;
    for (event, range) in markdown_parser(body).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if info.split_whitespace().next() == Some("derivation") => {
                push_prose(&mut parts, &body[prose_start..range.start]);
                in_derivation = Some(range.start);
                prose_start = range.end;
            }
            Event::Text(_) if in_derivation.is_some() => {
                let start = body_start + range.start;
                let end = body_start + range.end;
                match parts.last_mut() {
                    Some(Part::Derivation { code, span }) if span.end == start => {
                        code.push_str(&text[start..end]);
                        span.end = end;
                    }
                    _ => parts.push(Part::Derivation { code: text[start..end].to_string(), span: Span::new(file, start, end) }),
                }
            }
            Event::End(TagEnd::CodeBlock) if in_derivation.is_some() => {
                let fence_start = in_derivation.take().unwrap_or(0);
                if !matches!(parts.last(), Some(Part::Derivation { span, .. }) if span.start >= body_start + fence_start) {
                    // An empty block: keep its place so the report shows it was there.
                    let at = body_start + range.end;
                    parts.push(Part::Derivation { code: String::new(), span: Span::new(file, at, at) });
                }
                prose_start = range.end;
            }
            _ => {}
        }
    }
    push_prose(&mut parts, &body[prose_start..]);
    Ok(LiterateFile { file, path: source.path.clone(), front, parts })
}

fn push_prose(parts: &mut Vec<Part>, text: &str) {
    if !text.trim().is_empty() {
        parts.push(Part::Prose(text.to_string()));
    }
}

/// Parses a `+++`-delimited TOML block at the very start; returns it and where the body starts.
fn front_matter(file: FileId, text: &str) -> Result<(FrontMatter, usize), InputError> {
    let Some(rest) = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n")) else {
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
            Some(toml::Value::String(s)) => Ok(Some(s)),
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
    fn other_code_blocks_stay_prose() {
        let (_, doc) = split_text("```rust\nfn main() {}\n```\n");
        assert!(matches!(&doc.parts[..], [Part::Prose(_)]));
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let mut files = SourceFiles::default();
        let id = files.add("t.md".into(), "+++\ntitle = 1\n".into());
        assert!(split(id, &files).unwrap_err().message.contains("never closed"));
    }
}
