//! Deciding conditions from what is known where a rewrite happens: affine facts about
//! integer variables (`t >= 2` gives `t - 1 >= 1`), by bounding a difference with the
//! constant bounds of its variables or with one known fact. Unknown is `false`.

use num_bigint::BigInt;
use num_traits::{One, Signed};

use super::rewrite::Context;
use crate::language::affine::Affine;
use crate::language::ast::{Fact, Rel};

impl Context {
    /// Whether `fact` follows from the context: affine facts only, by bounding the difference
    /// with constant bounds of its variables or with one context fact. Unknown is `false`.
    pub fn proves(&self, fact: &Fact) -> bool {
        let (Some(l), Some(r)) = (Affine::of(&fact.lhs), Affine::of(&fact.rhs)) else { return false };
        let d = l.plus(&r.scale(&-BigInt::one()));
        let minus = d.scale(&-BigInt::one());
        match fact.rel {
            Rel::Ge => self.nonnegative(&d),
            Rel::Gt => self.nonnegative(&d.plus(&Affine::constant(-BigInt::one()))),
            Rel::Le => self.nonnegative(&minus),
            Rel::Lt => self.nonnegative(&minus.plus(&Affine::constant(-BigInt::one()))),
            Rel::Eq => self.nonnegative(&d) && self.nonnegative(&minus),
        }
    }

    /// Context facts as `f >= 0`.
    fn normalized(&self) -> Vec<Affine> {
        let mut out = Vec::new();
        for f in &self.facts {
            let (Some(l), Some(r)) = (Affine::of(&f.lhs), Affine::of(&f.rhs)) else { continue };
            let d = l.plus(&r.scale(&-BigInt::one()));
            let one = Affine::constant(BigInt::one());
            match f.rel {
                Rel::Ge => out.push(d),
                Rel::Gt => out.push(d.plus(&one.scale(&-BigInt::one()))),
                Rel::Le => out.push(d.scale(&-BigInt::one())),
                Rel::Lt => out.push(d.scale(&-BigInt::one()).plus(&one.scale(&-BigInt::one()))),
                Rel::Eq => {
                    out.push(d.clone());
                    out.push(d.scale(&-BigInt::one()));
                }
            }
        }
        out
    }

    fn nonnegative(&self, d: &Affine) -> bool {
        if d.terms.is_empty() {
            return !d.constant.is_negative();
        }
        let facts = self.normalized();
        // Lower and upper constant bounds of single variables.
        let bound = |var: &str, lower: bool| -> Option<BigInt> {
            facts
                .iter()
                .filter(|f| f.terms.len() == 1)
                .filter_map(|f| {
                    let k = f.terms.get(var)?;
                    // k·v + c >= 0
                    if lower && k.is_one() {
                        Some(-f.constant.clone())
                    } else if !lower && (-k).is_one() {
                        Some(f.constant.clone())
                    } else {
                        None
                    }
                })
                .reduce(|a, b| if lower { a.max(b) } else { a.min(b) })
        };
        let by_bounds = || -> Option<bool> {
            let mut min = d.constant.clone();
            for (v, k) in &d.terms {
                let b = bound(v, k.is_positive())?;
                min += k * b;
            }
            Some(!min.is_negative())
        };
        if by_bounds() == Some(true) {
            return true;
        }
        // d = f + (a non-negative remainder) for one fact f.
        facts.iter().any(|f| {
            let rest = d.plus(&f.scale(&-BigInt::one()));
            Context::default().nonnegative_with(&rest, &facts)
        })
    }

    fn nonnegative_with(&self, d: &Affine, facts: &[Affine]) -> bool {
        if d.terms.is_empty() {
            return !d.constant.is_negative();
        }
        let mut min = d.constant.clone();
        for (v, k) in &d.terms {
            let b = facts.iter().filter(|f| f.terms.len() == 1).find_map(|f| {
                let c = f.terms.get(v)?;
                if k.is_positive() && c.is_one() {
                    Some(-f.constant.clone())
                } else if k.is_negative() && (-c).is_one() {
                    Some(f.constant.clone())
                } else {
                    None
                }
            });
            match b {
                Some(b) => min += k * b,
                None => return false,
            }
        }
        !min.is_negative()
    }
}
