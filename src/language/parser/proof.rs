//! Proofs: chains of steps with their justifications, and induction.

use num_traits::ToPrimitive;

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::builtins;
use crate::language::lexer::Tok;

impl Parser<'_> {
    pub(super) fn proof(&mut self, claim: &Rule, start: Span) -> PResult<Proof> {
        let squeeze = self.at_word("squeeze").then(|| self.bump().span);
        match (squeeze, claim.limit.is_some()) {
            (Some(span), false) => {
                return Err(InputError::new(span, "`squeeze` proves a limit").help("state the claim as `X -> L as T -> inf`"));
            }
            (None, true) => {
                return Err(
                    InputError::new(start, "a limit is proved by `proof squeeze`").help("then a chain `lo <= X <= hi` whose ends tend to the limit")
                );
            }
            _ => {}
        }
        if self.eat_word("induction") {
            return self.induction(claim, start);
        }
        self.end_of_line()?;
        self.skip_newlines();
        let depth = self.locals.len();
        self.locals.extend(claim.binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let chain = self.chain(&["qed"], false);
        self.locals.truncate(depth);
        let chain = chain?;
        self.expect_word("qed")?;
        self.end_of_line()?;
        Ok(Proof::Chain(chain))
    }

    pub(super) fn induction(&mut self, claim: &Rule, start: Span) -> PResult<Proof> {
        self.expect_word("on")?;
        let (var, var_span) = self.ident("the induction variable")?;
        if !claim.binders.iter().any(|b| b.var == var && b.kind == Kind::Integer) {
            return Err(InputError::new(var_span, format!("`{var}` is not an integer variable of `{}`", claim.name))
                .help(format!("the claim needs `for {var} >= …`")));
        }
        self.expect_word("from")?;
        let from_tok = self.bump();
        let from = match &from_tok.tok {
            Tok::Num(n) if n.is_integer() => n.to_integer().to_i64(),
            Tok::Minus => match self.bump().tok {
                Tok::Num(n) if n.is_integer() => n.to_integer().to_i64().map(|v| -v),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| InputError::new(from_tok.span, "expected an integer where the induction starts"))?;
        let depth = self.locals.len();
        self.locals.extend(claim.binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let result = (|| {
            let header = (|| {
                let companions = if self.eat_word("with") { self.companions()? } else { Vec::new() };
                self.end_of_line()?;
                Ok(companions)
            })();
            // A proof whose first line does not read is skipped whole: its chains would read
            // as statements.
            let companions = header.inspect_err(|_| self.skip_to("qed"))?;
            self.skip_newlines();
            // With companions, each part holds one chain per equation.
            let several = !companions.is_empty();
            self.expect_word("base")?;
            self.expect(Tok::Colon, "`:` after `base`")?;
            self.skip_newlines();
            let base = self.chains(&["step"], several)?;
            self.expect_word("step")?;
            self.expect(Tok::Colon, "`:` after `step`")?;
            self.skip_newlines();
            // `hypothesis` is every equation one index earlier; a companion's name (and the
            // claim's, in its own chain after them) is that equation as its chain showed it.
            self.hypotheses = std::iter::once("hypothesis".to_string()).chain(companions.iter().map(|c| c.name.clone())).collect();
            if !companions.is_empty() {
                self.hypotheses.push(claim.name.clone());
            }
            let step = self.chains(&["qed"], several);
            self.hypotheses.clear();
            Ok((companions, base, step?))
        })();
        self.locals.truncate(depth);
        let (companions, base, step) = result?;
        self.expect_word("qed")?;
        self.end_of_line()?;
        Ok(Proof::Induction { var, from, companions, base, step, span: start })
    }

    /// Skips lines up to one that starts with `word`, which is left to the caller's recovery
    /// (it skips the line where an error stopped).
    fn skip_to(&mut self, word: &str) {
        while !self.at(&Tok::Eof) && !self.at_word(word) {
            self.skip_line();
            self.skip_newlines();
        }
    }

    /// `same_s: s[t] = S[t], same_r: r[t] = R[t]` after `with`.
    fn companions(&mut self) -> PResult<Vec<Companion>> {
        let mut out: Vec<Companion> = Vec::new();
        loop {
            let (name, span) = self.new_name()?;
            if name == "hypothesis" || out.iter().any(|c| c.name == name) {
                return Err(InputError::new(span, format!("`{name}` already names a hypothesis of this induction")).label("named again"));
            }
            self.expect(Tok::Colon, "`:` after the equation's name")?;
            let lhs = self.expr()?;
            let rel_span = self.span();
            if self.relation_op() != Some(Rel::Eq) {
                return Err(InputError::new(rel_span, "a companion of an induction is an equation (`=`)").help("`with same_s: s[t] = S[t]`"));
            }
            let rhs = self.expr()?;
            out.push(Companion { name, relation: Relation { lhs, rel: Rel::Eq, rhs }, span: span.to(self.prev_span()) });
            if !self.eat(&Tok::Comma) {
                return Ok(out);
            }
        }
    }

    /// One chain, or (`several`) chains one after another until a word of `until`: a line that
    /// starts with an expression rather than a relation starts the next chain.
    fn chains(&mut self, until: &[&str], several: bool) -> PResult<Vec<Chain>> {
        let mut out = vec![self.chain(until, several)?];
        while several && !until.iter().any(|w| self.at_word(w)) && !self.at(&Tok::Eof) {
            out.push(self.chain(until, several)?);
        }
        Ok(out)
    }

    /// Lines until one that starts with a word of `until`.
    /// A line that does not parse is reported and skipped, and the chain goes on, so that
    /// one typo gives one error (not also "`qed` without a `proof`").
    pub(super) fn chain(&mut self, until: &[&str], next_chain: bool) -> PResult<Chain> {
        let start = self.span();
        let mut steps = Vec::new();
        let first = match self.expr().and_then(|first| Ok((first, self.step_rest(start)?))) {
            Ok((first, step)) => {
                steps.push(step);
                first
            }
            Err(e) => {
                self.errors.push(e);
                self.skip_line();
                Expr::int(0, start)
            }
        };
        loop {
            self.skip_newlines();
            if until.iter().any(|w| self.at_word(w)) {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(InputError::new(start, "this proof is never closed").label("proof starts here").help("end it with `qed`"));
            }
            let line_start = self.span();
            let relation = matches!(self.peek(), Tok::Eq | Tok::Le | Tok::Lt | Tok::Ge | Tok::Gt);
            if !relation && next_chain {
                break;
            }
            if !relation {
                let e = self.unexpected("a relation starting the next step (`=`, `<=`, …) or `qed`");
                self.errors.push(e);
                self.skip_line();
                continue;
            }
            match self.step_rest(line_start) {
                Ok(step) => steps.push(step),
                Err(e) => {
                    self.errors.push(e);
                    self.skip_line();
                }
            }
        }
        let span = start.to(steps.last().map_or(start, |s| s.span));
        Ok(Chain { first, steps, span })
    }

    pub(super) fn step_rest(&mut self, line_start: Span) -> PResult<Step> {
        let rel = self.relation_op().ok_or_else(|| self.unexpected("a relation (`=`, `<=`, …)"))?;
        let rhs = self.expr()?;
        let by = if self.eat_word("by") { self.justification()? } else { Justification::Algebra };
        let span = line_start.to(self.prev_span());
        self.end_of_line()?;
        Ok(Step { rel, rhs, by, span })
    }

    pub(super) fn justification(&mut self) -> PResult<Justification> {
        if self.eat(&Tok::Question) {
            return Ok(Justification::Search);
        }
        if self.eat_word("algebra") {
            return Ok(Justification::Algebra);
        }
        let mut names = Vec::new();
        loop {
            let (name, span) = self.ident("the name of a definition, hypothesis or lemma")?;
            let known = self.scope.rules.contains_key(&name) || builtins::is_lemma(&name) || self.hypotheses.contains(&name);
            if known {
                names.push((name, span));
            } else {
                let candidates = self.scope.rules.keys().map(String::as_str).chain(builtins::LEMMAS.iter().map(|l| l.name)).chain(["algebra"]);
                let help = if self.scope.existences.contains_key(&name) {
                    format!("`{name}` is an existence, complexity or simulation claim: no step can rewrite with it")
                } else if name == "hypothesis" {
                    "`hypothesis` can be cited only in the `step:` part of an induction".to_string()
                } else if let Some(near) = closest(&name, candidates) {
                    format!("did you mean `{near}`?")
                } else {
                    format!(
                        "cite a `def`, `given`, `lemma` or earlier `claim` of this file, or a built-in lemma ({})",
                        builtins::LEMMAS.iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
                    )
                };
                // Reported, and the step read on: the rest of the proof still parses.
                self.errors.push(InputError::new(span, format!("unknown justification `{name}`")).help(help));
            }
            if !self.eat(&Tok::Comma) {
                return Ok(Justification::Rules(names));
            }
        }
    }
}

/// The candidate nearest to a misspelled `name`, if one is within two edits (and closer than
/// half its length).
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = 2.min(name.chars().count() / 2).max(1);
    candidates.map(|c| (edit_distance(name, c), c)).filter(|&(d, _)| d <= limit).min().map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
