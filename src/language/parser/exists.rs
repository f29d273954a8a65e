//! Existence claims and their witnesses: `claim name: exists W, h[0] with C1, C2 [without g]`
//! and the `witness W = …, h[0] = …` line after it.

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::builtins;
use crate::language::lexer::Tok;

impl Parser<'_> {
    /// After `claim name:`, at `exists`.
    pub(super) fn existence(&mut self, name: String, start: Span) -> PResult<Existence> {
        self.expect_word("exists")?;
        let mut names: Vec<Expr> = Vec::new();
        loop {
            let item = self.witnessed_name()?;
            if names.contains(&item) {
                return Err(InputError::new(item.span, "this name is listed twice"));
            }
            names.push(item);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect_word("with")?;
        // `X -> L as T -> inf`: `T` is a variable of that condition, named after it.
        let limit_vars: Vec<String> = (self.pos..self.toks.len())
            .take_while(|&i| !matches!(self.toks[i].tok, Tok::Newline | Tok::Eof))
            .filter(|&i| matches!(&self.toks[i].tok, Tok::Ident(s) if s == "as"))
            .filter_map(|i| match self.toks.get(i + 1).map(|t| &t.tok) {
                Some(Tok::Ident(v)) if !builtins::reserved(v) && self.lookup(v).is_none() => Some(v.clone()),
                _ => None,
            })
            .collect();
        let depth = self.locals.len();
        self.locals.extend(limit_vars.iter().map(|v| (v.clone(), Kind::Integer)));
        let conditions = self.existence_conditions();
        self.locals.truncate(depth);
        let (conditions, limits) = conditions?;
        let mut without = Vec::new();
        if self.eat_word("without") {
            loop {
                let (given, span) = self.ident("the name of a `given`")?;
                if !matches!(self.scope.rules.get(&given), Some((RuleKind::Given, _))) {
                    return Err(InputError::new(span, format!("`{given}` is not a `given` of this file"))
                        .help("`without` sets aside givens the witness need not satisfy"));
                }
                without.push((given, span));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        self.end_of_line()?;
        Ok(Existence { name, names, conditions, limits, without, witness: None, span: start.to(self.prev_span()) })
    }

    /// `W` or `h[0]`: a declared name, or an element of a declared sequence at a number.
    fn witnessed_name(&mut self) -> PResult<Expr> {
        let (name, span) = self.ident("a declared name")?;
        let Some(kind) = self.lookup(&name) else {
            return Err(InputError::new(span, format!("unknown name `{name}`")).help("an existence claim is about declared names"));
        };
        if !self.at(&Tok::LBracket) {
            return Ok(Expr::name(&name, span));
        }
        if !matches!(kind, Kind::Sequence(_)) {
            return Err(InputError::new(span, format!("`{name}` is not a sequence")));
        }
        self.bump();
        let index = self.small_int("an index (a whole number)")?;
        self.expect(Tok::RBracket, "`]`")?;
        let span = span.to(self.prev_span());
        Ok(Expr { kind: ExprKind::Index(name, vec![Expr::int(index, span)]), span })
    }

    /// `C1, C2, …` where each is `a REL b` or `X -> L as T -> inf`.
    fn existence_conditions(&mut self) -> PResult<(Vec<Relation>, Vec<Option<String>>)> {
        let (mut conditions, mut limits) = (Vec::new(), Vec::new());
        loop {
            let lhs = self.expr()?;
            if self.eat(&Tok::Arrow) {
                let rhs = self.expr()?;
                self.expect_word("as")?;
                let (var, var_span) = self.ident("the variable that grows")?;
                if self.scope.decls.contains_key(&var) {
                    return Err(InputError::new(var_span, format!("`{var}` is declared, so it cannot be the variable of a limit"))
                        .help("a limit's variable is a new name (`as T -> inf`)"));
                }
                self.expect(Tok::Arrow, "`->`")?;
                self.expect_word("inf")?;
                if !lhs.mentions(&var) {
                    return Err(InputError::new(lhs.span, format!("the limit's left side does not depend on `{var}`")));
                }
                if rhs.mentions(&var) {
                    return Err(InputError::new(rhs.span, format!("a limit as `{var}` grows cannot depend on `{var}`")));
                }
                conditions.push(Relation { lhs, rel: Rel::To, rhs });
                limits.push(Some(var));
            } else {
                let rel = self.relation_op().ok_or_else(|| self.unexpected("a relation (`=`, `!=`, `<=`, `<`, `>=`, `>`, `->`)"))?;
                let rhs = self.expr()?;
                conditions.push(Relation { lhs, rel, rhs });
                limits.push(None);
            }
            if !self.eat(&Tok::Comma) {
                return Ok((conditions, limits));
            }
        }
    }

    /// `witness W = 2*I, h[0] = [5, 5], x[t] = 0*ones with n = 2, sigma = tanh`, for the
    /// existence claim just before: it must give a value to every name the claim lists.
    pub(super) fn witness(&mut self, claim: &Existence, start: Span) -> PResult<Witness> {
        let mut values: Vec<WitnessValue> = Vec::new();
        while !self.at_word("with") && !matches!(self.peek(), Tok::Newline | Tok::Eof) {
            let item_start = self.span();
            let (name, span) = self.ident("a name the claim lists")?;
            let kind = self.lookup(&name).ok_or_else(|| InputError::new(span, format!("unknown name `{name}`")))?;
            let (lhs, vars) = if kind == Kind::Function {
                // `dL(t, w) = w`: a function given by a formula in new variables.
                if !self.eat(&Tok::LParen) {
                    return Err(InputError::new(
                        span,
                        format!("`{name}` is a function: give it as `{name}(x) = …` or after `with` (`with {name} = tanh`)"),
                    ));
                }
                let mut vars: Vec<(String, Kind)> = Vec::new();
                let mut params = Vec::new();
                loop {
                    let (v, v_span) = self.ident("a new variable")?;
                    if self.lookup(&v).is_some() || builtins::reserved(&v) || vars.iter().any(|(x, _)| *x == v) {
                        return Err(InputError::new(v_span, format!("`{v}` is already a name: a function's variables are new names")));
                    }
                    params.push(Expr::name(&v, v_span));
                    vars.push((v, Kind::Scalar));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(Tok::RParen, "`)`")?;
                (Expr { kind: ExprKind::Call(name.clone(), params), span: span.to(self.prev_span()) }, vars)
            } else if self.eat(&Tok::LBracket) {
                let index = match self.peek().clone() {
                    Tok::Ident(v) if self.lookup(&v).is_none() && !builtins::reserved(&v) => {
                        let t = self.bump();
                        (Expr::name(&v, t.span), vec![(v, Kind::Integer)])
                    }
                    _ => (Expr::int(self.small_int("an index (a whole number, or a new variable)")?, self.prev_span()), vec![]),
                };
                self.expect(Tok::RBracket, "`]`")?;
                (Expr { kind: ExprKind::Index(name.clone(), vec![index.0]), span: span.to(self.prev_span()) }, index.1)
            } else {
                (Expr::name(&name, span), vec![])
            };
            self.expect(Tok::Eq, "`=`")?;
            let value = if self.at(&Tok::LBracket) && kind != Kind::Function {
                WitnessExpr::Literal(self.literal()?)
            } else {
                let locals = self.locals.len();
                self.locals.extend(vars.iter().cloned());
                let value = self.expr();
                self.locals.truncate(locals);
                WitnessExpr::Expr(value?)
            };
            // A value is built from numbers, `ones`, `I` and its index: one that refers to a
            // declared name could refer to itself without end (`h[t] = h[t-1] + 1`).
            let exprs: Vec<&Expr> = match &value {
                WitnessExpr::Expr(e) => vec![e],
                WitnessExpr::Literal(rows) => rows.iter().flatten().collect(),
            };
            for e in exprs {
                if let Some(name) = self.scope.decls.keys().find(|n| refers_to(e, n)) {
                    return Err(InputError::new(e.span, format!("a witness value cannot refer to `{name}`"))
                        .help("write it with numbers, `ones`, `I` and its index"));
                }
            }
            if values.iter().any(|v| v.lhs.head() == lhs.head() && (v.lhs == lhs || !v.vars.is_empty() || !vars.is_empty())) {
                return Err(InputError::new(lhs.span, format!("the witness gives `{}` a value twice", super::super::text::expr(&lhs))));
            }
            values.push(WitnessValue { lhs, vars, value, span: item_start.to(self.prev_span()) });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let with = self.with_clause()?;
        self.end_of_line()?;
        let span = start.to(self.prev_span());
        // The witness gives exactly the names the claim lists.
        let given = |item: &Expr| match &item.kind {
            ExprKind::Name(n) => {
                values.iter().any(|v| matches!(&v.lhs.kind, ExprKind::Name(m) if m == n) || !v.vars.is_empty() && v.lhs.head() == Some(n))
                    || with.functions.iter().any(|(f, _)| f == n)
            }
            _ => values.iter().any(|v| v.lhs == *item),
        };
        if let Some(missing) = claim.names.iter().find(|n| !given(n)) {
            return Err(InputError::new(span, format!("the witness gives no value for `{}`", super::super::text::expr(missing)))
                .help("give every name the claim lists after `exists`"));
        }
        let listed = |lhs: &Expr| {
            claim.names.contains(lhs) || lhs.head().is_some_and(|h| claim.names.iter().any(|n| matches!(&n.kind, ExprKind::Name(m) if m == h)))
        };
        for v in &values {
            if !listed(&v.lhs) || (v.vars.is_empty() && matches!(v.lhs.kind, ExprKind::Index(..)) && !claim.names.contains(&v.lhs)) {
                return Err(InputError::new(v.lhs.span, format!("`{}` is not among the names the claim lists", super::super::text::expr(&v.lhs)))
                    .help("the claim says which values exist; list it after `exists`"));
            }
        }
        for (f, _) in &with.functions {
            if !claim.names.iter().any(|n| matches!(&n.kind, ExprKind::Name(m) if m == f)) {
                return Err(InputError::new(span, format!("`{f}` is given a concrete function but the claim does not list it"))
                    .help("list it after `exists`"));
            }
        }
        Ok(Witness { values, with, span })
    }

    /// `[[2, 0], [0, 2]]` (rows) or `[5, 5]` (a column vector).
    fn literal(&mut self) -> PResult<Vec<Vec<Expr>>> {
        let open = self.expect(Tok::LBracket, "`[`")?;
        let matrix = self.at(&Tok::LBracket);
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        loop {
            if matrix {
                self.expect(Tok::LBracket, "`[` (a row)")?;
                let mut row = vec![self.expr()?];
                while self.eat(&Tok::Comma) {
                    row.push(self.expr()?);
                }
                self.expect(Tok::RBracket, "`]`")?;
                if rows.first().is_some_and(|r| r.len() != row.len()) {
                    return Err(InputError::new(open.to(self.prev_span()), "the rows of a matrix have different lengths"));
                }
                rows.push(row);
            } else {
                rows.push(vec![self.expr()?]);
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RBracket, "`]`")?;
        Ok(rows)
    }
}

/// Whether `e` uses `name`, as a name, a sequence or a function.
fn refers_to(e: &Expr, name: &str) -> bool {
    e.head().is_some_and(|h| h == name) || e.children().into_iter().any(|c| refers_to(c, name))
}
