//! Expressions, with names resolved as they are read: declared names, bound variables and
//! the built-ins.

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::builtins::{self, BIG_OPS, Func};
use crate::language::lexer::Tok;

/// How many parentheses, brackets and calls may nest, and how deep an expression's tree may be.
const MAX_NESTING: usize = 64;
const MAX_DEPTH: usize = 400;

/// The depth of an expression's tree, without recursion.
fn depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

impl Parser<'_> {
    pub(super) fn lookup(&self, name: &str) -> Option<Kind> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, k)| k.clone()).or_else(|| self.scope.decls.get(name).map(|d| d.kind.clone()))
    }

    /// Whether `e` is a vector or matrix, by the kinds of the names in scope here.
    fn nonscalar(&self, e: &Expr) -> bool {
        let mut names = Vec::new();
        collect(e, &mut names);
        let kinds = crate::language::Kinds(names.into_iter().filter_map(|n| self.lookup(&n).map(|k| (n, k))).collect());
        kinds.of(e) != Kind::Scalar
    }

    /// An expression; nested at most `MAX_NESTING` levels and `MAX_DEPTH` deep, so that no
    /// later stage recurses without bound.
    pub fn expr(&mut self) -> PResult<Expr> {
        let e = self.nested(|p| p.left_associative(&[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)], Self::term))?;
        if self.nesting == 0 && depth(&e) > MAX_DEPTH {
            return Err(
                InputError::new(e.span, format!("this expression is more than {MAX_DEPTH} operations deep")).help("split it into definitions")
            );
        }
        Ok(e)
    }

    /// Products and quotients, the element-wise ones (`.*`, `./`) among them, left to right.
    pub(super) fn term(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => Ok(BinOp::Mul),
                Tok::Slash => Ok(BinOp::Div),
                Tok::DotStar => Err(Func::EMul),
                Tok::DotSlash => Err(Func::EDiv),
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = match op {
                Ok(op) => Expr::bin(op, left, right),
                Err(f) => {
                    let span = left.span.to(right.span);
                    Expr::new(ExprKind::Builtin(f, vec![left, right]), span)
                }
            };
        }
    }

    /// Reads one more level of nesting, refusing more than `MAX_NESTING`.
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.nesting >= MAX_NESTING {
            return Err(InputError::new(self.span(), format!("this expression is nested more than {MAX_NESTING} levels deep"))
                .help("split it into definitions"));
        }
        self.nesting += 1;
        let out = read(self);
        self.nesting -= 1;
        out
    }

    /// `operand (op operand)*` for the operators `ops` of one precedence level.
    fn left_associative(&mut self, ops: &[(Tok, BinOp)], operand: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let mut left = operand(self)?;
        while let Some(&(_, op)) = ops.iter().find(|(t, _)| self.at(t)) {
            self.bump();
            let right = operand(self)?;
            left = Expr::bin(op, left, right);
        }
        Ok(left)
    }

    pub(super) fn unary(&mut self) -> PResult<Expr> {
        if self.at(&Tok::Minus) {
            let start = self.bump().span;
            let inner = self.nested(Self::unary)?;
            let span = start.to(inner.span);
            return Ok(Expr::new(ExprKind::Neg(Box::new(inner)), span));
        }
        self.power()
    }

    pub(super) fn power(&mut self) -> PResult<Expr> {
        let mut base = self.postfix()?;
        while self.at(&Tok::Transpose) {
            let end = self.bump().span;
            let span = base.span.to(end);
            base = Expr::new(ExprKind::Transpose(Box::new(base)), span);
        }
        if !self.eat(&Tok::Caret) {
            return Ok(base);
        }
        // `A^T` is a transpose unless `T` is a declared name and `A` a scalar: a matrix has no
        // power `T` to take (a `for T >= 0` binder must not turn `W^T` into a power).
        if self.at_word("T") && (self.lookup("T").is_none() || self.nonscalar(&base)) {
            let end = self.bump().span;
            let span = base.span.to(end);
            return Ok(Expr::new(ExprKind::Transpose(Box::new(base)), span));
        }
        let exponent = if self.at(&Tok::Minus) {
            let start = self.bump().span;
            let inner = self.nested(Self::power)?;
            let span = start.to(inner.span);
            Expr::new(ExprKind::Neg(Box::new(inner)), span)
        } else {
            self.nested(Self::power)?
        };
        Ok(Expr::bin(BinOp::Pow, base, exponent))
    }

    pub(super) fn postfix(&mut self) -> PResult<Expr> {
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

    pub(super) fn named(&mut self, name: String, span: Span) -> PResult<Expr> {
        if self.at(&Tok::LParen) && BIG_OPS.contains(&name.as_str()) {
            return self.big_op(&name, span);
        }
        if name == "E" && self.lookup("E").is_none() {
            return self.expectation(span);
        }
        let kind = self.lookup(&name);
        if kind.is_none() && builtins::CONSTANTS.contains(&name.as_str()) && !self.at(&Tok::LParen) && !self.at(&Tok::LBracket) {
            return Ok(Expr::name(&name, span));
        }
        if self.at(&Tok::LParen) {
            let builtin = Func::from_name(&name);
            if builtin.is_none() && kind != Some(Kind::Function) {
                let what = kind.map_or("not declared".to_string(), |k| format!("{}, not a function", k.describe()));
                return Err(InputError::new(span, format!("`{name}` is {what}")).help(format!("declare it with `let {name}: function`")));
            }
            self.bump();
            let args = self.args(Tok::RParen)?;
            let end = self.prev_span();
            return Ok(match builtin {
                Some(f) => {
                    let want = f.info().arity;
                    if args.len() != want {
                        return Err(InputError::new(span.to(end), format!("`{name}` takes {want} argument(s), found {}", args.len())));
                    }
                    // `sqrt(x)` of a vector is the element-wise square root.
                    let f = f.entrywise().filter(|_| self.nonscalar(&args[0])).unwrap_or(f);
                    Expr::new(ExprKind::Builtin(f, args), span.to(end))
                }
                None => Expr::new(ExprKind::Call(name, args), span.to(end)),
            });
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

    pub(super) fn args(&mut self, close: Tok) -> PResult<Vec<Expr>> {
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
    pub(super) fn distribution(&mut self, name: &str, help: &str) -> PResult<(Expr, Expr)> {
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
    pub(super) fn expectation(&mut self, span: Span) -> PResult<Expr> {
        let mut gaussian = None;
        if self.eat(&Tok::LParen) {
            let (var, var_span) = self.ident("the random variable")?;
            if self.lookup(&var).is_some() || builtins::reserved(&var) {
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
    pub(super) fn big_op(&mut self, name: &str, span: Span) -> PResult<Expr> {
        self.bump();
        let (var, var_span) = self.ident("the summation variable")?;
        if self.lookup(&var).is_some() || builtins::reserved(&var) {
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

fn collect(e: &Expr, out: &mut Vec<String>) {
    if let ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) = &e.kind {
        out.push(n.clone());
    }
    e.children().into_iter().for_each(|c| collect(c, out));
}
