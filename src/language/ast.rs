//! The syntax tree of derivation blocks.
//!
//! Expressions compare equal by structure alone: spans are carried for messages but ignored
//! by `==`, so rewriting can match a rule against any occurrence.

use num_rational::BigRational;

use super::builtins::Func;
use crate::diagnostic::Span;

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

impl Eq for Expr {}

impl std::hash::Hash for Expr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExprKind {
    Num(BigRational),
    /// A declared name or a bound variable.
    Name(String),
    /// `v[t]`: an element of a sequence.
    Index(String, Vec<Expr>),
    /// `sigma(x)`: an application of a declared function.
    Call(String, Vec<Expr>),
    /// `exp(x)`, `dot(x, y)`: a built-in function (see `builtins`).
    Builtin(Func, Vec<Expr>),
    /// `sum(i, lo, hi, body)` and `prod(i, lo, hi, body)`; `var` is bound in `body`.
    BigOp {
        op: BigOp,
        var: String,
        lo: Box<Expr>,
        hi: Box<Expr>,
        body: Box<Expr>,
    },
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `A^T`.
    Transpose(Box<Expr>),
    /// `E[body]`; with `gaussian = (x, mean, cov)`, `E(x ~ N(mean, cov))[body]` binds `x`.
    Expect {
        gaussian: Option<(String, Box<Expr>, Box<Expr>)>,
        body: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BigOp {
    Sum,
    Prod,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    pub fn num(n: BigRational, span: Span) -> Expr {
        Expr::new(ExprKind::Num(n), span)
    }

    pub fn int(n: i64, span: Span) -> Expr {
        Expr::num(BigRational::from_integer(n.into()), span)
    }

    pub fn name(name: &str, span: Span) -> Expr {
        Expr::new(ExprKind::Name(name.to_string()), span)
    }

    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        let span = a.span.to(b.span);
        Expr::new(ExprKind::Bin(op, Box::new(a), Box::new(b)), span)
    }

    /// The direct subexpressions, in order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Num(_) | ExprKind::Name(_) => vec![],
            ExprKind::Index(_, args) | ExprKind::Call(_, args) | ExprKind::Builtin(_, args) => args.iter().collect(),
            ExprKind::BigOp { lo, hi, body, .. } => vec![lo, hi, body],
            ExprKind::Neg(a) | ExprKind::Transpose(a) => vec![a],
            ExprKind::Bin(_, a, b) => vec![a, b],
            ExprKind::Expect { gaussian: Some((_, m, c)), body } => vec![m, c, body],
            ExprKind::Expect { gaussian: None, body } => vec![body],
        }
    }

    /// The variable a node binds in its last child (`sum`'s index, `E(x ~ …)`'s `x`).
    pub fn binds(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::BigOp { var, .. } => Some(var),
            ExprKind::Expect { gaussian: Some((var, ..)), .. } => Some(var),
            _ => None,
        }
    }

    /// Rebuilds this node with new children (same order as [`Expr::children`]).
    pub fn with_children(&self, mut new: Vec<Expr>) -> Expr {
        let kind = match &self.kind {
            ExprKind::Num(_) | ExprKind::Name(_) => self.kind.clone(),
            ExprKind::Index(n, _) => ExprKind::Index(n.clone(), new),
            ExprKind::Call(n, _) => ExprKind::Call(n.clone(), new),
            ExprKind::Builtin(f, _) => ExprKind::Builtin(*f, new),
            ExprKind::BigOp { op, var, .. } => {
                let body = Box::new(new.pop().expect("body"));
                let hi = Box::new(new.pop().expect("hi"));
                let lo = Box::new(new.pop().expect("lo"));
                ExprKind::BigOp { op: *op, var: var.clone(), lo, hi, body }
            }
            ExprKind::Neg(_) => ExprKind::Neg(Box::new(new.remove(0))),
            ExprKind::Transpose(_) => ExprKind::Transpose(Box::new(new.remove(0))),
            ExprKind::Bin(op, _, _) => {
                let b = new.pop().expect("rhs");
                let a = new.pop().expect("lhs");
                ExprKind::Bin(*op, Box::new(a), Box::new(b))
            }
            ExprKind::Expect { gaussian, .. } => {
                let body = Box::new(new.pop().expect("body"));
                let gaussian = gaussian.as_ref().map(|(var, ..)| {
                    let cov = new.pop().expect("covariance");
                    let mean = new.pop().expect("mean");
                    (var.clone(), Box::new(mean), Box::new(cov))
                });
                ExprKind::Expect { gaussian, body }
            }
        };
        Expr::new(kind, self.span)
    }

    /// Replaces free occurrences of names by expressions, without capture: a bound variable
    /// (of `sum`, or of `E(x ~ …)`) that a replacement mentions is renamed first.
    pub fn substitute(&self, map: &std::collections::HashMap<String, Expr>) -> Expr {
        match &self.kind {
            ExprKind::Name(n) => match map.get(n) {
                Some(e) => e.clone(),
                None => self.clone(),
            },
            _ => match self.binds() {
                None => self.with_children(self.children().into_iter().map(|c| c.substitute(map)).collect()),
                Some(var) => {
                    let mut inner = map.clone();
                    inner.remove(var);
                    let (renamed, inner) = if inner.values().any(|e| e.mentions(var)) {
                        let fresh = (1..)
                            .map(|k| format!("{var}{k}"))
                            .find(|f| !self.mentions(f) && !inner.values().any(|e| e.mentions(f)) && !inner.contains_key(f))
                            .unwrap_or_default();
                        let mut with_fresh = inner;
                        with_fresh.insert(var.to_string(), Expr::name(&fresh, self.span));
                        (Some(fresh), with_fresh)
                    } else {
                        (None, inner)
                    };
                    let children = self.children();
                    let last = children.len() - 1;
                    let new = children.into_iter().enumerate().map(|(i, c)| c.substitute(if i == last { &inner } else { map })).collect();
                    let out = self.with_children(new);
                    match renamed {
                        None => out,
                        Some(fresh) => out.rename_binder(&fresh),
                    }
                }
            },
        }
    }

    /// This binder node with its bound variable called `name` (the body already uses it).
    fn rename_binder(mut self, name: &str) -> Expr {
        match &mut self.kind {
            ExprKind::BigOp { var, .. } => *var = name.to_string(),
            ExprKind::Expect { gaussian: Some((var, ..)), .. } => *var = name.to_string(),
            _ => {}
        }
        self
    }

    /// Whether a name occurs free in this expression.
    /// The value of a constant written with numbers, `+ - * /` and small whole powers
    /// (`1/2`, `70*70`, `2^10`), if it is one and not too large.
    pub fn rational(&self) -> Option<BigRational> {
        use num_traits::{ToPrimitive, Zero};
        match &self.kind {
            ExprKind::Num(q) => Some(q.clone()),
            ExprKind::Neg(a) => a.rational().map(|q| -q),
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (a.rational()?, b.rational()?);
                match op {
                    BinOp::Add => Some(x + y),
                    BinOp::Sub => Some(x - y),
                    BinOp::Mul => Some(x * y),
                    BinOp::Div if !y.is_zero() => Some(x / y),
                    BinOp::Pow if y.is_integer() => {
                        let k = y.to_integer().to_i32().filter(|k| k.unsigned_abs() <= 64)?;
                        let bits = x.numer().bits() + x.denom().bits();
                        (bits * u64::from(k.unsigned_abs()) <= 4096 && !(x.is_zero() && k < 0)).then(|| num_traits::Pow::pow(x, k))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Whether an expectation `E[…]` or `E(x ~ …)[…]` appears anywhere in it.
    /// The name a name, sequence element or function application is of.
    pub fn head(&self) -> Option<&String> {
        match &self.kind {
            ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) => Some(n),
            _ => None,
        }
    }

    pub fn has_expectation(&self) -> bool {
        matches!(self.kind, ExprKind::Expect { .. }) || self.children().into_iter().any(Expr::has_expectation)
    }

    pub fn mentions(&self, name: &str) -> bool {
        match &self.kind {
            ExprKind::Name(n) => n == name,
            _ => {
                let children = self.children();
                let last = children.len().saturating_sub(1);
                let bound = self.binds() == Some(name);
                children.iter().enumerate().any(|(i, c)| !(bound && i == last) && c.mentions(name))
            }
        }
    }
}

/// What a declared name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    /// An integer: induction and summation variables, `for t >= 1` variables.
    Integer,
    Vector,
    Matrix,
    /// An uninterpreted function, applied elementwise to vectors.
    Function,
    Sequence(Box<Kind>),
}

impl Kind {
    pub fn describe(&self) -> String {
        match self {
            Kind::Scalar => "a scalar".into(),
            Kind::Integer => "an integer".into(),
            Kind::Vector => "a vector".into(),
            Kind::Matrix => "a matrix".into(),
            Kind::Function => "a function".into(),
            Kind::Sequence(of) => match **of {
                Kind::Scalar => "a sequence".into(),
                ref other => format!("a sequence of {}", other.describe().trim_start_matches("a ")),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    pub kind: Kind,
    /// Declared dimensions (`matrix n x d`), as names or numbers.
    pub shape: Vec<String>,
    pub latex: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Rel {
    Eq,
    Le,
    Lt,
    Ge,
    Gt,
    /// `!=`, `≠`.
    Ne,
    /// `->`: a limit claim `X -> L as T -> inf` (see `Rule::limit`); never a fact or a step.
    To,
}

impl Rel {
    pub fn symbol(self) -> &'static str {
        match self {
            Rel::Eq => "=",
            Rel::Le => "<=",
            Rel::Lt => "<",
            Rel::Ge => ">=",
            Rel::Gt => ">",
            Rel::Ne => "!=",
            Rel::To => "->",
        }
    }

    pub fn latex(self) -> &'static str {
        match self {
            Rel::Eq => "=",
            Rel::Le => "\\le",
            Rel::Lt => "<",
            Rel::Ge => "\\ge",
            Rel::Gt => ">",
            Rel::Ne => "\\ne",
            Rel::To => "\\to",
        }
    }

    /// `b REL' a` for `a REL b`: the same fact read from the other side.
    pub fn flipped(self) -> Rel {
        match self {
            Rel::Le => Rel::Ge,
            Rel::Lt => Rel::Gt,
            Rel::Ge => Rel::Le,
            Rel::Gt => Rel::Lt,
            other => other,
        }
    }

    /// Whether `a REL b` holds for two numbers, given their ordering (a limit is never
    /// decided by two numbers).
    /// `<=`, `<`, `>=` or `>`.
    pub fn is_order(self) -> bool {
        matches!(self, Rel::Le | Rel::Lt | Rel::Ge | Rel::Gt)
    }

    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Rel::To => false,
            Rel::Eq => ordering == Equal,
            Rel::Le => ordering != Greater,
            Rel::Lt => ordering == Less,
            Rel::Ge => ordering != Less,
            Rel::Gt => ordering == Greater,
            Rel::Ne => ordering != Equal,
        }
    }
}

/// `lhs REL rhs`.
#[derive(Debug, Clone)]
pub struct Relation {
    pub lhs: Expr,
    pub rel: Rel,
    pub rhs: Expr,
}

/// A fact `lhs REL rhs` from `assume` or a `for` condition.
pub type Fact = Relation;

/// A universally quantified variable of a rule, with the facts that restrict it.
#[derive(Debug, Clone)]
pub struct Binder {
    pub var: String,
    pub kind: Kind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Def,
    Given,
    Lemma,
    Claim,
}

impl RuleKind {
    pub fn keyword(self) -> &'static str {
        match self {
            RuleKind::Def => "def",
            RuleKind::Given => "given",
            RuleKind::Lemma => "lemma",
            RuleKind::Claim => "claim",
        }
    }
}

