//! The kind of an expression (scalar, vector or matrix), from the kinds of the names it
//! uses. Both the symbolic layer (a product commutes only with a scalar factor) and the
//! numeric models read it.

use std::collections::HashMap;

use super::ast::{BinOp, Expr, ExprKind, Kind};
use super::builtins::{IDENTITY, ONES, Returns};

/// Kinds of the names visible at a point: declarations and bound variables.
#[derive(Debug, Clone, Default)]
pub struct Kinds(pub HashMap<String, Kind>);

impl Kinds {
    fn of_name(&self, n: &str, bound: &[(&str, Kind)]) -> Kind {
        let kind = bound.iter().rev().find(|(b, _)| *b == n).map(|(_, k)| k).or_else(|| self.0.get(n));
        match kind {
            Some(Kind::Integer) | None => Kind::Scalar,
            Some(k) => k.clone(),
        }
    }

    /// Scalar, vector or matrix: what decides whether a product commutes. Variables bound
    /// inside `e` count with their own kinds: a sum's index is an integer, the variable of
    /// `E(x ~ N(…))` a vector.
    pub fn of(&self, e: &Expr) -> Kind {
        self.of_bound(e, &mut Vec::new())
    }

    fn of_bound<'e>(&self, e: &'e Expr, bound: &mut Vec<(&'e str, Kind)>) -> Kind {
        let join = |a: Kind, b: Kind| {
            if a == Kind::Scalar {
                b
            } else if b == Kind::Scalar || a == Kind::Matrix {
                a
            } else {
                b
            }
        };
        match &e.kind {
            ExprKind::Num(_) => Kind::Scalar,
            ExprKind::Name(n) if n == ONES && !self.0.contains_key(n) => Kind::Vector,
            ExprKind::Name(n) if n == IDENTITY && !self.0.contains_key(n) => Kind::Matrix,
            ExprKind::Name(n) => self.of_name(n, bound),
            ExprKind::Index(n, _) => match self.of_name(n, bound) {
                Kind::Sequence(of) => *of,
                k => k,
            },
            ExprKind::Builtin(f, args) => match f.info().value {
                Returns::Scalar => Kind::Scalar,
                Returns::Matrix => Kind::Matrix,
                Returns::Entrywise => args.iter().map(|a| self.of_bound(a, bound)).fold(Kind::Scalar, join),
            },
            ExprKind::Call(_, args) => args.iter().map(|a| self.of_bound(a, bound)).fold(Kind::Scalar, join),
            ExprKind::BigOp { var, body, .. } => {
                bound.push((var, Kind::Integer));
                let k = self.of_bound(body, bound);
                bound.pop();
                k
            }
            ExprKind::Expect { gaussian, body } => {
                if let Some((x, ..)) = gaussian {
                    bound.push((x, Kind::Vector));
                }
                let k = self.of_bound(body, bound);
                if gaussian.is_some() {
                    bound.pop();
                }
                k
            }
            ExprKind::Neg(a) | ExprKind::Transpose(a) => self.of_bound(a, bound),
            ExprKind::Bin(BinOp::Pow, a, _) => self.of_bound(a, bound),
            ExprKind::Bin(_, a, b) => {
                let (ka, kb) = (self.of_bound(a, bound), self.of_bound(b, bound));
                join(ka, kb)
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        self.0.get(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, kind: Kind) -> Option<Kind> {
        self.0.insert(name.into(), kind)
    }
}
