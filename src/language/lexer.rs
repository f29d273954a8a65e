//! Tokens of a derivation block. One statement per line: newlines are tokens. Unicode
//! spellings (`β`, `≤`, `→`, `·`, `−`) become their ASCII forms here, so the parser sees
//! one language.

use super::builtins::GREEK;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

use crate::diagnostic::{FileId, InputError, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Num(BigRational),
    Str(String),
    Plus,
    Minus,
    Star,
    Slash,
    /// `.*` or `⊙`: the element-wise product.
    DotStar,
    /// `./` or `⊘`: the element-wise quotient.
    DotSlash,
    Caret,
    /// `ᵀ`: always a transpose, even where a name `T` is declared.
    Transpose,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
    Arrow,
    Tilde,
    DotDot,
    Question,
    Newline,
    Eof,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num(n) => format!("`{n}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Newline => "end of line".into(),
            Tok::Eof => "end of block".into(),
            other => format!("`{}`", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::DotStar => ".*",
            Tok::DotSlash => "./",
            Tok::Caret => "^",
            Tok::Transpose => "ᵀ",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Eq => "=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Ne => "!=",
            Tok::Arrow => "->",
            Tok::Tilde => "~",
            Tok::DotDot => "..",
            Tok::Question => "?",
            _ => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Greek letters typed directly are the same names as their spelled-out forms.
fn greek(c: char) -> Option<&'static str> {
    GREEK.iter().find(|&&(letter, _)| letter == c).map(|&(_, name)| name)
}

/// Splits `code` (which starts at byte `base` of file `file`) into tokens. Brackets must
/// balance within a line; an unclosed or unmatched one is reported at its position.
pub fn lex(code: &str, file: FileId, base: usize) -> Result<Vec<Token>, Vec<InputError>> {
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut open: Vec<(char, Span)> = Vec::new();
    let mut chars = code.char_indices().peekable();
    let span = |a: usize, b: usize| Span::new(file, base + a, base + b);
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, c)| c);
        let mut push = |tok: Tok, len: usize| tokens.push(Token { tok, span: span(i, i + len) });
        match c {
            '\n' => {
                for (c, s) in open.drain(..) {
                    errors.push(unclosed(c, s));
                }
                push(Tok::Newline, 1);
            }
            c if c.is_whitespace() => {}
            '#' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
            }
            '0'..='9' => {
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    let decimal_point = d == '.' && code[j + 1..].starts_with(|c: char| c.is_ascii_digit()) && !code[i..j].contains('.');
                    if d.is_ascii_digit() || decimal_point {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token { tok: Tok::Num(decimal(&code[i..end])), span: span(i, end) });
            }
            c if (c.is_alphabetic() || c == '_') && c != 'ᵀ' => {
                if let Some(name) = greek(c) {
                    // `Δθ` would read as two names, `Delta` and `theta`: say so instead.
                    if let Some(&(j, d)) = chars.peek().filter(|&&(_, d)| d.is_alphanumeric() || d == '_') {
                        errors.push(
                            InputError::new(span(i, j + d.len_utf8()), format!("a Greek letter is a name on its own: `{c}{d}` is not one name"))
                                .help("write an ASCII name with its spelling, such as `let dtheta: scalar as \"\\Delta\\theta\"`, or put `*` between the two for a product"),
                        );
                    }
                    push(Tok::Ident(name.into()), c.len_utf8());
                    continue;
                }
                if !c.is_ascii() {
                    errors.push(
                        InputError::new(
                            span(i, i + c.len_utf8()),
                            format!(
                                "`{c}` cannot be part of a name: names are ASCII letters, digits and `_`, and a Greek letter is a name on its own"
                            ),
                        )
                        .help("give the name its LaTeX spelling with `as`, such as `let h1: vector as \"\\hat{h}\"`"),
                    );
                    continue;
                }
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if (d.is_ascii_alphanumeric() || d == '_') && d != 'ᵀ' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token { tok: Tok::Ident(code[i..end].into()), span: span(i, end) });
            }
            '"' => {
                let mut end = None;
                let mut text = String::new();
                for (j, d) in chars.by_ref() {
                    match d {
                        '"' => {
                            end = Some(j + 1);
                            break;
                        }
                        '\n' => break,
                        _ => text.push(d),
                    }
                }
                match end {
                    Some(end) => tokens.push(Token { tok: Tok::Str(text), span: span(i, end) }),
                    None => errors.push(InputError::new(span(i, i + 1), "this string is never closed").label("opened here")),
                }
            }
            '(' | '[' => {
                open.push((c, span(i, i + 1)));
                push(if c == '(' { Tok::LParen } else { Tok::LBracket }, 1);
            }
            ')' | ']' => {
                let want = if c == ')' { '(' } else { '[' };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    Some((o, s)) => {
                        errors.push(
                            InputError::new(span(i, i + 1), format!("`{c}` does not match the `{o}` before it"))
                                .label("mismatched")
                                .help(format!("the `{o}` opened at byte {} needs its own closing bracket", s.start)),
                        );
                    }
                    None => errors
                        .push(InputError::new(span(i, i + 1), format!("unbalanced parenthesis: `{c}` has no opening `{want}`")).label("unmatched")),
                }
                push(if c == ')' { Tok::RParen } else { Tok::RBracket }, 1);
            }
            '+' => push(Tok::Plus, 1),
            '-' | '−' if next == Some('>') => {
                chars.next();
                push(Tok::Arrow, c.len_utf8() + 1);
            }
            '-' | '−' => push(Tok::Minus, c.len_utf8()),
            '*' | '·' | '×' => push(Tok::Star, c.len_utf8()),
            '/' => push(Tok::Slash, 1),
            '^' => push(Tok::Caret, 1),
            'ᵀ' => push(Tok::Transpose, c.len_utf8()),
            ',' => push(Tok::Comma, 1),
            ':' => push(Tok::Colon, 1),
            '=' => push(Tok::Eq, 1),
            '~' => push(Tok::Tilde, 1),
            '?' => push(Tok::Question, 1),
            '<' if next == Some('=') => {
                chars.next();
                push(Tok::Le, 2);
            }
            '>' if next == Some('=') => {
                chars.next();
                push(Tok::Ge, 2);
            }
            '<' => push(Tok::Lt, 1),
            '>' => push(Tok::Gt, 1),
            '!' if next == Some('=') => {
                chars.next();
                push(Tok::Ne, 2);
            }
            '≠' => push(Tok::Ne, c.len_utf8()),
            '≤' => push(Tok::Le, c.len_utf8()),
            '≥' => push(Tok::Ge, c.len_utf8()),
            '→' => push(Tok::Arrow, c.len_utf8()),
            '.' if next == Some('*') => {
                chars.next();
                push(Tok::DotStar, 2);
            }
            '.' if next == Some('/') => {
                chars.next();
                push(Tok::DotSlash, 2);
            }
            '⊙' => push(Tok::DotStar, c.len_utf8()),
            '⊘' => push(Tok::DotSlash, c.len_utf8()),
            '.' if next == Some('.') => {
                chars.next();
                push(Tok::DotDot, 2);
            }
            _ => errors.push(InputError::new(span(i, i + c.len_utf8()), format!("unexpected character `{c}`"))),
        }
    }
    for (c, s) in open {
        errors.push(unclosed(c, s));
    }
    let end = span(code.len(), code.len());
    tokens.push(Token { tok: Tok::Newline, span: end });
    tokens.push(Token { tok: Tok::Eof, span: end });
    if errors.is_empty() { Ok(tokens) } else { Err(errors) }
}