/// A named statement: `def`, `given`, `lemma` or `claim`, with its `for` variables.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: RuleKind,
    pub name: String,
    pub relation: Relation,
    pub binders: Vec<Binder>,
    /// Conditions on the binders (`t >= 1`).
    pub conditions: Vec<Fact>,
    pub span: Span,
    /// A limit claim `X -> L as T -> inf`: the variable `T` (an integer binder) that grows.
    pub limit: Option<String>,
    /// Claims and lemmas: the proof, when given.
    pub proof: Option<Proof>,
    pub checks: Vec<Check>,
}

impl Rule {
    /// The chains of its proof: none, one, or an induction's base chains, then its step
    /// chains.
    pub fn chains(&self) -> Vec<&Chain> {
        match &self.proof {
            None => vec![],
            Some(Proof::Chain(c)) => vec![c],
            Some(Proof::Induction { base, step, .. }) => base.iter().chain(step).collect(),
        }
    }

    /// The names its proof's steps cite (`by a, b`), in order, with repeats.
    pub fn cited(&self) -> Vec<&str> {
        self.chains()
            .into_iter()
            .flat_map(|c| &c.steps)
            .flat_map(|s| if let Justification::Rules(names) = &s.by { names.iter().map(|(n, _)| n.as_str()).collect() } else { vec![] })
            .collect()
    }

