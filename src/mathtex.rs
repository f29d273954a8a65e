//! The LaTeX a user may write: math in prose and `as "…"` spellings reach `report.tex` as
//! written, and a TA compiles the reports of a whole class. TeX can read and write files
//! (`\input`, `\openout`, `\write`, `\read`) and rewire itself (`\catcode`, `\def`,
//! `\csname`, `^^5c` for a backslash), so user math passes an allow-list: about the commands
//! KaTeX accepts that the report's preamble defines (amsmath, amssymb, xcolor), balanced
//! braces, no `%` comment, `#` parameter or `^^` escape. Anything else is an input error.

/// Commands taking no part in TeX's file or macro machinery, defined by the report's preamble.
#[rustfmt::skip]
const COMMANDS: &[&str] = &[
    // Greek
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi",
    "pi", "varpi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "digamma", "varkappa",
    // letters and symbols
    "ell", "hbar", "imath", "jmath", "Re", "Im", "aleph", "infty", "partial", "nabla", "forall", "exists", "nexists", "emptyset", "varnothing",
    "top", "bot", "prime", "backslash", "angle", "triangle", "Box", "surd", "checkmark", "dagger", "ddagger", "star", "ast", "circ", "bullet",
    "dots", "ldots", "cdots", "vdots", "ddots", "dotsc", "dotsb", "dotsm",
    // binary operators
    "pm", "mp", "times", "div", "cdot", "odot", "oplus", "ominus", "otimes", "oslash", "cup", "cap", "setminus", "wedge", "vee", "land", "lor",
    "lnot", "neg", "intercal", "bigcup", "bigcap", "bigoplus", "bigotimes", "bigodot", "amalg", "uplus", "sqcup", "sqcap",
    // relations
    "le", "leq", "ge", "geq", "leqslant", "geqslant", "ne", "neq", "ll", "gg", "approx", "approxeq", "sim", "simeq", "cong",
    "equiv", "propto", "in", "notin", "ni", "subset", "subseteq", "supset", "supseteq", "subsetneq", "supsetneq", "mid", "nmid", "parallel",
    "perp", "models", "vdash", "dashv", "prec", "succ", "preceq", "succeq", "lesssim", "gtrsim", "triangleq", "doteq", "asymp",
    "not", "colon",
    // arrows
    "to", "gets", "mapsto", "rightarrow", "leftarrow", "leftrightarrow", "Rightarrow", "Leftarrow", "Leftrightarrow", "longrightarrow",
    "longleftarrow", "Longrightarrow", "Longleftarrow", "longmapsto", "implies", "impliedby", "iff", "uparrow", "downarrow", "updownarrow",
    "nearrow", "searrow", "rightharpoonup", "hookrightarrow",
    // big operators and functions
    "sum", "prod", "coprod", "int", "iint", "iiint", "oint", "lim", "limsup", "liminf", "sup", "inf", "max", "min", "arg", "det", "dim",
    "exp", "log", "ln", "lg", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "coth", "ker",
    "deg", "gcd", "hom", "Pr", "mod", "bmod", "pmod", "operatorname", "limits", "nolimits",
    // delimiters
    "left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "langle",
    "rangle", "lvert", "rvert", "lVert", "rVert", "vert", "Vert", "lfloor", "rfloor", "lceil", "rceil", "lbrace", "rbrace", "lbrack",
    "rbrack",
    // structure, accents and fonts
    "frac", "dfrac", "tfrac", "cfrac", "sqrt", "binom", "dbinom", "tbinom", "overline", "underline", "overbrace", "underbrace", "overset",
    "underset", "stackrel", "hat", "widehat", "bar", "tilde", "widetilde", "vec", "dot", "ddot", "check", "breve", "acute", "grave",
    "mathring", "overrightarrow", "overleftarrow", "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathcal", "mathbb", "mathfrak",
    "boldsymbol", "pmb", "text", "textbf", "textit", "textrm", "texttt", "textsf", "emph", "displaystyle", "textstyle", "scriptstyle",
    "scriptscriptstyle", "color", "textcolor", "boxed", "phantom", "hphantom", "vphantom", "smash", "substack",
    "begin", "end", "quad", "qquad",
];

/// Environments a `\begin{…}` may open.
const ENVIRONMENTS: &[&str] = &[
    "matrix",
    "pmatrix",
    "bmatrix",
    "Bmatrix",
    "vmatrix",
    "Vmatrix",
    "smallmatrix",
    "cases",
    "aligned",
    "alignedat",
    "gathered",
    "split",
    "array",
    "subarray",
];

/// Control symbols (a backslash and one non-letter): spacing, escaped specials, line breaks.
const SYMBOLS: &str = ",;:! \\{}|_%&#$";

