//! Unrolling: both sides of a claim expanded from the definitions at concrete indices and
//! compared by the symbolic layer's normal forms.

use std::collections::HashMap;

use crate::language::Kinds;
use crate::language::ast::{Expr, Rel, Rule};
use crate::model::{Definition, constant};
use crate::prove::{self, Equation};
use crate::verdict::{Counterexample, Layer, LayerResult, Verdict};

/// Expands both sides of the claim from the definitions at each concrete index where the
/// claim's conditions hold, and compares.
pub fn layer(rule: &Rule, definitions: &[Definition], kinds: &Kinds, var: &str, from: i64, to: i64) -> LayerResult {
    let na = |why: &str| LayerResult::new(Layer::Unroll, Verdict::NotApplicable, why);
    if rule.relation.rel != Rel::Eq {
        return na("unrolling compares the two sides of an equation");
    }
    if [&rule.relation.lhs, &rule.relation.rhs].iter().any(|e| e.has_expectation()) {
        return na("unrolling expands definitions, not expectations (a Monte Carlo check estimates them)");
    }
    if rule.binders.iter().any(|b| b.var != var) {
        return na(&format!("the claim has variables besides `{var}`, which unrolling does not give values"));
    }
    let definitions: Vec<Equation> =
        definitions.iter().map(|d| Equation::new(&d.name, &d.lhs, &d.rhs, d.vars.clone(), d.conditions.clone())).collect();
    let mut checked = 0;
    // One budget of rewrites for the whole range: each index of `f[t] = f[t-1] + f[t-2]`
    // costs more than the one before.
    let mut budget = 100_000;
    for t in from..=to {
        let at = HashMap::from([(var.to_string(), Expr::int(t, rule.span))]);
        // Only where the claim says something: its conditions hold at this index.
        let applies = rule.conditions.iter().all(|c| match (constant(&c.lhs.substitute(&at)), constant(&c.rhs.substitute(&at))) {
            (Some(l), Some(r)) => c.rel.holds(l.cmp(&r)),
            _ => false,
        });
        if !applies {
            continue;
        }
        checked += 1;
        let (lhs, rhs) = (rule.relation.lhs.substitute(&at), rule.relation.rhs.substitute(&at));
        match prove::equal_after_expansion(&lhs, &rhs, &definitions, kinds, &mut budget) {
            Err(e) => return na(&e),
            Ok((true, _)) => {}
            Ok((false, residual)) => {
                let mut r = LayerResult::new(Layer::Unroll, Verdict::Refuted, format!("at {var} = {t} the expanded sides differ by {residual}"));
                r.counterexample = Some(Counterexample {
                    values: vec![(var.to_string(), t.to_string())],
                    lhs: "expanded left side".into(),
                    rhs: format!("expanded right side; left − right = {residual}"),
                });
                return r;
            }
        }
    }
    if checked == 0 {
        return na(&format!("the claim's conditions hold at no {var} in {from}..{to}"));
    }
    LayerResult::new(
        Layer::Unroll,
        Verdict::Holds,
        format!(
            "for every {var} in {from}..{to} where the claim applies ({checked} of them), both sides expanded from the definitions are identical"
        ),
    )
}
