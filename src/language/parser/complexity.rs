//! Complexity claims: `claim name: time(X) = Theta(n^2*d) [when n >= d, k = d]`, and
//! comparisons of costs `claim name: time(X) < time(Y) when n = 4096, m <= 1357`.

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::lexer::Tok;

/// The `when` conditions: sizes at least others, sizes that are others, sizes held to numbers.
type Conditions = (Vec<(String, String)>, Vec<(String, String)>, Vec<(String, Rel, i64)>);

impl Parser<'_> {
    /// After `claim name:`, at `time` or `space`.
    pub(super) fn complexity(&mut self, name: String, start: Span) -> PResult<Complexity> {
        let (word, _) = self.ident("`time` or `space`")?;
        let measure = if word == "time" { Measure::Time } else { Measure::Space };
        // The sizes read as numbers here: in the class, in `when`, as a sum's bound.
        let dims = self.dimension_names();
        let depth = self.locals.len();
        self.locals.extend(dims.iter().filter(|d| self.lookup(d).is_none()).map(|d| (d.clone(), Kind::Integer)).collect::<Vec<_>>());
        let parsed = self.complexity_body(measure, &dims);
        self.locals.truncate(depth);
        let (expr, bound, (regime, equal, numbers)) = parsed?;
        self.end_of_line()?;
        Ok(Complexity { name, measure, expr, bound, regime, equal, numbers, span: start.to(self.prev_span()) })
    }

    fn complexity_body(&mut self, measure: Measure, dims: &[String]) -> PResult<(Expr, CostBound, Conditions)> {
        self.expect(Tok::LParen, "`(`")?;
        let expr = self.expr()?;
        self.expect(Tok::RParen, "`)`")?;
        let rel_span = self.peek_span();
        let bound = match self.relation_op() {
            Some(Rel::Eq) => {
                let (g, g_span) = self.ident("`Theta` or `O`")?;
                let growth = match g.as_str() {
                    "Theta" => Growth::Theta,
                    "O" => Growth::BigO,
                    _ => return Err(InputError::new(g_span, format!("unknown growth class `{g}`")).help("write `Theta(…)` or `O(…)`")),
                };
                self.expect(Tok::LParen, "`(`")?;
                let class = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
                class_errors(&class, dims)?;
                CostBound::Class(growth, class)
            }
            Some(rel @ (Rel::Lt | Rel::Le)) => {
                let (word, word_span) = self.ident(&format!("`{}` of another expression", measure.name()))?;
                if word != measure.name() {
                    return Err(InputError::new(word_span, format!("a {0} compares with a {0}", measure.name()))
                        .help(format!("write `{}(…)`", measure.name())));
                }
                self.expect(Tok::LParen, "`(`")?;
                let other = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
                CostBound::Than(rel, other)
            }
            _ => {
                return Err(InputError::new(rel_span, "expected `=` and a growth class, or `<`/`<=` and the cost of another expression")
                    .help("`time(X) = Theta(n^2*d)`, or `time(X) < time(Y) when n = 4096, m <= 1357`"));
            }
        };
        let comparison = matches!(bound, CostBound::Than(..));
        let conditions = if self.eat_word("when") { self.size_conditions(dims, comparison)? } else { Default::default() };
        Ok((expr, bound, conditions))
    }

    /// `n >= d, k = d` (and, in a comparison, `n = 4096, m <= 1357`).
    fn size_conditions(&mut self, dims: &[String], comparison: bool) -> PResult<Conditions> {
        let (mut regime, mut equal, mut numbers) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            let (a, a_span) = self.ident("a size")?;
            let rel = self.relation_op();
            let number = matches!(self.peek(), Tok::Num(_));
            let (b, b_span) = if number {
                let span = self.peek_span();
                (self.int_within("a size", 0, 1_000_000_000)?.to_string(), span)
            } else {
                self.ident("a size or a number")?
            };
            for (d, span) in [(&a, a_span)].into_iter().chain((!number).then_some((&b, b_span))) {
                if !dims.contains(d) {
                    return Err(InputError::new(span, format!("`{d}` is not a size of a declared vector or matrix, nor a declared integer")));
                }
            }
            match (rel, number) {
                (Some(Rel::Ge), false) => regime.push((a, b)),
                (Some(Rel::Le), false) => regime.push((b, a)),
                (Some(Rel::Eq), false) => equal.push((a, b)),
                (Some(rel @ (Rel::Eq | Rel::Le | Rel::Lt | Rel::Ge | Rel::Gt)), true) if comparison => {
                    numbers.push((a, rel, b.parse().expect("a whole number")));
                }
                (_, true) if comparison => {
                    return Err(InputError::new(a_span.to(b_span), "a size is held to a number with `=`, `<=`, `<`, `>=` or `>`")
                        .help("`when n = 4096, m <= 1357`"));
                }
                (_, true) => {
                    return Err(InputError::new(
                        a_span.to(b_span),
                        "a growth class is about sizes that grow: a size is held to a number only in a comparison of costs",
                    )
                    .help("compare with `time(X) < time(Y) when n = 4096, m <= 1357`, or relate sizes: `when n >= d`"));
                }
                _ => {
                    return Err(InputError::new(a_span.to(b_span), "a condition on sizes is `n >= d` or `k = d`")
                        .help("`when n >= d` restricts the claim to those sizes; `when k = d` makes one size the other"));
                }
            }
            if !self.eat(&Tok::Comma) {
                return Ok((regime, equal, numbers));
            }
        }
    }

    /// The sizes: the dimension names of the declared vectors and matrices, and the declared
    /// integers (`let h: integer`, a number of heads), sorted.
    fn dimension_names(&self) -> Vec<String> {
        let mut dims: Vec<String> = self
            .scope
            .decls
            .values()
            .flat_map(|d| d.shape.iter())
            .filter(|s| s.parse::<u64>().is_err())
            .cloned()
            .chain(self.scope.decls.values().filter(|d| d.kind == Kind::Integer).map(|d| d.name.clone()))
            .collect();
        dims.sort();
        dims.dedup();
        dims
    }
}