    /// Whether a step asks the checker to search (`by ?`).
    pub fn searches(&self) -> bool {
        self.chains().into_iter().flat_map(|c| &c.steps).any(|s| s.by == Justification::Search)
    }
}

#[derive(Debug, Clone)]
pub enum Proof {
    Chain(Chain),
    /// `proof induction on t from 0 [with name: lhs = rhs, …]`: the claim and its companion
    /// equations shown together, each with one chain in `base` and one in `step`, in order.
    Induction {
        var: String,
        from: i64,
        companions: Vec<Companion>,
        base: Vec<Chain>,
        step: Vec<Chain>,
        span: Span,
    },
}

/// An equation an induction carries along with its claim (`with same_s: s[t] = S[t]`): its
/// own base and step chains, and, in every step, the hypothesis `name` (it one index earlier).
#[derive(Debug, Clone)]
pub struct Companion {
    pub name: String,
    pub relation: Relation,
    pub span: Span,
}

/// `first REL e1 by … / REL e2 by … / …`
#[derive(Debug, Clone)]
pub struct Chain {
    pub first: Expr,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub rel: Rel,
    pub rhs: Expr,
    pub by: Justification,
    /// The whole line of the step.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Justification {
    /// No `by`, or `by algebra`: normalization alone.
    Algebra,
    /// `by ?`: the checker searches all names in scope.
    Search,
    /// Named rules; `hypothesis` is one of them inside an induction step.
    Rules(Vec<(String, Span)>),
}

