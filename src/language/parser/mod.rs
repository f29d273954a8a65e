//! Statements of a derivation block (`let`, `assume`, rules with their `for` binders), with
//! names resolved as they are read; proofs, checks and expressions are in the submodules.
//!
//! The parser never panics: every problem becomes an [`InputError`] at its span, the rest of
//! the line is skipped, and parsing goes on with the next line, so one run reports every error.

mod check;
mod complexity;
mod exists;
mod expr;
mod proof;

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::One;

use super::ast::*;
use super::builtins;
use super::lexer::{Tok, Token};
use crate::diagnostic::{InputError, Span};

/// The largest size of a vector or matrix dimension: the models build them entry by entry
/// (a 1000 × 1000 matrix of exact rationals is already tens of megabytes).
pub(super) const MAX_SIZE: usize = 1000;

/// Names visible at a point of a file: declarations and named rules, in order of appearance.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub decls: HashMap<String, Decl>,
    pub rules: HashMap<String, (RuleKind, Span)>,
    /// Existence, complexity and simulation claims and algorithms: named, but never cited.
    pub existences: HashMap<String, Span>,
    /// Algorithms and the rules that are their lines.
    pub algorithms: HashMap<String, Vec<String>>,
}

type PResult<T> = Result<T, InputError>;

pub struct Parser<'s> {
    toks: Vec<Token>,
    pos: usize,
    scope: &'s mut Scope,
    /// Variables bound by `for`, `sum`, or an induction, innermost last.
    locals: Vec<(String, Kind)>,
    /// Inside an induction step, `hypothesis` may be cited.
    /// The hypotheses a step may cite here: in an induction's `step:`, `hypothesis` and the
    /// names of its companion equations.
    hypotheses: Vec<String>,
    errors: Vec<InputError>,
    /// How deeply the expression being read nests.
    nesting: usize,
}

