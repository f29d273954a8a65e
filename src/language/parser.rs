//! Statements and expressions of a derivation block, with names resolved as they are read.
//!
//! The parser never panics: every problem becomes an [`InputError`] at its span, the rest of
//! the line is skipped, and parsing goes on with the next line, so one run reports every error.

use std::collections::HashMap;

use num_traits::ToPrimitive;

use super::ast::*;
use super::ast::{MonteCarloSetup, With};
use super::lexer::{Tok, Token};
use crate::diagnostic::{InputError, Span};

/// Built-in functions of expressions (not user-declarable).
/// Built-in functions of expressions (not user-declarable), with their number of arguments.
pub const BUILTIN_FUNCTIONS: &[&str] = &["exp", "sqrt", "log", "dot", "norm", "diag", "exp_elem", "softmax_row", "softmax_col"];
/// Lemmas of the built-in library, citable by name (see `check::lemmas`).
pub const BUILTIN_LEMMAS: &[&str] = &["sum", "geometric", "linearity", "gaussian_mgf", "softmax", "transpose"];
/// Named experiments of the library (`check experiment NAME(…)`).
pub const EXPERIMENTS: &[&str] = &["positive_features", "gaussian_integral"];
/// Built-in names: the all-ones vector and the identity matrix, sized by where they are used.
pub const BUILTIN_NAMES: &[&str] = &["ones", "I"];
const BIG_OPS: &[&str] = &["sum", "prod"];
const KEYWORDS: &[&str] = &["E", "let", "assume", "def", "given", "lemma", "claim", "proof", "qed", "check", "for", "by", "hypothesis", "algebra"];

/// Names visible at a point of a file: declarations and named rules, in order of appearance.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub decls: HashMap<String, Decl>,
    pub rules: HashMap<String, (RuleKind, Span)>,
}

type PResult<T> = Result<T, InputError>;

pub struct Parser<'s> {
    toks: Vec<Token>,
    pos: usize,
    scope: &'s mut Scope,
    /// Variables bound by `for`, `sum`, or an induction, innermost last.
    locals: Vec<(String, Kind)>,
    /// Inside an induction step, `hypothesis` may be cited.
    hypothesis_allowed: bool,
    errors: Vec<InputError>,
}