/// Extra evidence requested for the claim just before.
#[derive(Debug, Clone)]
pub enum Check {
    /// `check exact N [with n = 5, d = 3, sigma = tanh]`
    Exact { samples: usize, with: With, span: Span },
    /// `check trajectory LHS = RHS for t in A..B [control GIVEN] [float] [with …]`
    Trajectory { relation: Relation, var: String, from: i64, to: i64, control: Option<(String, Span)>, float: bool, with: With, span: Span },
    /// `check unroll t in A..B`
    Unroll { var: String, from: i64, to: i64, span: Span },
    /// `check montecarlo E[X] = Y where g[i] ~ Normal(m, s), beta = 9/10, t in 1..30, samples 20000`
    MonteCarlo { relation: Relation, setup: MonteCarloSetup, span: Span },
    /// `check rate ERR ~ m^(-1/2) for m in 1, 4, 16 where omega[j] ~ Normal(0, 1), samples N`:
    /// the root mean square of `ERR` at each value of `m`, by sampling, and the slope of its
    /// logarithm against that of `m`, tested against the stated exponent.
    Rate { error: Expr, var: String, rate: num_rational::BigRational, values: Vec<i64>, setup: MonteCarloSetup, span: Span },
    /// `check cost n in 8..64 [with d = 4, m = 2]`: exact multiply-add counts of both sides.
    Cost { var: String, from: i64, to: i64, with: With, span: Span },
    /// `check derivative J[t] = d(h[t])/d(h[0]) for t in A..B [with …]`: `jacobian` is the
    /// derivative of `of` with respect to the drawn value `by`, in float models.
    Derivative { jacobian: Expr, of: Expr, by: Expr, var: String, from: i64, to: i64, with: With, span: Span },
}

impl Check {
    /// The whole `check` line.
    pub fn span(&self) -> Span {
        match self {
            Check::Exact { span, .. }
            | Check::Trajectory { span, .. }
            | Check::Unroll { span, .. }
            | Check::MonteCarlo { span, .. }
            | Check::Rate { span, .. }
            | Check::Cost { span, .. }
            | Check::Derivative { span, .. } => *span,
        }
    }
}

/// Sizes of dimensions and concrete functions for float models (`n = 16, sigma = tanh`).
#[derive(Debug, Clone, Default)]
pub struct With {
    pub sizes: Vec<(String, usize)>,
    pub functions: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct MonteCarloSetup {
    /// `g[i] ~ Normal(mean, sd)`: the sequence (or scalar) and its distribution.
    pub draws: Vec<(String, Expr, Expr)>,
    /// `beta = 9/10`: values of scalars.
    pub values: Vec<(String, Expr)>,
    /// `n = 5`: sizes of dimension names.
    pub sizes: Vec<(String, usize)>,
    /// `t in 1..30`: the points where the claim is compared.
    pub range: Option<(String, i64, i64)>,
    pub samples: usize,
}

#[derive(Debug, Clone)]
pub enum Statement {
    Let(Vec<Decl>),
    Assume(Vec<Fact>, Span),
    Rule(Box<Rule>),
    Exists(Box<Existence>),
    Complexity(Box<Complexity>),
    Simulation(Box<Simulation>),
    Algorithm(Box<Algorithm>),
}

/// `algorithm adam_l2 as "Adam with L2" against adam: g_l2, s_l2, r_l2, step_l2`: definitions
/// the report shows together as the lines of one algorithm, beside the algorithm it is
/// `against` with the lines that differ marked. It states nothing and is not checked.
#[derive(Debug, Clone)]
pub struct Algorithm {
    pub name: String,
    pub title: Option<String>,
    pub against: Option<String>,
    /// The `def`s and `given`s, in the order of the lines.
    pub rules: Vec<String>,
    pub span: Span,
}

/// `claim name: E[X] > E[Y] where xi[t] ~ Normal(0, 1), …, t in 1..100, samples N`: a
/// statement about expectations under the distributions it states, shown only by simulating
/// the file's definitions (a Monte Carlo check), so supported by evidence at best; never cited.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub name: String,
    pub relation: Relation,
    pub setup: MonteCarloSetup,
    pub span: Span,
}

