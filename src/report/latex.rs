//! Markdown prose to LaTeX, and escaping of user text. Tera escapes only by file suffix, so
//! the LaTeX template applies the `tex` filter defined here to every piece of user text.

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};

/// Escapes text for LaTeX's text mode; Unicode math letters become inline math, so that
/// pdflatex with utf8 input accepts them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '$' => out.push_str("\\$"),
            '&' => out.push_str("\\&"),
            '#' => out.push_str("\\#"),
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            '^' => out.push_str("\\textasciicircum{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '…' => out.push_str("\\ldots{}"),
            c => match unicode_math(c) {
                Some(m) => {
                    out.push('$');
                    out.push_str(m);
                    out.push('$');
                }
                // Control characters (a form feed is a paragraph break to TeX) are space.
                None if c.is_control() => out.push(' '),
                // Latin letters with accents, dashes and quotes are fine in T1 with utf8;
                // anything else would stop pdflatex, so it is named instead.
                None if typesets(c) => out.push(c),
                None => out.push_str(&format!("\\texttt{{U+{:04X}}}", c as u32)),
            },
        }
    }
    out
}

/// Whether pdflatex with `utf8` input and T1 fonts typesets the character: Latin-1 and
/// Latin Extended-A, except the few letters T1 lacks, and common punctuation.
fn typesets(c: char) -> bool {
    let code = c as u32;
    (code < 0x180 && !matches!(code, 0x126 | 0x127 | 0x138 | 0x13F | 0x140 | 0x149 | 0x166 | 0x167 | 0x17F))
        || matches!(c, '–' | '—' | '‘' | '’' | '“' | '”' | '•')
}

fn unicode_math(c: char) -> Option<&'static str> {
    Some(match c {
        'α' => "\\alpha",
        'β' => "\\beta",
        'γ' => "\\gamma",
        'δ' => "\\delta",
        'ε' => "\\epsilon",
        'η' => "\\eta",
        'θ' => "\\theta",
        'λ' => "\\lambda",
        'μ' => "\\mu",
        'π' => "\\pi",
        'ρ' => "\\rho",
        'σ' => "\\sigma",
        'τ' => "\\tau",
        'φ' => "\\phi",
        'ω' => "\\omega",
        'Δ' => "\\Delta",
        'Σ' => "\\Sigma",
        '−' => "-",
        '≤' => "\\le",
        '≥' => "\\ge",
        '≠' => "\\ne",
        '≈' => "\\approx",
        '→' => "\\to",
        '·' => "\\cdot",
        '×' => "\\times",
        '∞' => "\\infty",
        '∈' => "\\in",
        '√' => "\\surd",
        '‖' => "\\Vert",
        '✓' => "\\checkmark",
        '✗' => "\\times",
        '∫' => "\\int",
        '∑' => "\\sum",
        '∼' => "\\sim",
        '±' => "\\pm",
        '≡' => "\\equiv",
        '∂' => "\\partial",
        '⊤' => "\\top",
        '∥' => "\\Vert",
        '²' => "^{2}",
        '³' => "^{3}",
        'ϕ' => "\\phi",
        'ψ' => "\\psi",
        'ν' => "\\nu",
        'ξ' => "\\xi",
        'κ' => "\\kappa",
        'ζ' => "\\zeta",
        'χ' => "\\chi",
        'Φ' => "\\Phi",
        'Ω' => "\\Omega",
        'Λ' => "\\Lambda",
        'Θ' => "\\Theta",
        '∇' => "\\nabla",
        '⊙' => "\\odot",
        '←' => "\\leftarrow",
        '⇒' => "\\Rightarrow",
        '⇔' => "\\Leftrightarrow",
        _ => return None,
    })
}

/// How many lists and quotes the LaTeX nests.
const MAX_NESTING: usize = 4;