/// A growth class is a polynomial in the sizes with positive coefficients: numbers, sizes,
/// `+`, `*`, whole powers and division by a positive number.
fn class_errors(e: &Expr, dims: &[String]) -> PResult<()> {
    let refuse = |why: &str| {
        Err(InputError::new(e.span, format!("a growth class is a polynomial in the sizes with positive coefficients: {why}"))
            .help("like `n^2*d + n*d`"))
    };
    match &e.kind {
        ExprKind::Num(q) if *q > num_rational::BigRational::from_integer(0.into()) => Ok(()),
        ExprKind::Num(_) => refuse("a coefficient is not positive"),
        ExprKind::Name(n) if dims.contains(n) => Ok(()),
        ExprKind::Name(n) => refuse(&format!("`{n}` is not a size of a declared vector or matrix, nor a declared integer")),
        ExprKind::Bin(BinOp::Add | BinOp::Mul, a, b) => {
            class_errors(a, dims)?;
            class_errors(b, dims)
        }
        ExprKind::Bin(BinOp::Pow, a, b) => match b.rational() {
            Some(k)
                if k.is_integer()
                    && k >= num_rational::BigRational::from_integer(1.into())
                    && k <= num_rational::BigRational::from_integer(8.into()) =>
            {
                class_errors(a, dims)
            }
            _ => refuse("an exponent is not a whole number from 1 to 8"),
        },
        ExprKind::Bin(BinOp::Div, a, b) => match b.rational() {
            Some(k) if k > num_rational::BigRational::from_integer(0.into()) => class_errors(a, dims),
            _ => refuse("it divides by something other than a positive number"),
        },
        _ => refuse(&format!("`{}` is not one", crate::language::text::expr(e))),
    }
}