/// `claim name: time(X) = Theta(n^2*d) [when n >= d, k = d]`: how the cost of evaluating `X`
/// as written grows with the sizes. Shown by counting, never cited.
#[derive(Debug, Clone)]
pub struct Complexity {
    pub name: String,
    pub measure: Measure,
    pub expr: Expr,
    pub bound: CostBound,
    /// `n >= d`: the claim is about sizes where the first is at least the second.
    pub regime: Vec<(String, String)>,
    /// `k = d`: the first size is the second.
    pub equal: Vec<(String, String)>,
    /// `n = 4096`, `m <= 1357`: sizes held to numbers (comparisons only).
    pub numbers: Vec<(String, Rel, i64)>,
    pub span: Span,
}

/// What a complexity claim says of the cost.
#[derive(Debug, Clone)]
pub enum CostBound {
    /// `= Theta(f)`, `= O(f)`: f a polynomial in the sizes with positive coefficients.
    Class(Growth, Expr),
    /// `< time(Y)`, `<= time(Y)` (the same measure): no dearer than evaluating `Y`, at every
    /// size the claim's numbers allow.
    Than(Rel, Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Time,
    Space,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Time => "time",
            Measure::Space => "space",
        }
    }
}

/// `Theta(f)` (grows like f) or `O(f)` (at most like f).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    Theta,
    BigO,
}

impl Growth {
    pub fn name(self) -> &'static str {
        match self {
            Growth::Theta => "Theta",
            Growth::BigO => "O",
        }
    }
}

/// `claim name: exists W, h[0] with C1, C2 [without g]` and its `witness` line: there are
/// values of the listed names (with everything the file defines from them) at which every
/// condition holds, and every `given` or `assume` about them except those set aside.
/// It is shown by evaluating the conditions at the witness; it cannot be cited.
#[derive(Debug, Clone)]
pub struct Existence {
    pub name: String,
    /// The names whose values the witness gives: `W`, or a sequence's element `h[0]`.
    pub names: Vec<Expr>,
    /// The conditions; a limit `X -> L as T -> inf` has its variable in `limits`.
    pub conditions: Vec<Relation>,
    /// For each condition, the variable of its limit (`T`), if it is one.
    pub limits: Vec<Option<String>>,
    /// Givens the claim sets aside (`without spectrum`): the witness need not satisfy them.
    pub without: Vec<(String, Span)>,
    pub witness: Option<Witness>,
    pub span: Span,
}

/// `witness W = 2*I, h[0] = [5, 5], x[t] = 0*ones with n = 2, sigma = tanh`.
#[derive(Debug, Clone)]
pub struct Witness {
    pub values: Vec<WitnessValue>,
    /// Sizes of the dimensions and concrete functions (`sigma = tanh`).
    pub with: With,
    pub span: Span,
}

/// One value of a witness: `lhs = value`, where `lhs` is a name, a sequence element at a
/// number, or a sequence at every index (`x[t]`, with `var` the index).
#[derive(Debug, Clone)]
pub struct WitnessValue {
    pub lhs: Expr,
    /// The variables of a whole sequence (`x[t] = …`) or a function (`f(t, w) = …`).
    pub vars: Vec<(String, Kind)>,
    pub value: WitnessExpr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum WitnessExpr {
    Expr(Expr),
    /// `[[2, 0], [0, 2]]` (rows) or `[5, 5]` (a column vector: one entry per row).
    Literal(Vec<Vec<Expr>>),
}

/// One ```derivation block, parsed.
#[derive(Debug, Clone)]
pub struct Block {
    pub statements: Vec<Statement>,
    pub span: Span,
}
