//! `check` lines: the evidence requested for the claim just before.

use num_traits::ToPrimitive;

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::lexer::Tok;

/// The largest size a cost check evaluates at: one product of two such matrices is about
/// 10^8 multiply-adds.
const MAX_COST_SIZE: i64 = 512;

/// The most values a range steps through after its first: every one is a full evaluation
/// (an exact trajectory at 1000 steps takes about a second).
const MAX_RANGE: i64 = 1000;

impl Parser<'_> {
    pub(super) fn check(&mut self, start: Span) -> PResult<Check> {
        let (word, span) = self.ident("a check (`exact`, `trajectory`, `unroll`, `montecarlo`, `rate`, `cost` or `derivative`)")?;
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
                if let Some((name, span)) = &control
                    && !matches!(self.scope.rules.get(name), Some((RuleKind::Given, _)))
                {
                    return Err(InputError::new(*span, format!("`{name}` is not a `given` of this file"))
                        .help("the control run perturbs the coefficient a `given` fixes"));
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
                if matches!(relation.rel, Rel::Ne | Rel::To) {
                    return Err(InputError::new(relation.lhs.span, "a trajectory check compares two sequences with `=`, `<=`, `<`, `>=` or `>`"));
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
                // A side is evaluated with matrices of every size in the range.
                if to > MAX_COST_SIZE {
                    return Err(InputError::new(start.to(self.prev_span()), format!("a cost check counts at sizes up to {MAX_COST_SIZE}"))
                        .help("the counts at the sizes up to that show how they grow"));
                }
                let with = self.with_clause()?;
                self.end_of_line()?;
                Ok(Check::Cost { var, from, to, with, span: start.to(self.prev_span()) })
            }
            "montecarlo" => self.montecarlo(start),
            "rate" => self.rate(start),
            "derivative" => {
                let rel_start = self.pos;
                let for_pos = self.find_on_line("for").ok_or_else(|| self.unexpected("`for t in A..B` on this line"))?;
                self.pos = for_pos + 1;
                let (var, from, to) = self.range()?;
                let with = self.with_clause()?;
                self.end_of_line()?;
                let after = self.pos;
                self.pos = rel_start;
                let (jacobian, of, by) = self.with_local(&var, |p| {
                    let jacobian = p.expr()?;
                    p.expect(Tok::Eq, "`=` (`J[t] = d(h[t])/d(h[0])`)")?;
                    let of = p.differential()?;
                    p.expect(Tok::Slash, "`/`")?;
                    let by = p.differential()?;
                    Ok((jacobian, of, by))
                })?;
                if self.pos != for_pos {
                    return Err(self.unexpected("`for`"));
                }
                let at_number = |e: &Expr| match &e.kind {
                    ExprKind::Name(_) => true,
                    ExprKind::Index(_, args) => args.iter().all(|a| a.rational().is_some()),
                    _ => false,
                };
                if !at_number(&by) {
                    return Err(InputError::new(by.span, "differentiate with respect to a name or a sequence element at a number (`h[0]`)"));
                }
                self.pos = after;
                Ok(Check::Derivative { jacobian, of, by, var, from, to, with, span: start.to(span) })
            }
            other => Err(InputError::new(span, format!("unknown check `{other}`"))
                .help("checks are `exact N`, `trajectory`, `unroll`, `montecarlo`, `rate`, `cost` and `derivative`")),
        }
    }

    pub(super) fn find_on_line(&self, word: &str) -> Option<usize> {
        (self.pos..self.toks.len())
            .take_while(|&i| !matches!(self.toks[i].tok, Tok::Newline | Tok::Eof))
            .find(|&i| matches!(&self.toks[i].tok, Tok::Ident(s) if s == word))
    }

    pub(super) fn with_local<T>(&mut self, var: &str, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.locals.push((var.to_string(), Kind::Integer));
        let out = f(self);
        self.locals.pop();
        out
    }

    /// `t in A..B`
    pub(super) fn range(&mut self) -> PResult<(String, i64, i64)> {
        let (var, _) = self.ident("a variable")?;
        self.expect_word("in")?;
        let from_span = self.span();
        let from = self.small_int("the first value")?;
        self.expect(Tok::DotDot, "`..`")?;
        let to = self.small_int("the last value")?;
        if to < from {
            return Err(InputError::new(from_span.to(self.prev_span()), "this range is empty"));
        }
        if to - from > MAX_RANGE {
            return Err(InputError::new(from_span.to(self.prev_span()), format!("a check's range holds at most {} values", MAX_RANGE + 1))
                .help("check a shorter stretch, or a far one on its own (`t in 5000..5010`)"));
        }
        Ok((var, from, to))
    }

    /// `[with n = 5, d = 3, sigma = tanh]`
    pub(super) fn with_clause(&mut self) -> PResult<With> {
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
                    if crate::language::builtins::concrete(&f).is_none() {
                        let known: Vec<&str> = crate::language::builtins::CONCRETE.iter().map(|c| c.name).collect();
                        return Err(InputError::new(self.span(), format!("`{f}` is not a concrete function"))
                            .help(format!("the concrete functions are {}", known.join(", "))));
                    }
                    self.bump();
                    with.functions.push((name, f));
                }
                _ => {
                    let size = self.small_int("a size")?;
                    if !(1..=super::MAX_SIZE as i64).contains(&size) {
                        return Err(InputError::new(self.prev_span(), format!("a size is a whole number from 1 to {}", super::MAX_SIZE))
                            .help("the models build vectors and matrices of this size"));
                    }
                    with.sizes.push((name, size as usize));
                }
            }
            if !self.eat(&Tok::Comma) {
                return Ok(with);
            }
        }
    }

    pub(super) fn montecarlo(&mut self, start: Span) -> PResult<Check> {
        let (relation, setup, end) = self.relation_where(start, "a Monte Carlo check")?;
        Ok(Check::MonteCarlo { relation, setup, span: start.to(end) })
    }

    /// `E[X] > E[Y] where xi[t] ~ Normal(0, 1), …`: a simulation claim after its name.
    pub(super) fn simulation(&mut self, name: String, start: Span) -> PResult<Simulation> {
        let (relation, setup, end) = self.relation_where(start, "a simulation claim")?;
        for side in [&relation.lhs, &relation.rhs] {
            if !side.has_expectation() {
                return Err(InputError::new(side.span, "each side of a simulation claim is an expectation `E[…]` (a number would be `E[2]`)")
                    .help("a simulation claim compares what the stated distributions make of the file's definitions on average"));
            }
        }
        Ok(Simulation { name, relation, setup, span: start.to(end) })
    }

    /// `LHS REL RHS where DRAWS` to the end of the line; the relation, the draws and the end
    /// of the relation's span.
    fn relation_where(&mut self, start: Span, what: &str) -> PResult<(Relation, MonteCarloSetup, Span)> {
        let where_pos = self.find_on_line("where").ok_or_else(|| self.unexpected("`where …` with the distributions on this line"))?;
        let rel_start = self.pos;
        self.pos = where_pos + 1;
        let setup = self.draws_clause()?;
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
            return Err(InputError::new(start, format!("{what} needs at least one distribution, e.g. `g[i] ~ Normal(0, 1)`")));
        }
        self.pos = after;
        Ok((relation, setup, self.toks[after.saturating_sub(2)].span))
    }

    /// `check rate ERR ~ m^(-1/2) for m in 1, 4, 16 where omega[j] ~ Normal(0, 1), samples N`.
    fn rate(&mut self, start: Span) -> PResult<Check> {
        let for_pos = self.find_on_line("for").ok_or_else(|| self.unexpected("`for m in 1, 4, 16, …` on this line"))?;
        let where_pos = self.find_on_line("where").ok_or_else(|| self.unexpected("`where …` with the distributions on this line"))?;
        let err_start = self.pos;
        self.pos = for_pos + 1;
        let (var, var_span) = self.ident("the variable of the sweep")?;
        let dimension = self.scope.decls.values().any(|d| d.shape.contains(&var));
        if self.lookup(&var).is_some() || dimension {
            return Err(InputError::new(
                var_span,
                format!("`{var}` is already {}: a sweep's variable is a new name", if dimension { "a dimension" } else { "declared" }),
            )
            .help("the sweep sets it at each of its values; choose a name the file does not use"));
        }
        self.expect_word("in")?;
        let mut values = Vec::new();
        loop {
            let at = self.span();
            let v = self.int_within("a value of the sweep", 1, 100_000)?;
            if values.last().is_some_and(|last| v <= *last) {
                return Err(InputError::new(at, "the values of a sweep must increase"));
            }
            values.push(v);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        if self.pos != where_pos {
            return Err(self.unexpected("`,` or `where` (the values of a sweep are whole numbers)"));
        }
        if values.len() < 3 {
            return Err(InputError::new(start, "a sweep needs three values at least, to fit a slope"));
        }
        self.pos = where_pos + 1;
        let setup = self.draws_clause()?;
        if setup.range.is_some() {
            return Err(InputError::new(start, "a sweep's values come after `for`; `where` gives distributions, values and `samples`"));
        }
        if setup.draws.is_empty() {
            return Err(InputError::new(start, "a rate check needs at least one distribution, e.g. `omega[j] ~ Normal(0, 1)`"));
        }
        let after = self.pos;
        self.pos = err_start;
        let (error, rate) = self.with_local(&var, |p| {
            let error = p.expr()?;
            p.expect(Tok::Tilde, "`~` and the rate (`m^(-1/2)`)")?;
            let (v, v_span) = p.ident("the variable of the sweep")?;
            if v != var {
                return Err(InputError::new(v_span, format!("the rate is a power of `{var}`, the variable of the sweep")));
            }
            p.expect(Tok::Caret, "`^`")?;
            let exponent = p.expr()?;
            let rate = exponent.rational().ok_or_else(|| InputError::new(exponent.span, "the exponent of a rate is a number"))?;
            Ok((error, rate))
        })?;
        if self.pos != for_pos {
            return Err(self.unexpected("`for`"));
        }
        self.pos = after;
        Ok(Check::Rate { error, var, rate, values, setup, span: start.to(self.toks[after.saturating_sub(2)].span) })
    }

    /// After `where`: distributions, values, a range and `samples N`, to the end of the line.
    fn draws_clause(&mut self) -> PResult<MonteCarloSetup> {
        let mut setup = MonteCarloSetup { draws: Vec::new(), values: Vec::new(), sizes: Vec::new(), range: None, samples: 10_000 };
        loop {
            let (name, name_span) =
                self.ident("a distribution (`g[i] ~ Normal(m, s)`), a value (`beta = 9/10`), a range (`t in 1..30`) or `samples N`")?;
            if name == "samples" {
                // Memory is bounded by a batch, not by the count; the limit keeps a typo from
                // running for hours.
                setup.samples = self.int_within("the number of samples", 2, 100_000_000)? as usize;
            } else if self.at_word("in") {
                self.pos -= 1;
                setup.range = Some(self.range()?);
            } else if self.eat(&Tok::Eq) {
                let dimension = self.scope.decls.values().any(|d| d.shape.contains(&name));
                if dimension && self.lookup(&name).is_none() {
                    let size = self.int_within("a size", 1, super::MAX_SIZE as i64)?;
                    setup.sizes.push((name, size as usize));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                    continue;
                }
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
        Ok(setup)
    }

    /// `d(expr)`.
    fn differential(&mut self) -> PResult<Expr> {
        self.expect_word("d")?;
        self.expect(Tok::LParen, "`(`")?;
        let e = self.expr()?;
        self.expect(Tok::RParen, "`)`")?;
        Ok(e)
    }

    pub(super) fn small_int(&mut self, what: &str) -> PResult<i64> {
        self.int_within(what, -1_000_000, 1_000_000)
    }

    /// A whole number from `lo` to `hi`; the message states the range.
    pub(super) fn int_within(&mut self, what: &str, lo: i64, hi: i64) -> PResult<i64> {
        let t = self.bump();
        match &t.tok {
            Tok::Num(n) if n.is_integer() => n.to_integer().to_i64().filter(|v| (lo..=hi).contains(v)),
            _ => None,
        }
        .ok_or_else(|| InputError::new(t.span, format!("expected {what}: a whole number from {lo} to {hi}")))
    }
}