/// Converts Markdown prose to LaTeX: headings, emphasis, lists, code, links and math.
/// Raw HTML is shown as text, never interpreted.
pub fn markdown_to_latex(markdown: &str) -> String {
    let mut out = String::new();
    // Open lists and quotes, with the environment each opened: LaTeX nests them at most 6
    // deep in all (4 of a kind), so deeper ones open none and read as the level above.
    let mut nested: Vec<Option<&'static str>> = Vec::new();
    let open = |nested: &mut Vec<Option<&'static str>>, out: &mut String, env: &'static str| {
        let opens = nested.iter().flatten().count() < MAX_NESTING;
        if opens {
            out.push_str(&format!("\n\\begin{{{env}}}\n"));
        }
        nested.push(opens.then_some(env));
    };
    // Where the heading being read starts in `out`: its text is wrapped when it ends.
    let mut heading_start: Option<usize> = None;
    // The heading's text without math, for the PDF's bookmarks (math there breaks them).
    let mut plain = String::new();
    for event in crate::source::markdown_parser(markdown) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { .. } => {
                    heading_start = Some(out.len());
                    plain.clear();
                }
                Tag::Paragraph => out.push('\n'),
                Tag::Emphasis => out.push_str("\\emph{"),
                Tag::Strong => out.push_str("\\textbf{"),
                // Only the schemes the HTML keeps: `run:` or `file:` would be actions in the PDF.
                Tag::Link { dest_url, .. } => match super::html::safe_url(dest_url) {
                    url if &*url == "#" => out.push('{'),
                    url => out.push_str(&format!("\\href{{{}}}{{", escape_url(&url))),
                },
                Tag::List(start) => open(&mut nested, &mut out, if start.is_some() { "enumerate" } else { "itemize" }),
                // `{}` ends the command: text starting with `[` is not its optional argument.
                Tag::Item => out.push_str("\\item{} "),
                Tag::BlockQuote(_) => open(&mut nested, &mut out, "quote"),
                Tag::CodeBlock(_) => out.push_str("\n\\begin{verbatim}\n"),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(level) => {
                    let text = out.split_off(heading_start.take().unwrap_or(out.len()));
                    out.push_str(&heading(level, &text, &plain));
                }
                TagEnd::Paragraph => out.push('\n'),
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Link => out.push('}'),
                TagEnd::List(_) | TagEnd::BlockQuote(_) => {
                    if let Some(Some(env)) = nested.pop() {
                        out.push_str(&format!("\\end{{{env}}}\n"));
                    }
                }
                TagEnd::Item => out.push('\n'),
                TagEnd::CodeBlock => out.push_str("\\end{verbatim}\n"),
                _ => {}
            },
            Event::Text(text) => {
                plain.push_str(&escape(&text));
                out.push_str(&escape(&text));
            }
            Event::Code(code) => {
                plain.push_str(&escape(&code));
                out.push_str(&format!("\\texttt{{{}}}", escape(&code)));
            }
            // The allow-list again, on exactly the math this parse sees: the reader checked
            // the file, but a parse of a piece of it could see math the whole did not.
            Event::InlineMath(math) | Event::DisplayMath(math) if crate::mathtex::check(&math).is_err() => {
                out.push_str(&format!("\\texttt{{{}}}", escape(&math)));
            }
            Event::InlineMath(math) => {
                plain.push_str(&escape(&math));
                out.push_str(&format!("${math}$"));
            }
            Event::DisplayMath(math) => out.push_str(&format!("\n\\[{math}\\]\n")),
            Event::Html(html) | Event::InlineHtml(html) => out.push_str(&escape(&html)),
            Event::SoftBreak => out.push('\n'),
            // Not `\\`, which would read a following `[…]` as a length.
            Event::HardBreak => out.push_str("\\newline\n"),
            Event::Rule => out.push_str("\n\\medskip\\hrule\\medskip\n"),
            _ => {}
        }
    }
    out
}

