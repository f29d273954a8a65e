//! Identities checked at random rational points, for Rust tests (`assert_identity!`): the
//! exact layer alone (the float layer where exact arithmetic cannot apply), no proof and no
//! algebra engine involved.

use std::fmt;

use crate::check::Options;
use crate::verdict::{Counterexample, LayerResult, Verdict};

/// An identity `lhs = rhs` over the names `declarations` declares (`let`, `assume`, `def`
/// lines of the derivation language), to be checked at random points.
#[derive(Debug, Clone)]
pub struct Identity {
    declarations: String,
    lhs: String,
    rhs: String,
    samples: usize,
    seed: u64,
}

/// `lhs = rhs` over the names in `declarations`, at 20 points by default.
pub fn identity(declarations: &str, lhs: &str, rhs: &str) -> Identity {
    let defaults = Options::default();
    Identity { declarations: declarations.to_string(), lhs: lhs.to_string(), rhs: rhs.to_string(), samples: defaults.samples, seed: defaults.seed }
}

/// Why an identity does not hold, or could not be checked.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityError {
    /// The declarations or expressions do not parse (the rendered errors).
    Input(String),
    /// The two sides differ at this point.
    Refuted(Counterexample),
    /// Neither exact nor float arithmetic can evaluate it (the reason).
    NotApplicable(String),
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::Input(text) => write!(f, "the identity does not parse:\n{text}"),
            IdentityError::Refuted(cx) => {
                let values: Vec<String> = cx.values.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                write!(f, "the sides differ at {}: left = {}, right = {}", values.join(", "), cx.lhs, cx.rhs)
            }
            IdentityError::NotApplicable(reason) => write!(f, "the identity cannot be evaluated: {reason}"),
        }
    }
}

impl std::error::Error for IdentityError {}

impl Identity {
    /// How many random points to evaluate at.
    pub fn samples(mut self, samples: usize) -> Identity {
        self.samples = samples.max(1);
        self
    }

    /// The root seed of the random points.
    pub fn seed(mut self, seed: u64) -> Identity {
        self.seed = seed;
        self
    }

    /// Evaluates both sides at the random points: the layer's result when they agree.
    pub fn check(&self) -> Result<LayerResult, IdentityError> {
        let text = format!("```derivation\n{}\nclaim _identity: {} = {}\ncheck exact {}\n```\n", self.declarations, self.lhs, self.rhs, self.samples);
        let options = Options { seed: self.seed, samples: self.samples, ..Options::default() };
        let checked = crate::check_markdown("identity.md", &text, &options).map_err(|e| IdentityError::Input(e.to_string()))?;
        let claim = checked.results.claim("_identity").ok_or_else(|| IdentityError::Input("no identity was read".into()))?;
        let own = claim.evidence.first().ok_or_else(|| IdentityError::NotApplicable("nothing evaluated it".into()))?;
        match own.verdict {
            Verdict::Holds => Ok(own.clone()),
            Verdict::Refuted => Err(IdentityError::Refuted(own.counterexample.clone().unwrap_or(Counterexample {
                values: vec![],
                lhs: own.detail.clone(),
                rhs: String::new(),
            }))),
            Verdict::NotShown | Verdict::NotApplicable => Err(IdentityError::NotApplicable(own.detail.clone())),
        }
    }

    /// Panics, with the counterexample, unless the identity holds at every point.
    #[track_caller]
    pub fn assert(&self) {
        if let Err(e) = self.check() {
            panic!("identity `{} = {}` fails: {e}", self.lhs, self.rhs);
        }
    }
}

/// Asserts `lhs = rhs` at random rational points; the names come from `declarations`.
///
/// ```
/// derivcheck::assert_identity!("let beta: scalar\nassume 0 < beta < 1", "(1 - beta^2)/(1 - beta)", "1 + beta");
/// ```
///
/// A false identity panics with a counterexample:
///
/// ```should_panic
/// derivcheck::assert_identity!("let a, b: scalar", "(a + b)^2", "a^2 + b^2");
/// ```
#[macro_export]
macro_rules! assert_identity {
    ($declarations:expr, $lhs:expr, $rhs:expr $(,)?) => {
        $crate::identity($declarations, $lhs, $rhs).assert()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_true_identity_holds_and_a_false_one_comes_with_its_counterexample() {
        assert!(identity("let x: scalar", "(x + 1)^2", "x^2 + 2*x + 1").check().is_ok());
        let err = identity("let x: scalar", "(x + 1)^2", "x^2 + 1").check().unwrap_err();
        let IdentityError::Refuted(cx) = &err else { panic!("{err}") };
        assert!(cx.values.iter().any(|(n, _)| n == "x"), "{cx:?}");
        assert!(err.to_string().contains("the sides differ at x = "), "{err}");
    }

    #[test]
    fn bad_input_is_an_input_error() {
        assert!(matches!(identity("let x: scalar", "(x + ", "1").check(), Err(IdentityError::Input(_))));
    }
}
