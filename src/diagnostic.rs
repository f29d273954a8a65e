//! Spans into the original Markdown files and the error type that points at them.
//!
//! Every message a user sees about their input carries a [`Span`]: a byte range in one
//! loaded file. Positions are computed from the file's text only when a message is shown,
//! so the rest of the pipeline passes spans around as two integers and a file id.

use std::fmt;
use std::sync::Arc;

/// Index of a loaded file in a [`SourceFiles`] table.
pub type FileId = usize;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// One loaded file: its display path and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = char_floor(&self.text, offset);
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

/// All files loaded in one run; spans index into it.
#[derive(Debug, Clone, Default)]
pub struct SourceFiles {
    files: Vec<SourceFile>,
}

impl SourceFiles {
    pub fn add(&mut self, path: String, text: String) -> FileId {
        self.files.push(SourceFile { path, text: text.into() });
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    /// `path:line:column` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start);
        format!("{}:{}:{}", file.path, line, col)
    }

    /// 1-based line of the start of a span.
    pub fn line(&self, span: Span) -> usize {
        self.get(span.file).line_col(span.start).0
    }

    /// The source text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        let start = char_floor(text, span.start);
        &text[start..char_floor(text, span.end).max(start)]
    }
}

/// The largest char boundary of `text` at or before `offset` (spans from other parsers may
/// point inside a multi-byte character).
fn char_floor(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// An error in the user's input: a message, where it is, and optionally what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
}

impl InputError {
    pub fn new(span: Span, message: impl Into<String>) -> InputError {
        InputError { message: message.into(), span, label: "here".into(), help: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> InputError {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> InputError {
        self.help = Some(help.into());
        self
    }

    /// Renders the error as the CLI prints it: a `path:line:column` header, the source line
    /// and a caret under the offending text. Plain text, so it reads the same in a log.
    pub fn render(&self, files: &SourceFiles) -> String {
        let file = files.get(self.span.file);
        let (line, col) = file.line_col(self.span.start);
        let line_text = file.text.lines().nth(line - 1).unwrap_or("");
        let width = files
            .snippet(self.span)
            .lines()
            .next()
            .map_or(1, |s| s.chars().count().max(1))
            .min(line_text.chars().count().saturating_sub(col - 1).max(1));
        let (shown, caret_at, width) = window(line_text, col - 1, width);
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let mut out = format!(
            "error: {}\n{pad}--> {}:{}:{}\n{pad} |\n{line} | {}\n{pad} | {}{} {}\n",
            self.message,
            file.path,
            line,
            col,
            shown,
            " ".repeat(caret_at),
            "^".repeat(width),
            self.label
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("{pad} = help: {help}\n"));
        }
        out
    }
}

/// The part of a long source line worth showing around a caret: at most `CONTEXT` characters
/// either side, elided with `…`, so a 6000-character line does not flood the terminal.
/// Returns the text, the caret's column in it and the caret's width.
fn window(line: &str, at: usize, width: usize) -> (String, usize, usize) {
    const CONTEXT: usize = 40;
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 2 * CONTEXT + width.min(CONTEXT) {
        return (line.to_string(), at, width);
    }
    let width = width.min(CONTEXT);
    let from = at.saturating_sub(CONTEXT);
    let to = (at + width + CONTEXT).min(chars.len());
    let mut shown: String = chars[from..to].iter().collect();
    let mut caret_at = at - from;
    if from > 0 {
        shown.insert(0, '…');
        caret_at += 1;
    }
    if to < chars.len() {
        shown.push('…');
    }
    (shown, caret_at, width)
}

/// Where an input error is, resolved: for JSON and other machine-readable output.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl InputError {
    pub fn locate(&self, files: &SourceFiles) -> Located {
        let file = files.get(self.span.file);
        let (line, column) = file.line_col(self.span.start);
        Located { file: file.path.clone(), line, column, message: self.message.clone() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_line_and_column_with_a_caret() {
        let mut files = SourceFiles::default();
        let id = files.add("a.md".into(), "line one\n  v = (x\n".into());
        let err = InputError::new(Span::new(id, 15, 16), "`(` is never closed").label("opened here");
        let text = err.render(&files);
        assert!(text.contains("--> a.md:2:7"), "{text}");
        assert!(text.contains("2 |   v = (x\n  |       ^ opened here"), "{text}");
    }

    #[test]
    fn a_long_line_is_shown_around_the_caret() {
        let mut files = SourceFiles::default();
        let line = format!("{}x{}", "(".repeat(3000), ")".repeat(3000));
        let id = files.add("a.md".into(), line);
        let text = InputError::new(Span::new(id, 3000, 3001), "too deep").render(&files);
        assert!(text.contains("--> a.md:1:3001"), "{text}");
        let shown = text.lines().nth(3).unwrap();
        assert_eq!(shown, format!("1 | …{}x{}…", "(".repeat(40), ")".repeat(40)));
        assert_eq!(text.lines().nth(4).unwrap(), format!("  | {}^ here", " ".repeat(41)));
    }
}