/// An unnumbered heading that still appears in the PDF's bookmarks (and a table of
/// contents), there as `plain` text: math and fragile commands would break them.
fn heading(level: HeadingLevel, text: &str, plain: &str) -> String {
    let (command, entry) = match level {
        HeadingLevel::H1 => ("section", Some("section")),
        HeadingLevel::H2 => ("subsection", Some("subsection")),
        HeadingLevel::H3 => ("subsubsection", Some("subsubsection")),
        _ => ("paragraph", None),
    };
    match entry {
        Some(entry) => format!("\n\\{command}*{{{text}}}\\phantomsection\\addcontentsline{{toc}}{{{entry}}}{{{plain}}}\n"),
        None => format!("\n\\{command}*{{{text}}}\n"),
    }
}

/// A link's address for `\href`: every character but letters, digits and `:/?=.,-_@+!'()`
/// percent-encoded (with `\%`, since `%` starts a comment), so that no TeX special —
/// `^^` escapes above all — reaches the file.
fn escape_url(url: &str) -> String {
    let url = url.replace('\\', "/");
    let mut out = String::with_capacity(url.len());
    for byte in url.bytes() {
        if byte.is_ascii_alphanumeric() || b":/?=.,-_@+!'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("\\%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape("50% & $5 #1 a_b {x} ~ ^"), "50\\% \\& \\$5 \\#1 a\\_b \\{x\\} \\textasciitilde{} \\textasciicircum{}");
        assert_eq!(escape("β ≤ 1"), "$\\beta$ $\\le$ 1");
    }

    #[test]
    fn prose_becomes_latex_with_math_kept() {
        let tex = markdown_to_latex("## 2.1 Title\n\nSome *emph* and `code_x` with $a_t$ and 5%.\n\n- one\n- two\n\n$$x^2$$\n\n<b>raw</b>\n");
        assert!(tex.contains("\\subsection*{2.1 Title}\\phantomsection\\addcontentsline{toc}{subsection}{2.1 Title}"), "{tex}");
        assert!(tex.contains("\\emph{emph}"));
        assert!(tex.contains("\\texttt{code\\_x}"));
        assert!(tex.contains("$a_t$"));
        assert!(tex.contains("5\\%"));
        assert!(tex.contains("\\begin{itemize}\n\\item{} one"));
        assert!(tex.contains("\\[x^2\\]"));
        assert!(tex.contains("\\textless{}b\\textgreater{}raw"), "{tex}");
    }

    #[test]
    fn nothing_in_a_link_or_a_list_reaches_tex_unescaped() {
        let tex = markdown_to_latex("[a](x^^7d^^5cinput^^7b/etc/hostname^^7d) <http://h/^^5c#x%y>\n\n- [a\n\nline  \n[9cm]\n");
        assert!(!tex.contains("^^") && tex.contains("\\href{x\\%5E\\%5E7d"), "{tex}");
        assert!(tex.contains("\\href{http://h/\\%5E\\%5E5c\\%23x\\%25y}"), "{tex}");
        assert!(tex.contains("\\item{} [a") && tex.contains("\\newline\n[9cm]"), "{tex}");
        let tex = markdown_to_latex("[x](run:/usr/bin/xcalc) [y](file:/etc/passwd) [z](https://a.b/c)\n");
        assert!(!tex.contains("run:") && !tex.contains("file:") && tex.contains("\\href{https://a.b/c}{z}"), "{tex}");
        let deep = markdown_to_latex("- a\n  - b\n    - c\n      - d\n        - e\n          - f\n");
        assert_eq!(deep.matches("\\begin{itemize}").count(), MAX_NESTING, "{deep}");
        assert_eq!(deep.matches("\\begin{itemize}").count(), deep.matches("\\end{itemize}").count());
    }

    #[test]
    fn math_the_allow_list_refuses_is_shown_as_text_whatever_the_parse() {
        let tex = markdown_to_latex("$\\input{/etc/hostname}$ and ## $x$ heading\n\n# A $\\boxed{x}$ title\n");
        assert!(tex.contains("\\texttt{\\textbackslash{}input\\{/etc/hostname\\}}"), "{tex}");
        assert!(tex.contains("\\addcontentsline{toc}{section}{A \\textbackslash{}boxed\\{x\\} title}"), "no math in the bookmark: {tex}");
        assert_eq!(escape("a\u{c}b\u{138}"), "a b\\texttt{U+0138}");
    }
}
