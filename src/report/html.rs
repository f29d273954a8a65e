//! HTML for `report.html`: Markdown prose to HTML with the user's raw HTML shown as text, and
//! the bundled KaTeX (script, and stylesheet with its fonts inlined as `data:` URLs) that
//! typesets the math in the browser without any network access.
//!
//! Math stays LaTeX in the page, inside `<span class="math math-inline">` and
//! `<span class="math math-display">` (the markup pulldown-cmark gives prose math, and the
//! template uses for ours); the template's script hands each one to `katex.render`. No
//! delimiter scanning is needed, so a `$` in prose text is never mistaken for math.

use pulldown_cmark::{Event, Tag, TagEnd};

/// KaTeX's script, as published in the npm package (see `assets/katex/README.md`).
pub const KATEX_JS: &str = include_str!("../../assets/katex/katex.min.js");

const KATEX_CSS: &str = include_str!("../../assets/katex/katex.min.css");

macro_rules! fonts {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_bytes!(concat!("../../assets/katex/fonts/", $name, ".woff2")).as_slice())),*]
    };
}

/// Every font KaTeX's stylesheet names, in woff2, which every current browser reads.
const KATEX_FONTS: [(&str, &[u8]); 20] = fonts![
    "KaTeX_AMS-Regular",
    "KaTeX_Caligraphic-Bold",
    "KaTeX_Caligraphic-Regular",
    "KaTeX_Fraktur-Bold",
    "KaTeX_Fraktur-Regular",
    "KaTeX_Main-Bold",
    "KaTeX_Main-BoldItalic",
    "KaTeX_Main-Italic",
    "KaTeX_Main-Regular",
    "KaTeX_Math-BoldItalic",
    "KaTeX_Math-Italic",
    "KaTeX_SansSerif-Bold",
    "KaTeX_SansSerif-Italic",
    "KaTeX_SansSerif-Regular",
    "KaTeX_Script-Regular",
    "KaTeX_Size1-Regular",
    "KaTeX_Size2-Regular",
    "KaTeX_Size3-Regular",
    "KaTeX_Size4-Regular",
    "KaTeX_Typewriter-Regular",
];

/// KaTeX's stylesheet with each `@font-face` reduced to its woff2 font as a `data:` URL.
pub fn katex_css() -> String {
    let mut css = KATEX_CSS.to_string();
    for (name, bytes) in KATEX_FONTS {
        let sources =
            format!(r#"url(fonts/{name}.woff2) format("woff2"),url(fonts/{name}.woff) format("woff"),url(fonts/{name}.ttf) format("truetype")"#);
        let inlined = format!(r#"url(data:font/woff2;base64,{}) format("woff2")"#, base64(bytes));
        css = css.replace(&sources, &inlined);
    }
    css
}

/// Escapes text for HTML element content and quoted attribute values: the five characters
/// that matter there, and nothing else, so paths and math stay readable in the page source.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Converts Markdown prose to HTML. Raw HTML in the prose is escaped and shown as text, and
/// links that would run script are dropped, so a report never executes what a file contains.
/// Headings move one level down: the page's title is the only `<h1>`.
pub fn markdown_to_html(markdown: &str) -> String {
    let events = crate::source::markdown_parser(markdown).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Heading { level, id, classes, attrs }) => Event::Start(Tag::Heading { level: lower(level), id, classes, attrs }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id }),
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

fn lower(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 => H2,
        H2 => H3,
        H3 => H4,
        H4 => H5,
        H5 | H6 => H6,
    }
}

/// Keeps relative, fragment, http(s) and mailto links; anything else (`javascript:`,
/// `data:`, …) becomes an empty fragment.
pub(super) fn safe_url(url: pulldown_cmark::CowStr<'_>) -> pulldown_cmark::CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => "#".into(),
    }
}

/// Standard base64 with padding (RFC 4648), for the `data:` URLs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(escape(r#"<a href="x">'&'</a> a/b"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; a/b");
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn every_font_is_inlined_and_nothing_is_fetched() {
        let css = katex_css();
        assert!(!css.contains("url(fonts/"), "a font left to fetch");
        assert_eq!(css.matches("url(data:font/woff2;base64,").count(), KATEX_FONTS.len());
        assert!(!css.contains("</style"));
        assert!(!KATEX_JS.contains("</script"));
    }

    #[test]
    fn raw_html_is_shown_as_text_and_math_is_marked_for_katex() {
        let html = markdown_to_html("# Q2\n\nSee <script>alert(1)</script> and $a_t < b$.\n\n<div onclick=\"x()\">block</div>\n\n$$x^2$$\n");
        assert!(html.contains("<h2>Q2</h2>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;div onclick=\"x()\"&gt;block&lt;/div&gt;"), "{html}");
        assert!(!html.contains("<script") && !html.contains("<div"));
        assert!(html.contains(r#"<span class="math math-inline">a_t &lt; b</span>"#), "{html}");
        assert!(html.contains(r#"<span class="math math-display">x^2</span>"#), "{html}");
    }

    #[test]
    fn script_links_are_dropped_and_ordinary_ones_kept() {
        let html = markdown_to_html("[a](javascript:alert(1)) [b](https://symbolica.io) [c](#claim) [d](notes/x.md) [e]( JavaScript:x)");
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(html.contains(r#"href="https://symbolica.io""#) && html.contains(r##"href="#claim""##) && html.contains(r#"href="notes/x.md""#));
    }
}