impl<'s> Parser<'s> {
    pub fn new(toks: Vec<Token>, scope: &'s mut Scope) -> Parser<'s> {
        Parser { toks, pos: 0, scope, locals: Vec::new(), hypothesis_allowed: false, errors: Vec::new() }
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
        let (word, _) = self.ident("a statement (`let`, `assume`, `def`, `given`, `lemma`, `claim`, `proof` or `check`)")?;
        match word.as_str() {
            "let" => self.let_statement().map(|d| Some(Statement::Let(d))),
            "assume" => {
                let facts = self.facts()?;
                self.end_of_line()?;
                Ok(Some(Statement::Assume(facts, start.to(self.prev_span()))))
            }
            "def" | "given" | "lemma" | "claim" => {
                let kind = match word.as_str() {
                    "def" => RuleKind::Def,
                    "given" => RuleKind::Given,
                    "lemma" => RuleKind::Lemma,
                    _ => RuleKind::Claim,
                };
                self.rule(kind, start).map(|r| Some(Statement::Rule(r)))
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
                rule.checks.push(check);
                Ok(None)
            }
            "qed" => Err(InputError::new(start, "`qed` without a `proof`")),
            other => Err(InputError::new(start, format!("unknown statement `{other}`"))
                .help("statements start with `let`, `assume`, `def`, `given`, `lemma`, `claim`, `proof` or `check`")),
        }
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
                Token { tok: Tok::Str(s), .. } => Some(s),
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
        if KEYWORDS.contains(&name.as_str())
            || BUILTIN_FUNCTIONS.contains(&name.as_str())
            || BUILTIN_NAMES.contains(&name.as_str())
            || BUILTIN_LEMMAS.contains(&name.as_str())
            || BIG_OPS.contains(&name.as_str())
        {
            return Err(InputError::new(span, format!("`{name}` is a reserved word of the language")).label("choose another name"));
        }
        if let Some(d) = self.scope.decls.get(&name) {
            return Err(InputError::new(span, format!("`{name}` is already declared as {}", d.kind.describe())).label("declared again"));
        }
        if self.scope.rules.contains_key(&name) {
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
        let depth = self.locals.len();
        self.locals.extend(binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let relation = self.relation();
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
        Ok(Rule { kind, name, relation, binders, conditions, span: start.to(self.prev_span()), proof: None, checks: Vec::new() })
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
                    Tok::Ident(s) if self.lookup(&s).is_none() && !binders.iter().any(|b| b.var == s) => {
                        if KEYWORDS.contains(&s.as_str()) {
                            return Err(InputError::new(t.span, format!("`{s}` is a reserved word")));
                        }
                        binders.push(Binder { var: s, kind: Kind::Scalar, span: t.span })
                    }
                    Tok::Le | Tok::Lt | Tok::Ge | Tok::Gt | Tok::Eq => compared = true,
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

    // ---- proofs ----

    fn proof(&mut self, claim: &Rule, start: Span) -> PResult<Proof> {
        if self.eat_word("induction") {
            return self.induction(claim, start);
        }
        self.end_of_line()?;
        let depth = self.locals.len();
        self.locals.extend(claim.binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let chain = self.chain(&["qed"]);
        self.locals.truncate(depth);
        let chain = chain?;
        self.expect_word("qed")?;
        self.end_of_line()?;
        Ok(Proof::Chain(chain))
    }

    fn induction(&mut self, claim: &Rule, start: Span) -> PResult<Proof> {
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
        self.end_of_line()?;
        self.skip_newlines();
        let depth = self.locals.len();
        self.locals.extend(claim.binders.iter().map(|b| (b.var.clone(), b.kind.clone())));
        let result = (|| {
            self.expect_word("base")?;
            self.expect(Tok::Colon, "`:` after `base`")?;
            self.skip_newlines();
            let base = self.chain(&["step"])?;
            self.expect_word("step")?;
            self.expect(Tok::Colon, "`:` after `step`")?;
            self.skip_newlines();
            self.hypothesis_allowed = true;
            let step = self.chain(&["qed"]);
            self.hypothesis_allowed = false;
            Ok((base, step?))
        })();
        self.locals.truncate(depth);
        let (base, step) = result?;
        self.expect_word("qed")?;
        self.end_of_line()?;
        Ok(Proof::Induction { var, from, base, step, span: start })
    }

    /// Lines until one that starts with a word of `until`.
    fn chain(&mut self, until: &[&str]) -> PResult<Chain> {
        let start = self.span();
        let first = self.expr()?;
        let mut steps = vec![self.step_rest(start)?];
        loop {
            self.skip_newlines();
            if until.iter().any(|w| self.at_word(w)) {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(InputError::new(start, "this proof is never closed").label("proof starts here").help("end it with `qed`"));
            }
            let line_start = self.span();
            if !matches!(self.peek(), Tok::Eq | Tok::Le | Tok::Lt | Tok::Ge | Tok::Gt) {
                return Err(self.unexpected("a relation starting the next step (`=`, `<=`, …) or `qed`"));
            }
            steps.push(self.step_rest(line_start)?);
        }
        let span = start.to(steps.last().map_or(start, |s| s.span));
        Ok(Chain { first, steps, span })
    }

    fn step_rest(&mut self, line_start: Span) -> PResult<Step> {
        let rel = self.relation_op().ok_or_else(|| self.unexpected("a relation (`=`, `<=`, …)"))?;
        let rhs = self.expr()?;
        let by = if self.eat_word("by") { self.justification()? } else { Justification::Algebra };
        let span = line_start.to(self.prev_span());
        self.end_of_line()?;
        Ok(Step { rel, rhs, by, span })
    }

    fn justification(&mut self) -> PResult<Justification> {
        if self.eat(&Tok::Question) {
            return Ok(Justification::Search);
        }
        if self.eat_word("algebra") {
            return Ok(Justification::Algebra);
        }
        let mut names = Vec::new();
        loop {
            let (name, span) = self.ident("the name of a definition, hypothesis or lemma")?;
            let known =
                self.scope.rules.contains_key(&name) || BUILTIN_LEMMAS.contains(&name.as_str()) || (name == "hypothesis" && self.hypothesis_allowed);
            if !known {
                let help = if name == "hypothesis" {
                    "`hypothesis` can be cited only in the `step:` part of an induction".to_string()
                } else {
                    format!("cite a `def`, `given`, `lemma` or earlier `claim` of this file, or a built-in lemma ({})", BUILTIN_LEMMAS.join(", "))
                };
                return Err(InputError::new(span, format!("unknown justification `{name}`")).help(help));
            }
            names.push((name, span));
            if !self.eat(&Tok::Comma) {
                return Ok(Justification::Rules(names));
            }
        }
    }

    // ---- checks ----

    fn check(&mut self, start: Span) -> PResult<Check> {
        let (word, span) = self.ident("a check (`exact`, `trajectory`, `unroll`, `montecarlo`, `cost` or `experiment`)")?;
        match word.as_str() {
            "exact" => {
                let samples = self.small_int("the number of instantiations")?.max(1) as usize;
                let with = self.with_clause()?;
                self.end_of_line()?;
                Ok(Check::Exact { samples, with, span: start.to(self.prev_span()) })
            }
            "trajectory" => {
                // `for t in A..B` scopes over the relation, as in rules.
                let rel_start = self.pos;
                let for_pos = self.find_on_line("for").ok_or_else(|| self.unexpected("`for t in A..B` on this line"))?;
                self.pos = for_pos + 1;
                let (var, from, to) = self.range()?;
                let control = if self.eat_word("control") { Some(self.ident("the name of a `given` to perturb")?) } else { None };
                if let Some((name, span)) = &control {
                    if !matches!(self.scope.rules.get(name), Some((RuleKind::Given, _))) {
                        return Err(InputError::new(*span, format!("`{name}` is not a `given` of this file"))
                            .help("the control run perturbs the coefficient a `given` fixes"));
                    }
                }
                let float = self.eat_word("float");
                let with = self.with_clause()?;
                self.end_of_line()?;
                let after = self.pos;
                self.pos = rel_start;
                let relation = self.with_local(&var, |p| p.relation())?;
                if self.pos != for_pos {
                    return Err(self.unexpected("`for`"));
                }
                if relation.rel != Rel::Eq {
                    return Err(InputError::new(relation.lhs.span, "a trajectory check compares two sequences with `=`"));
                }
                self.pos = after;
                Ok(Check::Trajectory { relation, var, from, to, control, float, with, span: start.to(span) })
            }
            "unroll" => {
                let (var, from, to) = self.range()?;
                self.end_of_line()?;
                Ok(Check::Unroll { var, from, to, span: start.to(self.prev_span()) })
            }
            "cost" => {
                let (var, from, to) = self.range()?;
                let with = self.with_clause()?;
                self.end_of_line()?;
                Ok(Check::Cost { var, from, to, with, span: start.to(self.prev_span()) })
            }
            "montecarlo" => self.montecarlo(start),
            "experiment" => {
                let (name, name_span) = self.ident("the experiment's name")?;
                if !EXPERIMENTS.contains(&name.as_str()) {
                    return Err(
                        InputError::new(name_span, format!("unknown experiment `{name}`")).help(format!("experiments: {}", EXPERIMENTS.join(", ")))
                    );
                }
                self.expect(Tok::LParen, "`(`")?;
                let mut args = Vec::new();
                while !self.eat(&Tok::RParen) {
                    let (key, _) = self.ident("a parameter name")?;
                    self.expect(Tok::Eq, "`=`")?;
                    args.push((key, self.expr()?));
                    if !self.eat(&Tok::Comma) {
                        self.expect(Tok::RParen, "`)`")?;
                        break;
                    }
                }
                self.end_of_line()?;
                Ok(Check::Experiment { name, args, span: start.to(self.prev_span()) })
            }
            other => Err(InputError::new(span, format!("unknown check `{other}`"))
                .help("checks are `exact N`, `trajectory`, `unroll`, `montecarlo`, `cost` and `experiment`")),
        }
    }

    fn find_on_line(&self, word: &str) -> Option<usize> {
        (self.pos..self.toks.len())
            .take_while(|&i| !matches!(self.toks[i].tok, Tok::Newline | Tok::Eof))
            .find(|&i| matches!(&self.toks[i].tok, Tok::Ident(s) if s == word))
    }

    fn with_local<T>(&mut self, var: &str, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.locals.push((var.to_string(), Kind::Integer));
        let out = f(self);
        self.locals.pop();
        out
    }

    /// `t in A..B`
    fn range(&mut self) -> PResult<(String, i64, i64)> {
        let (var, _) = self.ident("a variable")?;
        self.expect_word("in")?;
        let from_span = self.span();
        let from = self.small_int("the first value")?;
        self.expect(Tok::DotDot, "`..`")?;
        let to = self.small_int("the last value")?;
        if to < from {
            return Err(InputError::new(from_span.to(self.prev_span()), "this range is empty"));
        }
        Ok((var, from, to))
    }

    /// `[with n = 5, d = 3, sigma = tanh]`
    fn with_clause(&mut self) -> PResult<With> {
        let mut with = With::default();
        if !self.eat_word("with") {
            return Ok(with);
        }
        loop {
            let (name, _) = self.ident("a dimension or function name")?;
            self.expect(Tok::Eq, "`=`")?;
            match self.peek().clone() {
                Tok::Ident(f) => {
                    if self.lookup(&name) != Some(Kind::Function) {
                        return Err(InputError::new(self.span(), format!("`{name}` is not a declared function")));
                    }
                    self.bump();
                    with.functions.push((name, f));
                }
                _ => {
                    let size = self.small_int("a size")?;
                    if size < 1 {
                        return Err(InputError::new(self.prev_span(), "a size is at least 1"));
                    }
                    with.sizes.push((name, size as usize));
                }
            }
            if !self.eat(&Tok::Comma) {
                return Ok(with);
            }
        }
    }

    fn montecarlo(&mut self, start: Span) -> PResult<Check> {
        let where_pos = self.find_on_line("where").ok_or_else(|| self.unexpected("`where …` with the distributions on this line"))?;
        let rel_start = self.pos;
        self.pos = where_pos + 1;
        let mut setup = MonteCarloSetup { draws: Vec::new(), values: Vec::new(), range: None, samples: 10_000 };
        loop {
            let (name, name_span) =
                self.ident("a distribution (`g[i] ~ Normal(m, s)`), a value (`beta = 9/10`), a range (`t in 1..30`) or `samples N`")?;
            if name == "samples" {
                setup.samples = self.small_int("the number of samples")?.max(2) as usize;
            } else if self.at_word("in") {
                self.pos -= 1;
                setup.range = Some(self.range()?);
            } else if self.eat(&Tok::Eq) {
                if self.lookup(&name).is_none() {
                    return Err(InputError::new(name_span, format!("unknown name `{name}`")).help("give values to declared scalars"));
                }
                let value = self.expr()?;
                setup.values.push((name, value));
            } else {
                if self.lookup(&name).is_none() {
                    return Err(InputError::new(name_span, format!("unknown name `{name}`")));
                }
                if self.eat(&Tok::LBracket) {
                    let (_, _) = self.ident("an index variable")?;
                    self.expect(Tok::RBracket, "`]`")?;
                }
                let (mean, sd) = self.distribution("Normal", "use `Normal(mean, standard deviation)`")?;
                setup.draws.push((name, mean, sd));
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.end_of_line()?;
        let after = self.pos;
        self.pos = rel_start;
        let relation = match &setup.range {
            Some((var, ..)) => {
                let var = var.clone();
                self.with_local(&var, |p| p.relation())?
            }
            None => self.relation()?,
        };
        if self.pos != where_pos {
            return Err(self.unexpected("`where`"));
        }
        if setup.draws.is_empty() {
            return Err(InputError::new(start, "a Monte Carlo check needs at least one distribution, e.g. `g[i] ~ Normal(0, 1)`"));
        }
        self.pos = after;
        Ok(Check::MonteCarlo { relation, setup, span: start.to(self.toks[after.saturating_sub(2)].span) })
    }

    fn small_int(&mut self, what: &str) -> PResult<i64> {
        let t = self.bump();
        match &t.tok {
            Tok::Num(n) if n.is_integer() => n.to_integer().to_i64().filter(|v| v.abs() <= 1_000_000),
            _ => None,
        }
        .ok_or_else(|| InputError::new(t.span, format!("expected {what} (a whole number)")))
    }

    // ---- expressions ----

    fn lookup(&self, name: &str) -> Option<Kind> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, k)| k.clone()).or_else(|| self.scope.decls.get(name).map(|d| d.kind.clone()))
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.term()?;
            left = Expr::bin(op, left, right);
        }
    }

    fn term(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = Expr::bin(op, left, right);
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.at(&Tok::Minus) {
            let start = self.bump().span;
            let inner = self.unary()?;
            let span = start.to(inner.span);
            return Ok(Expr::new(ExprKind::Neg(Box::new(inner)), span));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if !self.eat(&Tok::Caret) {
            return Ok(base);
        }
        // `A^T` is a transpose unless `T` is a declared name.
        if self.at_word("T") && self.lookup("T").is_none() {
            let end = self.bump().span;
            let span = base.span.to(end);
            return Ok(Expr::new(ExprKind::Transpose(Box::new(base)), span));
        }
        let exponent = if self.at(&Tok::Minus) {
            let start = self.bump().span;
            let inner = self.power()?;
            let span = start.to(inner.span);
            Expr::new(ExprKind::Neg(Box::new(inner)), span)
        } else {
            self.power()?
        };
        Ok(Expr::bin(BinOp::Pow, base, exponent))
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let t = self.bump();
        match t.tok {
            Tok::Num(n) => Ok(Expr::num(n, t.span)),
            Tok::LParen => {
                let inner = self.expr()?;
                let end = self.expect(Tok::RParen, "`)`")?;
                Ok(Expr::new(inner.kind, t.span.to(end)))
            }
            Tok::Ident(name) => self.named(name, t.span),
            _ => Err(InputError::new(t.span, format!("expected an expression, found {}", t.tok.describe()))),
        }
    }

    fn named(&mut self, name: String, span: Span) -> PResult<Expr> {
        if self.at(&Tok::LParen) && BIG_OPS.contains(&name.as_str()) {
            return self.big_op(&name, span);
        }
        if name == "E" && self.lookup("E").is_none() {
            return self.expectation(span);
        }
        let kind = self.lookup(&name);
        if kind.is_none() && BUILTIN_NAMES.contains(&name.as_str()) && !self.at(&Tok::LParen) && !self.at(&Tok::LBracket) {
            return Ok(Expr::name(&name, span));
        }
        if self.at(&Tok::LParen) {
            let callable = BUILTIN_FUNCTIONS.contains(&name.as_str()) || kind == Some(Kind::Function);
            if !callable {
                let what = kind.map_or("not declared".to_string(), |k| format!("{}, not a function", k.describe()));
                return Err(InputError::new(span, format!("`{name}` is {what}")).help(format!("declare it with `let {name}: function`")));
            }
            self.bump();
            let args = self.args(Tok::RParen)?;
            let end = self.prev_span();
            let want = if name == "dot" { 2 } else { 1 };
            if BUILTIN_FUNCTIONS.contains(&name.as_str()) && args.len() != want {
                return Err(InputError::new(span.to(end), format!("`{name}` takes {want} argument(s), found {}", args.len())));
            }
            return Ok(Expr::new(ExprKind::Call(name, args), span.to(end)));
        }
        if self.at(&Tok::LBracket) {
            if !matches!(kind, Some(Kind::Sequence(_))) {
                let what = kind.map_or("not declared".to_string(), |k| format!("{}, not a sequence", k.describe()));
                return Err(InputError::new(span, format!("`{name}` is {what}")).help(format!("declare it with `let {name}: sequence` to index it")));
            }
            self.bump();
            let args = self.args(Tok::RBracket)?;
            if args.len() != 1 {
                return Err(InputError::new(span.to(self.prev_span()), "a sequence takes exactly one index"));
            }
            let end = self.prev_span();
            return Ok(Expr::new(ExprKind::Index(name, args), span.to(end)));
        }
        match kind {
            None => Err(InputError::new(span, format!("unknown name `{name}`"))
                .label("not declared")
                .help(format!("declare it first, e.g. `let {name}: scalar`, or bind it with `for`"))),
            Some(Kind::Sequence(_)) => Err(InputError::new(span, format!("`{name}` is a sequence: use it with an index, `{name}[t]`"))),
            Some(Kind::Function) => Err(InputError::new(span, format!("`{name}` is a function: apply it, `{name}(x)`"))),
            Some(_) => Ok(Expr::name(&name, span)),
        }
    }

    fn args(&mut self, close: Tok) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat(&close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(&close) {
                return Ok(args);
            }
            self.expect(Tok::Comma, &format!("`,` or {}", close.describe()))?;
        }
    }

    /// `~ NAME(a, b)`: a distribution with its two parameters.
    fn distribution(&mut self, name: &str, help: &str) -> PResult<(Expr, Expr)> {
        self.expect(Tok::Tilde, "`~`")?;
        let (dist, dist_span) = self.ident("a distribution")?;
        if dist != name {
            return Err(InputError::new(dist_span, format!("unknown distribution `{dist}`")).help(help));
        }
        self.expect(Tok::LParen, "`(`")?;
        let a = self.expr()?;
        self.expect(Tok::Comma, "`,`")?;
        let b = self.expr()?;
        self.expect(Tok::RParen, "`)`")?;
        Ok((a, b))
    }

    /// `E[body]`, or `E(x ~ N(mean, cov))[body]` with `x` a Gaussian vector bound in `body`.
    fn expectation(&mut self, span: Span) -> PResult<Expr> {
        let mut gaussian = None;
        if self.eat(&Tok::LParen) {
            let (var, var_span) = self.ident("the random variable")?;
            if self.lookup(&var).is_some() {
                return Err(InputError::new(var_span, format!("`{var}` is already in use: pick a fresh name for the random variable")));
            }
            let (mean, cov) = self.distribution("N", "write `N(0, I)`")?;
            self.expect(Tok::RParen, "`)`")?;
            gaussian = Some((var, Box::new(mean), Box::new(cov)));
        }
        if !self.eat(&Tok::LBracket) {
            return Err(self.unexpected("`[` opening the expectation, as in `E[x]`"));
        }
        if let Some((var, ..)) = &gaussian {
            self.locals.push((var.clone(), Kind::Vector));
        }
        let body = self.expr();
        if gaussian.is_some() {
            self.locals.pop();
        }
        let body = body?;
        let end = self.expect(Tok::RBracket, "`]` closing the expectation")?;
        Ok(Expr::new(ExprKind::Expect { gaussian, body: Box::new(body) }, span.to(end)))
    }

    /// `sum(i, lo, hi, body)`: `i` is bound in `body` only.
    fn big_op(&mut self, name: &str, span: Span) -> PResult<Expr> {
        self.bump();
        let (var, var_span) = self.ident("the summation variable")?;
        if self.lookup(&var).is_some() {
            return Err(InputError::new(var_span, format!("`{var}` is already in use: pick a fresh summation variable")));
        }
        self.expect(Tok::Comma, "`,`")?;
        let lo = self.expr()?;
        self.expect(Tok::Comma, "`,`")?;
        let hi = self.expr()?;
        self.expect(Tok::Comma, "`,`")?;
        self.locals.push((var.clone(), Kind::Integer));
        let body = self.expr();
        self.locals.pop();
        let body = body?;
        let end = self.expect(Tok::RParen, "`)` closing the sum")?;
        let op = if name == "sum" { BigOp::Sum } else { BigOp::Prod };
        Ok(Expr::new(ExprKind::BigOp { op, var, lo: Box::new(lo), hi: Box::new(hi), body: Box::new(body) }, span.to(end)))
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