/// Why `math` may not reach LaTeX: a message and the byte range in `math` it blames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub at: std::ops::Range<usize>,
}

/// More open groups than this (braces, `\\left`, environments; TeX stops at 255) are refused.
const MAX_DEPTH: usize = 50;

/// Commands that typeset their argument several times (through `\\mathchoice`: four styles),
/// so that nesting them costs 4ⁿ: twenty nested `\\phantom`s hang pdflatex.
const COSTLY: &[&str] = &[
    "phantom",
    "hphantom",
    "vphantom",
    "smash",
    "boldsymbol",
    "pmb",
    "boxed",
    "text",
    "textbf",
    "textit",
    "textrm",
    "texttt",
    "textsf",
    "emph",
    "sqrt",
    "overset",
    "underset",
    "stackrel",
    "hat",
    "widehat",
    "bar",
    "tilde",
    "widetilde",
    "vec",
    "dot",
    "ddot",
    "check",
    "breve",
    "acute",
    "grave",
    "mathring",
];

/// How deeply `COSTLY` commands may nest.
const MAX_COSTLY: usize = 4;

/// Longer math than this is refused (pdflatex's line buffer is about 200 000 bytes).
const MAX_LEN: usize = 20_000;

/// Checks user math against the allow-list.
pub fn check(math: &str) -> Result<(), Refused> {
    if math.len() > MAX_LEN {
        return Err(refused(format!("math longer than {MAX_LEN} bytes"), 0..1));
    }
    let bytes = math.as_bytes();
    // Open braces: where, and whether a `COSTLY` command's argument.
    let mut braces: Vec<(usize, bool)> = Vec::new();
    // Open environments: `\\end` must close the innermost, and all must be closed.
    let mut environments: Vec<(&str, usize)> = Vec::new();
    let mut lefts: Vec<usize> = Vec::new();
    // A `COSTLY` command was just read: its argument's brace is costly.
    let mut costly_next = false;
    let mut i = 0;
    while i < bytes.len() {
        let open = braces.len() + environments.len() + lefts.len();
        if open > MAX_DEPTH {
            return Err(refused(format!("groups (braces, `\\left`, environments) nested more than {MAX_DEPTH} deep"), i..i + 1));
        }
        match bytes[i] {
            b'\\' => {
                let start = i;
                i += 1;
                let letters = bytes[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                if letters == 0 {
                    // A control symbol: one character, which may be multi-byte.
                    let Some(c) = math[i..].chars().next() else {
                        return Err(refused("a lone `\\` at the end", start..i));
                    };
                    i += c.len_utf8();
                    if !SYMBOLS.contains(c) {
                        return Err(refused(format!("`\\{c}` is not allowed in math"), start..i));
                    }
                    costly_next = false;
                    continue;
                }
                let name = &math[i..i + letters];
                i += letters;
                if !COMMANDS.contains(&name) {
                    return Err(refused(
                        format!("`\\{name}` is not a math command the report allows (commands that read or write files or define macros never are)"),
                        start..i,
                    ));
                }
                costly_next = COSTLY.contains(&name);
                match name {
                    "left" => lefts.push(start),
                    "right" if lefts.pop().is_none() => return Err(refused("a `\\right` without its `\\left`", start..i)),
                    "begin" | "end" => {
                        let rest = &math[i..];
                        let env = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map(|(e, _)| e);
                        let Some(env) = env.filter(|e| ENVIRONMENTS.contains(e)) else {
                            return Err(refused(
                                format!("`\\{name}` opens or closes only math environments ({})", ENVIRONMENTS.join(", ")),
                                start..i,
                            ));
                        };
                        if name == "begin" {
                            environments.push((env, start));
                            // An array's column spec is TeX code (`*{N}{c}` repeats, `@{…}`
                            // runs): only the plain column letters and rules.
                            if matches!(env, "array" | "subarray") {
                                let after = i + 2 + env.len();
                                let spec = math[after..].strip_prefix('{').and_then(|r| r.split_once('}')).map(|(s, _)| s);
                                if !spec.is_some_and(|s| s.chars().all(|c| matches!(c, 'l' | 'c' | 'r' | '|' | ' '))) {
                                    return Err(refused("an array's columns are written with `l`, `c`, `r` and `|` only", start..after));
                                }
                            }
                        } else if environments.pop().map(|(open, _)| open) != Some(env) {
                            return Err(refused(format!("`\\end{{{env}}}` closes no `\\begin{{{env}}}`"), start..i));
                        }
                    }
                    _ => {}
                }
            }
            b'{' => {
                braces.push((i, costly_next));
                costly_next = false;
                if braces.iter().filter(|b| b.1).count() > MAX_COSTLY {
                    return Err(refused(
                        format!(
                            "`\\text`, `\\phantom`, `\\sqrt`, accents and the like typeset their argument several times: nested more than {MAX_COSTLY} deep, they would take pdflatex hours"
                        ),
                        i..i + 1,
                    ));
                }
                i += 1;
            }
            b'}' => {
                if braces.pop().is_none() {
                    return Err(refused("a `}` that closes no `{`", i..i + 1));
                }
                i += 1;
            }
            b'%' => return Err(refused("`%` starts a TeX comment: write `\\%` for a percent sign", i..i + 1)),
            b'$' => return Err(refused("`$` leaves math mode: write `\\$` for a dollar sign", i..i + 1)),
            b'#' => return Err(refused("`#` is a macro parameter in TeX: write `\\#`", i..i + 1)),
            b'^' if bytes.get(i + 1) == Some(&b'^') => {
                return Err(refused("`^^` is TeX's character escape: write `^{…}` for a superscript", i..i + 2));
            }
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            c if c.is_ascii_control() => return Err(refused("a control character in math", i..i + 1)),
            c if !c.is_ascii() => {
                let ch = math[i..].chars().next().unwrap_or(' ');
                return Err(refused(
                    format!("`{ch}` in math: pdflatex reads only ASCII there; write the command (`\\alpha` for α)"),
                    i..i + ch.len_utf8(),
                ));
            }
            _ => {
                costly_next = false;
                i += 1;
            }
        }
    }
    if let Some((open, _)) = braces.pop() {
        return Err(refused("a `{` that is never closed", open..open + 1));
    }
    if let Some(at) = lefts.pop() {
        return Err(refused("a `\\left` without its `\\right`", at..at + 5));
    }
    match environments.pop() {
        Some((env, at)) => Err(refused(format!("`\\begin{{{env}}}` is never closed"), at..at + 6)),
        None => Ok(()),
    }
}

fn refused(message: impl Into<String>, at: std::ops::Range<usize>) -> Refused {
    Refused { message: message.into(), at }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_math_passes() {
        for math in [
            r"\frac{\partial h_t}{\partial h_{t-1}} = W \operatorname{diag}(\sigma'(h_{t-1}))",
            r"\lVert A B \rVert \le \lVert A\rVert\,\lVert B \rVert",
            r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}",
            r"\left[\begin{array}{c|cc} 1 & 0 & \$ \end{array}\right]",
            r"\mathbb{E}_{\omega \sim \mathcal{N}(0, I)}\left[e^{\omega^\top x}\right]",
            r"\text{for } t \ge 1,\; \hat{s}_t = s_t / (1-\rho_1^t) \quad 5\%",
        ] {
            assert_eq!(check(math), Ok(()), "{math}");
        }
    }

    #[test]
    fn file_and_macro_machinery_is_refused_where_it_is() {
        // Nested `\\phantom`s cost 4ⁿ in pdflatex; `\\left` opens a group without a brace.
        let phantoms = format!("{}x{}", "\\phantom{".repeat(20), "}".repeat(20));
        let lefts = format!("{}x{}", "\\left(".repeat(60), "\\right)".repeat(60));
        for (math, blamed) in [
            (r"x + \input{/etc/hostname}", r"\input"),
            (r"\text{\openout1=x.tex}", r"\openout"),
            (r"\immediate\write18{rm -rf /}", r"\immediate"),
            (r"\csname input\endcsname", r"\csname"),
            (r"\def\x{1}", r"\def"),
            (r"^^5cinput{/etc/passwd}", "^^"),
            (r"a % b", "%"),
            (r"\begin{document}", r"\begin"),
            (r"\end{verbatim}", r"\end"),
            (r"\begin{pmatrix*} a \end{pmatrix*}", r"\begin"),
            (r"\begin{array}{*{99999999}{c}} a \end{array}", r"\begin{array}"),
            (r"\begin{array}{@{\hskip1em}c} a \end{array}", r"\begin{array}"),
            (r"\begin{pmatrix} a \end{bmatrix}", r"\end"),
            (r"\begin{cases} a", r"\begin"),
            (r"\end{aligned}", r"\end"),
            (r"x$ \input", "$"),
            (r"\@input", r"\@"),
            ("a}", "}"),
            ("{a", "{"),
            (phantoms.as_str(), "{"),
            (lefts.as_str(), "("),
            (r"\left( x", r"\left"),
            (r"x \right)", r"\right"),
            ("α", "α"),
            ("a\u{7f}b", "\u{7f}"),
        ] {
            let e = check(math).expect_err(math);
            assert_eq!(&math[e.at.clone()], blamed, "{math}: {}", e.message);
        }
    }
}
