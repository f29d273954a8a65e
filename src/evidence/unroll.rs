//! Unrolling: both sides of a claim expanded from the definitions at concrete indices and
//! compared by the symbolic layer's normal forms.

use std::collections::HashMap;

use crate::language::Kinds;
use crate::language::ast::{Expr, Rule};
use crate::model::Definition;
use crate::prove::{self, Equation};
use crate::verdict::{Counterexample, Layer, LayerResult, Verdict};

/// Expands both sides of the claim from the definitions at each concrete index and compares.
pub fn layer(rule: &Rule, definitions: &[Definition], kinds: &Kinds, var: &str, from: i64, to: i64) -> LayerResult {
    let definitions: Vec<Equation> =
        definitions.iter().map(|d| Equation::new(&d.name, &d.lhs, &d.rhs, d.vars.clone(), d.conditions.clone())).collect();
    for t in from..=to {
        let at = HashMap::from([(var.to_string(), Expr::int(t, rule.span))]);
        let (lhs, rhs) = (rule.relation.lhs.substitute(&at), rule.relation.rhs.substitute(&at));
        match prove::equal_after_expansion(&lhs, &rhs, &definitions, kinds) {
            Err(e) => return LayerResult::new(Layer::Unroll, Verdict::NotApplicable, e),
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
    LayerResult::new(
        Layer::Unroll,
        Verdict::Holds,
        format!("for every {var} in {from}..{to}, both sides expanded from the definitions are identical"),
    )
}