fn unclosed(c: char, span: Span) -> InputError {
    let close = if c == '(' { ')' } else { ']' };
    InputError::new(span, format!("unbalanced parenthesis: `{c}` is never closed on this line"))
        .label("opened here")
        .help(format!("add the missing `{close}`; a statement ends at the end of its line"))
}

/// `0.9` is exactly 9/10.
fn decimal(text: &str) -> BigRational {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{int}{frac}").parse().unwrap_or_else(|_| BigInt::zero());
    let scale = (0..frac.len()).fold(BigInt::one(), |acc, _| acc * 10);
    BigRational::new(digits, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(code: &str) -> Vec<Tok> {
        lex(code, 0, 0).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(toks("0.9")[0], Tok::Num(BigRational::new(9.into(), 10.into())));
        assert_eq!(toks("1..20")[..3], [Tok::Num(BigRational::one()), Tok::DotDot, Tok::Num(BigRational::from_integer(20.into()))]);
    }

    #[test]
    fn unicode_spellings_become_ascii() {
        assert_eq!(toks("β ≤ δ")[..3], [Tok::Ident("beta".into()), Tok::Le, Tok::Ident("delta".into())]);
        assert_eq!(toks("Wᵀ")[..2], [Tok::Ident("W".into()), Tok::Transpose]);
    }

    #[test]
    fn unclosed_parenthesis_points_at_the_opening() {
        let errs = lex("x = (a + b\ny = 1\n", 0, 100).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].span, Span::new(0, 104, 105));
        assert!(errs[0].message.contains("never closed"));
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(toks("x # note (unclosed"), [Tok::Ident("x".into()), Tok::Newline, Tok::Eof]);
    }
}
