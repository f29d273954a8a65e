//! Complexity claims: `claim name: time(X) = Theta(n^2*d) [when n >= d, k = d]`.

use super::{PResult, Parser};
use crate::diagnostic::{InputError, Span};
use crate::language::ast::*;
use crate::language::lexer::Tok;

impl Parser<'_> {
    /// After `claim name:`, at `time` or `space`.
    pub(super) fn complexity(&mut self, name: String, start: Span) -> PResult<Complexity> {
        let (word, _) = self.ident("`time` or `space`")?;
        let measure = if word == "time" { Measure::Time } else { Measure::Space };
        // The sizes read as numbers here: in the class, in `when`, as a sum's bound.
        let dims = self.dimension_names();
        let depth = self.locals.len();
        self.locals.extend(dims.iter().filter(|d| self.lookup(d).is_none()).map(|d| (d.clone(), Kind::Integer)).collect::<Vec<_>>());
        let parsed = self.complexity_body(&dims);
        self.locals.truncate(depth);
        let (expr, growth, class, regime, equal) = parsed?;
        self.end_of_line()?;
        Ok(Complexity { name, measure, expr, growth, class, regime, equal, span: start.to(self.prev_span()) })
    }

    #[allow(clippy::type_complexity)]
    fn complexity_body(&mut self, dims: &[String]) -> PResult<(Expr, Growth, Expr, Vec<(String, String)>, Vec<(String, String)>)> {
        self.expect(Tok::LParen, "`(`")?;
        let expr = self.expr()?;
        self.expect(Tok::RParen, "`)`")?;
        self.expect(Tok::Eq, "`=` and a growth class (`Theta(n^2*d)` or `O(n^2*d)`)")?;
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
        let (mut regime, mut equal) = (Vec::new(), Vec::new());
        if self.eat_word("when") {
            loop {
                let (a, a_span) = self.ident("a size")?;
                let rel = self.relation_op();
                let (b, b_span) = self.ident("a size")?;
                for (d, span) in [(&a, a_span), (&b, b_span)] {
                    if !dims.contains(d) {
                        return Err(InputError::new(span, format!("`{d}` is not a size of a declared vector or matrix, nor a declared integer")));
                    }
                }
                match rel {
                    Some(Rel::Ge) => regime.push((a, b)),
                    Some(Rel::Le) => regime.push((b, a)),
                    Some(Rel::Eq) => equal.push((a, b)),
                    _ => {
                        return Err(InputError::new(a_span.to(b_span), "a condition on sizes is `n >= d` or `k = d`")
                            .help("`when n >= d` restricts the claim to those sizes; `when k = d` makes one size the other"));
                    }
                }
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        Ok((expr, growth, class, regime, equal))
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
