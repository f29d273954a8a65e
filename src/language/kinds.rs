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
    fn of_name(&self, n: &str) -> Kind {
        match self.0.get(n) {
            Some(Kind::Integer) | None => Kind::Scalar,
            Some(k) => k.clone(),
        }
    }

    /// Scalar, vector or matrix: what decides whether a product commutes.
    pub fn of(&self, e: &Expr) -> Kind {
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
            ExprKind::Name(n) => self.of_name(n),
            ExprKind::Index(n, _) => match self.of_name(n) {
                Kind::Sequence(of) => *of,
                k => k,
            },
            ExprKind::Builtin(f, _) => match f.info().value {
                Returns::Scalar => Kind::Scalar,
                Returns::Matrix => Kind::Matrix,
            },
            ExprKind::Call(_, args) => args.iter().map(|a| self.of(a)).fold(Kind::Scalar, join),
            ExprKind::BigOp { body, .. } | ExprKind::Expect { body, .. } => self.of(body),
            ExprKind::Neg(a) | ExprKind::Transpose(a) => self.of(a),
            ExprKind::Bin(BinOp::Pow, a, _) => self.of(a),
            ExprKind::Bin(_, a, b) => join(self.of(a), self.of(b)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        self.0.get(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, kind: Kind) -> Option<Kind> {
        self.0.insert(name.into(), kind)
    }
}