impl<'s> Parser<'s> {
    pub fn new(toks: Vec<Token>, scope: &'s mut Scope) -> Parser<'s> {
        Parser { toks, pos: 0, scope, locals: Vec::new(), hypotheses: Vec::new(), errors: Vec::new(), nesting: 0 }
    }

    /// Parses the whole block; returns its statements or every error found.
    pub fn block(mut self) -> Result<Vec<Statement>, Vec<InputError>> {
        let mut statements: Vec<Statement> = Vec::new();
        loop {
            self.skip_newlines();
            if self.at(&Tok::Eof) {
                break;
            }
            match self.statement(&mut statements) {
                Ok(Some(s)) => statements.push(s),
                Ok(None) => {}
                Err(e) => {
                    self.errors.push(e);
                    self.skip_line();
                }
            }
        }
        if self.errors.is_empty() { Ok(statements) } else { Err(self.errors) }
    }

    /// Parses text that is one expression and nothing else (a residual, to be typeset).
    pub fn lone_expr(mut self) -> Option<Expr> {
        self.skip_newlines();
        let e = self.expr().ok()?;
        self.skip_newlines();
        (self.at(&Tok::Eof) && self.errors.is_empty()).then_some(e)
    }

    // ---- token helpers ----

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].span
    }

    fn peek_span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }

    fn at_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.at_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> PResult<Span> {
        if self.at(&t) { Ok(self.bump().span) } else { Err(self.unexpected(what)) }
    }

    fn expect_word(&mut self, w: &str) -> PResult<Span> {
        if self.at_word(w) { Ok(self.bump().span) } else { Err(self.unexpected(&format!("`{w}`"))) }
    }

    fn unexpected(&self, what: &str) -> InputError {
        InputError::new(self.span(), format!("expected {what}, found {}", self.peek().describe()))
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                let span = self.bump().span;
                Ok((s, span))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn end_of_line(&mut self) -> PResult<()> {
        if self.at(&Tok::Newline) || self.at(&Tok::Eof) {
            self.eat(&Tok::Newline);
            Ok(())
        } else {
            Err(self.unexpected("end of line"))
        }
    }

    fn skip_newlines(&mut self) {
        while self.eat(&Tok::Newline) {}
    }

    fn skip_line(&mut self) {
        while !self.at(&Tok::Newline) && !self.at(&Tok::Eof) {
            self.bump();
        }
        self.eat(&Tok::Newline);
    }

    // ---- statements ----

    fn statement(&mut self, done: &mut [Statement]) -> PResult<Option<Statement>> {
        let start = self.span();
        let (word, _) = self.ident("a statement (`let`, `assume`, `def`, `given`, `lemma`, `claim`, `proof`, `check` or `witness`)")?;
        match word.as_str() {
            "let" => self.let_statement().map(|d| Some(Statement::Let(d))),
            "assume" => {
                let facts = self.facts()?;
                self.end_of_line()?;
                Ok(Some(Statement::Assume(facts, start.to(self.prev_span()))))
            }
            "claim" if matches!(self.toks.get(self.pos + 2).map(|t| &t.tok), Some(Tok::Ident(w)) if w == "exists") => {
                let (name, span) = self.new_name()?;
                self.expect(Tok::Colon, "`:` after the name")?;
                let existence = self.existence(name.clone(), start)?;
                self.scope.existences.insert(name, span);
                Ok(Some(Statement::Exists(Box::new(existence))))
            }
            "claim"
                if matches!(self.toks.get(self.pos + 2).map(|t| &t.tok), Some(Tok::Ident(w)) if w == "time" || w == "space")
                    && matches!(self.toks.get(self.pos + 3).map(|t| &t.tok), Some(Tok::LParen)) =>
            {
                let (name, span) = self.new_name()?;
                self.expect(Tok::Colon, "`:` after the name")?;
                let claim = self.complexity(name.clone(), start)?;
                self.scope.existences.insert(name, span);
                Ok(Some(Statement::Complexity(Box::new(claim))))
            }
            "claim" if self.find_on_line("where").is_some() => {
                let (name, span) = self.new_name()?;
                self.expect(Tok::Colon, "`:` after the name")?;
                let claim = self.simulation(name.clone(), start)?;
                self.scope.existences.insert(name, span);
                Ok(Some(Statement::Simulation(Box::new(claim))))
            }
            "algorithm" => self.algorithm(start).map(|a| Some(Statement::Algorithm(Box::new(a)))),
            "witness" => {
                let Some(Statement::Exists(claim)) = done.last_mut() else {
                    return Err(InputError::new(start, "a witness must follow the existence claim it shows").label("no `claim … exists` before"));
                };
                if claim.witness.is_some() {
                    return Err(InputError::new(start, format!("`{}` already has a witness", claim.name)));
                }
                let snapshot = claim.as_ref().clone();
                let witness = self.witness(&snapshot, start)?;
                if let Some(Statement::Exists(claim)) = done.last_mut() {
                    claim.witness = Some(witness);
                }
                Ok(None)
            }
            "def" | "given" | "lemma" | "claim" => {
                let kind = match word.as_str() {
                    "def" => RuleKind::Def,
                    "given" => RuleKind::Given,
                    "lemma" => RuleKind::Lemma,
                    _ => RuleKind::Claim,
                };
                self.rule(kind, start).map(|r| Some(Statement::Rule(Box::new(r))))
            }
            "proof" | "check" if matches!(done.last(), Some(Statement::Complexity(_))) => {
                Err(InputError::new(start, "a complexity claim is shown by counting: it takes no proof or check")
                    .help("state another order or another measure as a claim of its own"))
            }
            "proof" | "check" if matches!(done.last(), Some(Statement::Simulation(_))) => {
                Err(InputError::new(start, "a simulation claim is shown by the simulation its `where` states: it takes no proof or check")
                    .help("state another comparison as a claim of its own"))
            }
            "proof" | "check" if matches!(done.last(), Some(Statement::Exists(_))) => {
                Err(InputError::new(start, format!("an existence claim is shown by a `witness` line, not by a `{word}`"))
                    .help("write `witness NAME = value, …` after the claim"))
            }
            "proof" => {
                let rule = last_provable(done)
                    .ok_or_else(|| InputError::new(start, "a proof must follow the claim or lemma it proves").label("no claim before"))?;
                if rule.proof.is_some() {
                    return Err(InputError::new(start, format!("`{}` already has a proof", rule.name)));
                }
                let rule_snapshot = rule.clone();
                let proof = self.proof(&rule_snapshot, start)?;
                if let Some(rule) = last_provable(done) {
                    rule.proof = Some(proof);
                }
                Ok(None)
            }
            "check" => {
                let check = self.check(start)?;
                let rule = last_provable(done)
                    .ok_or_else(|| InputError::new(start, "a check must follow the claim it supports").label("no claim before"))?;
                // Evidence shown under a claim is evidence about that claim's statement.
                if let Check::Trajectory { relation, .. } | Check::MonteCarlo { relation, .. } = &check {
                    let canonical = |e: &Expr| super::affine::canonical_indices(e);
                    let same = |a: &Relation, b: &Relation| {
                        a.rel == b.rel && canonical(&a.lhs) == canonical(&b.lhs) && canonical(&a.rhs) == canonical(&b.rhs)
                    };
                    if !same(relation, &rule.relation) {
                        return Err(InputError::new(
                            relation.lhs.span.to(relation.rhs.span),
                            format!("this check states something other than `{}`", rule.name),
                        )
                        .label("not the claim's statement")
                        .help(format!(
                            "a check tests its claim's own statement, `{}`; state another one as a lemma with its own check",
                            super::text::relation(&rule.relation)
                        )));
                    }
                }
                rule.checks.push(check);
                Ok(None)
            }
            "qed" => Err(InputError::new(start, "`qed` without a `proof`")),
            other => Err(InputError::new(start, format!("unknown statement `{other}`"))
                .help("statements start with `let`, `assume`, `def`, `given`, `lemma`, `claim`, `proof`, `check` or `witness`")),
        }
    }

    /// `algorithm NAME [as "TITLE"] [against OTHER]: RULE, RULE, …`.
    fn algorithm(&mut self, start: Span) -> PResult<Algorithm> {
        let (name, span) = self.new_name()?;
        let title = if self.eat_word("as") {
            match self.bump() {
                Token { tok: Tok::Str(s), .. } => Some(s),
                t => return Err(InputError::new(t.span, "expected the algorithm's title in quotes after `as`")),
            }
        } else {
            None
        };
        let against = if self.eat_word("against") {
            let (other, other_span) = self.ident("the name of an algorithm above")?;
            if !self.scope.algorithms.contains_key(&other) {
                return Err(InputError::new(other_span, format!("`{other}` is not an algorithm above"))
                    .help("name the algorithm to compare with before this one"));
            }
            Some(other)
        } else {
            None
        };
        self.expect(Tok::Colon, "`:` and the definitions that are its lines")?;
        let mut rules = Vec::new();
        loop {
            let (rule, rule_span) = self.ident("the name of a `def` or `given`")?;
            match self.scope.rules.get(&rule) {
                Some((RuleKind::Def | RuleKind::Given, _)) if rules.contains(&rule) => {
                    return Err(InputError::new(rule_span, format!("`{rule}` is already a line of this algorithm")));
                }
                Some((RuleKind::Def | RuleKind::Given, _)) => rules.push(rule),
                _ => {
                    return Err(InputError::new(rule_span, format!("`{rule}` is not a `def` or `given` above"))
                        .help("an algorithm's lines are definitions stated before it"));
                }
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.end_of_line()?;
        self.scope.existences.insert(name.clone(), span);
        self.scope.algorithms.insert(name.clone(), rules.clone());
        Ok(Algorithm { name, title, against, rules, span: start.to(self.prev_span()) })
    }

    fn let_statement(&mut self) -> PResult<Vec<Decl>> {
        let mut names = vec![self.new_name()?];
        while self.eat(&Tok::Comma) {
            names.push(self.new_name()?);
        }
        self.expect(Tok::Colon, "`:` and a kind")?;
        let (kind, shape) = self.kind_spec()?;
        let latex = if self.eat_word("as") {
            match self.bump() {
                Token { tok: Tok::Str(s), span } => {
                    // The spelling reaches report.tex as written: it passes the allow-list.
                    if let Err(refused) = crate::mathtex::check(&s) {
                        let at = span.start + 1;
                        return Err(
                            InputError::new(Span::new(span.file, at + refused.at.start, at + refused.at.end), refused.message).label("refused")
                        );
                    }
                    Some(s)
                }
                t => return Err(InputError::new(t.span, "expected a LaTeX spelling in quotes after `as`")),
            }
        } else {
            None
        };
        self.end_of_line()?;
        if latex.is_some() && names.len() > 1 {
            return Err(InputError::new(names[1].1, "`as` gives one name its spelling: declare this name on its own line"));
        }
        let decls: Vec<Decl> =
            names.into_iter().map(|(name, span)| Decl { name, kind: kind.clone(), shape: shape.clone(), latex: latex.clone(), span }).collect();
        for d in &decls {
            self.scope.decls.insert(d.name.clone(), d.clone());
        }
        Ok(decls)
    }

    /// A name not yet used for anything.
    fn new_name(&mut self) -> PResult<(String, Span)> {
        let (name, span) = self.ident("a name")?;
        if builtins::reserved(&name) {
            return Err(InputError::new(span, format!("`{name}` is a reserved word of the language")).label("choose another name"));
        }
        if let Some(d) = self.scope.decls.get(&name) {
            return Err(InputError::new(span, format!("`{name}` is already declared as {}", d.kind.describe())).label("declared again"));
        }
        if self.scope.rules.contains_key(&name) || self.scope.existences.contains_key(&name) {
            return Err(InputError::new(span, format!("`{name}` already names a rule")).label("declared again"));
        }
        Ok((name, span))
    }

    fn kind_spec(&mut self) -> PResult<(Kind, Vec<String>)> {
        let (word, span) = self.ident("a kind (`scalar`, `vector`, `matrix`, `function`, `sequence`)")?;
        let kind = match word.as_str() {
            "scalar" => Kind::Scalar,
            "integer" => Kind::Integer,
            "vector" => Kind::Vector,
            "matrix" => Kind::Matrix,
            "function" => Kind::Function,
            "sequence" => {
                if self.eat_word("of") {
                    let (inner, shape) = self.kind_spec()?;
                    if matches!(inner, Kind::Sequence(_) | Kind::Function) {
                        return Err(InputError::new(span, "a sequence holds scalars, vectors or matrices"));
                    }
                    return Ok((Kind::Sequence(Box::new(inner)), shape));
                }
                Kind::Sequence(Box::new(Kind::Scalar))
            }
            other => {
                return Err(InputError::new(span, format!("unknown kind `{other}`"))
                    .help("kinds are scalar, integer, vector, matrix, function, sequence [of vector|matrix]"));
            }
        };
        let mut shape = Vec::new();
        if matches!(kind, Kind::Vector | Kind::Matrix) {
            while let Tok::Ident(_) | Tok::Num(_) = self.peek() {
                if self.at_word("as") {
                    break;
                }
                let t = self.bump();
                match t.tok {
                    Tok::Ident(s) if s == "x" && !shape.is_empty() => continue,
                    Tok::Ident(s) => shape.push(s),
                    Tok::Num(n) if !n.is_integer() || n < BigRational::one() || n > BigRational::from_integer(MAX_SIZE.into()) => {
                        return Err(InputError::new(t.span, format!("a size is a whole number from 1 to {MAX_SIZE}"))
                            .help("the models build vectors and matrices of this size"));
                    }
                    Tok::Num(n) => shape.push(n.to_string()),
                    _ => {}
                }
                self.eat(&Tok::Star);
            }
            let want = if kind == Kind::Vector { 1 } else { 2 };
            if !shape.is_empty() && shape.len() != want {
                return Err(InputError::new(self.prev_span(), format!("{} has {want} dimension(s), found {}", kind.describe(), shape.len())));
            }
        }
        Ok((kind, shape))
    }

    /// `a < b < c, d > 0`: comparison chains, split into pairwise facts.
    fn facts(&mut self) -> PResult<Vec<Fact>> {
        let mut facts = Vec::new();
        loop {
            let mut left = self.expr()?;
            let mut any = false;
            while let Some(rel) = self.relation_op() {
                let right = self.expr()?;
                facts.push(Fact { lhs: left, rel, rhs: right.clone() });
                left = right;
                any = true;
            }
            if !any {
                return Err(self.unexpected("a comparison (`<`, `<=`, `>`, `>=`, `=`)"));
            }
            if !self.eat(&Tok::Comma) {
                return Ok(facts);
            }
        }
    }

    fn relation_op(&mut self) -> Option<Rel> {
        let rel = match self.peek() {
            Tok::Eq => Rel::Eq,
            Tok::Ne => Rel::Ne,
            Tok::Le => Rel::Le,
            Tok::Lt => Rel::Lt,
            Tok::Ge => Rel::Ge,
            Tok::Gt => Rel::Gt,
            _ => return None,
        };
        self.bump();
        Some(rel)
    }

    fn rule(&mut self, kind: RuleKind, start: Span) -> PResult<Rule> {
        let (name, name_span) = self.new_name()?;
        self.expect(Tok::Colon, "`:` after the name")?;
        // `for` binders come after the relation but scope over it: read them first.
        let relation_start = self.pos;
        let for_pos = (self.pos..self.toks.len())
            .take_while(|&i| !matches!(self.toks[i].tok, Tok::Newline | Tok::Eof))
            .find(|&i| matches!(&self.toks[i].tok, Tok::Ident(s) if s == "for"));
        let (binders, conditions) = match for_pos {
            Some(p) => {
                self.pos = p + 1;
                let b = self.binders()?;
                self.end_of_line()?;
                b
            }
            None => (Vec::new(), Vec::new()),
        };
        let line_end = self.pos;
        self.pos = relation_start;
        // `X -> L as T -> inf`: `T` is an integer variable of the claim, like a binder.
        let limit = self.limit_variable(relation_start, for_pos)?;
        let (mut binders, mut conditions) = (binders, conditions);
        if let Some((var, span)) = &limit {
            if !matches!(kind, RuleKind::Claim | RuleKind::Lemma) {
                return Err(InputError::new(*span, "only a `claim` or `lemma` can state a limit").help("a limit must be proved"));
            }
            // Only where `var` is large matters: a `for` may bound it below by a constant (from
            // 0 when it does not), never above.
            let about: Vec<&Fact> = conditions.iter().filter(|c| c.lhs.mentions(var) || c.rhs.mentions(var)).collect();
            let from_below = |c: &Fact| match (&c.lhs.kind, c.rel, &c.rhs.kind) {
                (ExprKind::Name(v), Rel::Ge | Rel::Gt, _) => v == var && c.rhs.rational().is_some(),
                (_, Rel::Le | Rel::Lt, ExprKind::Name(v)) => v == var && c.lhs.rational().is_some(),
                _ => false,
            };
            if let Some(bad) = about.iter().find(|c| !from_below(c)) {
                return Err(InputError::new(
                    bad.lhs.span.to(bad.rhs.span),
                    format!("a limit as `{var}` grows can only bound `{var}` below by a number"),
                )
                .help(format!("write `for {var} >= 1`, or nothing (from 0)")));
            }
            if about.is_empty() {
                conditions.push(Fact { lhs: Expr::name(var, *span), rel: Rel::Ge, rhs: Expr::int(0, *span) });
            }
            binders.retain(|b| b.var != *var);
            binders.push(Binder { var: var.clone(), kind: Kind::Integer, span: *span });
        }
        let depth = self.locals.len();
        self.locals.extend(binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let relation = if limit.is_some() { self.limit_relation() } else { self.relation() };
        self.locals.truncate(depth);
        let relation = relation?;
        match for_pos {
            Some(p) if self.pos != p => return Err(self.unexpected("`for` or end of line")),
            None => self.end_of_line()?,
            Some(_) => self.pos = line_end,
        }
        if kind == RuleKind::Def && relation.rel != Rel::Eq {
            return Err(InputError::new(relation.lhs.span.to(relation.rhs.span), "a `def` is an equation (`=`)"));
        }
        let binders = binders
            .into_iter()
            .map(|mut b| {
                if b.kind == Kind::Scalar && (used_as_index(&relation.lhs, &b.var) || used_as_index(&relation.rhs, &b.var)) {
                    b.kind = Kind::Integer;
                }
                b
            })
            .collect();
        self.scope.rules.insert(name.clone(), (kind, name_span));
        let limit = limit.map(|(var, _)| var);
        Ok(Rule { kind, name, relation, binders, conditions, span: start.to(self.prev_span()), limit, proof: None, checks: Vec::new() })
    }

    /// The `T` of `… as T -> inf` on this line (before any `for`), if the line says one.
    fn limit_variable(&mut self, from: usize, for_pos: Option<usize>) -> PResult<Option<(String, Span)>> {
        let end = for_pos.unwrap_or_else(|| (from..self.toks.len()).find(|&i| matches!(self.toks[i].tok, Tok::Newline | Tok::Eof)).unwrap_or(from));
        let Some(at) = (from..end).find(|&i| matches!(&self.toks[i].tok, Tok::Ident(s) if s == "as")) else { return Ok(None) };
        match (&self.toks.get(at + 1).map(|t| &t.tok), self.toks.get(at + 2).map(|t| &t.tok), self.toks.get(at + 3).map(|t| &t.tok)) {
            (Some(Tok::Ident(v)), Some(Tok::Arrow), Some(Tok::Ident(inf))) if inf == "inf" && !builtins::reserved(v) => {
                Ok(Some((v.clone(), self.toks[at + 1].span)))
            }
            _ => Err(InputError::new(self.toks[at].span, "expected `as T -> inf` after a limit").help("write `X -> L as T -> inf`")),
        }
    }

    /// `X -> L as T -> inf`.
    fn limit_relation(&mut self) -> PResult<Relation> {
        let lhs = self.expr()?;
        self.expect(Tok::Arrow, "`->` (a limit: `X -> L as T -> inf`)")?;
        let rhs = self.expr()?;
        self.expect_word("as")?;
        self.bump();
        self.expect(Tok::Arrow, "`->`")?;
        self.expect_word("inf")?;
        Ok(Relation { lhs, rel: Rel::To, rhs })
    }

    /// After `for`: `t >= 1`, `i, w`, `1 <= i <= t`. Names not declared elsewhere become binders;
    /// a binder with a comparison is an integer.
    fn binders(&mut self) -> PResult<(Vec<Binder>, Vec<Fact>)> {
        let mut binders: Vec<Binder> = Vec::new();
        let mut conditions = Vec::new();
        loop {
            // Declare every new name of this item before parsing it, so `1 <= i <= t` works.
            let item_start = self.pos;
            let mut compared = false;
            while !matches!(self.peek(), Tok::Comma | Tok::Newline | Tok::Eof) {
                let t = self.bump();
                match t.tok {
                    // A built-in applied (`exp(0)`, `E[x]`) is not a new variable; a reserved name on
                    // its own cannot be one (a `for I` would read as the identity matrix).
                    Tok::Ident(s) if builtins::reserved(&s) && matches!(self.peek(), Tok::LParen | Tok::LBracket) => {}
                    Tok::Ident(s) if builtins::reserved(&s) => {
                        return Err(InputError::new(t.span, format!("`{s}` is a reserved name of the language, so it cannot be a `for` variable"))
                            .help("choose another name"));
                    }
                    Tok::Ident(s) if self.lookup(&s).is_none() && !binders.iter().any(|b| b.var == s) => {
                        binders.push(Binder { var: s, kind: Kind::Scalar, span: t.span })
                    }
                    Tok::Le | Tok::Lt | Tok::Ge | Tok::Gt | Tok::Eq | Tok::Ne => compared = true,
                    _ => {}
                }
            }
            let item_end = self.pos;
            self.pos = item_start;
            let depth = self.locals.len();
            self.locals.extend(binders.iter().map(|b| (b.var.clone(), Kind::Integer)));
            let parsed = if compared {
                self.facts_item()
            } else {
                self.expr().and_then(|e| match e.kind {
                    ExprKind::Name(_) => Ok(Vec::new()),
                    _ => Err(InputError::new(e.span, "expected a variable or a condition such as `t >= 1`")),
                })
            };
            self.locals.truncate(depth);
            let facts = parsed?;
            if self.pos != item_end {
                return Err(self.unexpected("`,` or end of line"));
            }
            for f in &facts {
                for b in binders.iter_mut() {
                    if f.lhs.mentions(&b.var) || f.rhs.mentions(&b.var) {
                        b.kind = Kind::Integer;
                    }
                }
            }
            conditions.extend(facts);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        if binders.is_empty() {
            return Err(InputError::new(self.prev_span(), "`for` introduces no new variable").help("write e.g. `for t >= 1`"));
        }
        Ok((binders, conditions))
    }

    fn facts_item(&mut self) -> PResult<Vec<Fact>> {
        let mut facts = Vec::new();
        let mut left = self.expr()?;
        while let Some(rel) = self.relation_op() {
            let right = self.expr()?;
            facts.push(Fact { lhs: left, rel, rhs: right.clone() });
            left = right;
        }
        Ok(facts)
    }

    fn relation(&mut self) -> PResult<Relation> {
        let lhs = self.expr()?;
        let rel = self.relation_op().ok_or_else(|| self.unexpected("a relation (`=`, `<=`, `<`, `>=`, `>`)"))?;
        let rhs = self.expr()?;
        Ok(Relation { lhs, rel, rhs })
    }
}

/// The last claim or lemma of the statements read so far.
fn last_provable(done: &mut [Statement]) -> Option<&mut Rule> {
    match done.last_mut() {
        Some(Statement::Rule(r)) if matches!(r.kind, RuleKind::Claim | RuleKind::Lemma) => Some(r),
        _ => None,
    }
}

fn used_as_index(e: &Expr, var: &str) -> bool {
    match &e.kind {
        ExprKind::Index(_, args) => args.iter().any(|a| a.mentions(var)) || args.iter().any(|a| used_as_index(a, var)),
        ExprKind::BigOp { lo, hi, .. } if lo.mentions(var) || hi.mentions(var) => true,
        _ => e.children().iter().any(|c| used_as_index(c, var)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::lexer::lex;

    fn parse(code: &str) -> Result<Vec<Statement>, Vec<InputError>> {
        let mut scope = Scope::default();
        Parser::new(lex(code, 0, 0)?, &mut scope).block()
    }

    fn errors(code: &str) -> Vec<String> {
        parse(code).unwrap_err().into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn a_definition_binds_its_for_variable_as_an_integer() {
        let s = parse("let beta: scalar\nlet v, g: sequence\ndef ema: v[t] = beta*v[t-1] + (1-beta)*g[t] for t >= 1\n").unwrap();
        let Statement::Rule(r) = &s[2] else { panic!() };
        assert_eq!(r.binders.len(), 1);
        assert_eq!(r.binders[0].kind, Kind::Integer);
        assert_eq!(r.conditions.len(), 1);
    }

    #[test]
    fn precedence_and_unary_minus() {
        let s = parse("let a, b: scalar\nclaim c: -a^2 = -(a^2)\n").unwrap();
        let Statement::Rule(r) = &s[1] else { panic!() };
        assert_eq!(r.relation.lhs, r.relation.rhs);
    }

    #[test]
    fn chains_attach_to_the_claim() {
        let code = "let a: scalar\nclaim c: 2*a = a + a\nproof\n  2*a = a + a\nqed\ncheck exact 5\n";
        let s = parse(code).unwrap();
        let Statement::Rule(r) = &s[1] else { panic!() };
        let Some(Proof::Chain(chain)) = &r.proof else { panic!() };
        assert_eq!(chain.steps.len(), 1);
        assert!(matches!(r.checks[0], Check::Exact { samples: 5, .. }));
    }

    #[test]
    fn every_bad_line_is_reported() {
        let errs = errors("let a: scalar\nclaim c: a = b\nclaim d: a[1] = a\nfoo\n");
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].contains("unknown name `b`"));
        assert!(errs[1].contains("not a sequence"));
        assert!(errs[2].contains("unknown statement"));
    }

    #[test]
    fn hypothesis_only_in_an_induction_step() {
        let errs = errors("let a: scalar\nclaim c: a = a\nproof\n a = a by hypothesis\nqed\n");
        assert!(errs[0].contains("unknown justification `hypothesis`"), "{errs:?}");
    }

    #[test]
    fn parser_survives_garbage() {
        for code in [
            "claim",
            "let",
            "def x: ",
            "claim c: (",
            "proof\nqed",
            "let a: scalar\nclaim c: a = a for",
            "check exact",
            ")))",
            "let a: matrix 1 x 2 x 3",
        ] {
            assert!(parse(code).is_err(), "{code}");
        }
    }
}
