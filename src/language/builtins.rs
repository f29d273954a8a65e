//! The one table of what the language has built in: functions (with their number of
//! arguments, the kind of their value, their LaTeX and their meaning in the algebra engine),
//! the constants `ones` and `I`, the citable lemmas and the keywords.
//! Every stage reads these tables instead of spelling the names again.

/// A built-in function of expressions. User functions (`let f: function`) are never one of
/// these: the names are reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Dot,
    Norm,
    Diag,
    ExpElem,
    SoftmaxRow,
    SoftmaxCol,
    Abs,
    Opnorm,
    LambdaMax,
    MaxAbs,
    Rank,
    Sign,
    /// `x .* y`: the element-wise product of vectors (a scalar stands for that multiple of
    /// `ones`).
    EMul,
    /// `x ./ y`: the element-wise quotient of vectors.
    EDiv,
    /// `sqrt`, `abs` and `sign` of a vector, entry by entry: written `sqrt(x)`, told apart
    /// from the scalar functions by the parser, so that no scalar reasoning sees them.
    SqrtElem,
    AbsElem,
    SignElem,
    /// `grad(E, x)`: the gradient of the scalar `E` in the vector `x` (`language::gradient`).
    Grad,
}

/// The kind of a built-in's value (vectors count as matrices of one column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    Scalar,
    Matrix,
    /// The kind of its arguments: an element-wise operation.
    Entrywise,
}

/// What a built-in function is, for every stage.
#[derive(Debug)]
pub struct FuncInfo {
    pub func: Func,
    pub name: &'static str,
    pub arity: usize,
    /// The kind of its value.
    pub value: Returns,
    /// The LaTeX form; `$0` and `$1` stand for the arguments.
    pub latex: &'static str,
    /// The engine's function of the same meaning (scalar arguments only); the others are
    /// translated by the symbolic layer itself or stay opaque.
    pub engine: Option<&'static str>,
}

pub const FUNCTIONS: &[FuncInfo] = &[
    FuncInfo { func: Func::Exp, name: "exp", arity: 1, value: Returns::Scalar, latex: "\\exp\\left($0\\right)", engine: Some("exp") },
    FuncInfo { func: Func::Log, name: "log", arity: 1, value: Returns::Scalar, latex: "\\log\\left($0\\right)", engine: Some("log") },
    FuncInfo { func: Func::Sqrt, name: "sqrt", arity: 1, value: Returns::Scalar, latex: "\\sqrt{$0}", engine: Some("sqrt") },
    FuncInfo { func: Func::Dot, name: "dot", arity: 2, value: Returns::Scalar, latex: "$0^\\top $1", engine: None },
    FuncInfo { func: Func::Norm, name: "norm", arity: 1, value: Returns::Scalar, latex: "\\left\\lVert $0\\right\\rVert", engine: None },
    FuncInfo { func: Func::Diag, name: "diag", arity: 1, value: Returns::Matrix, latex: "\\operatorname{diag}\\left($0\\right)", engine: None },
    FuncInfo { func: Func::ExpElem, name: "exp_elem", arity: 1, value: Returns::Matrix, latex: "\\exp\\left($0\\right)", engine: None },
    FuncInfo {
        func: Func::SoftmaxRow,
        name: "softmax_row",
        arity: 1,
        value: Returns::Matrix,
        latex: "\\operatorname{softmax}_{\\mathrm{row}}\\left($0\\right)",
        engine: None,
    },
    FuncInfo {
        func: Func::SoftmaxCol,
        name: "softmax_col",
        arity: 1,
        value: Returns::Matrix,
        latex: "\\operatorname{softmax}_{\\mathrm{col}}\\left($0\\right)",
        engine: None,
    },
    FuncInfo { func: Func::Abs, name: "abs", arity: 1, value: Returns::Scalar, latex: "\\left\\lvert $0\\right\\rvert", engine: None },
    FuncInfo { func: Func::Opnorm, name: "opnorm", arity: 1, value: Returns::Scalar, latex: "\\left\\lVert $0\\right\\rVert_{2}", engine: None },
    FuncInfo { func: Func::LambdaMax, name: "lambda_max", arity: 1, value: Returns::Scalar, latex: "\\lambda_{1}\\left($0\\right)", engine: None },
    FuncInfo {
        func: Func::MaxAbs,
        name: "maxabs",
        arity: 1,
        value: Returns::Scalar,
        latex: "\\left\\lVert $0\\right\\rVert_{\\infty}",
        engine: None,
    },
    FuncInfo { func: Func::Rank, name: "rank", arity: 1, value: Returns::Scalar, latex: "\\operatorname{rank}\\left($0\\right)", engine: None },
    FuncInfo { func: Func::Sign, name: "sign", arity: 1, value: Returns::Scalar, latex: "\\operatorname{sign}\\left($0\\right)", engine: None },
    FuncInfo { func: Func::EMul, name: "emul", arity: 2, value: Returns::Entrywise, latex: "$0 \\odot $1", engine: None },
    FuncInfo { func: Func::EDiv, name: "ediv", arity: 2, value: Returns::Entrywise, latex: "$0 \\oslash $1", engine: None },
    FuncInfo { func: Func::SqrtElem, name: "sqrt_elem", arity: 1, value: Returns::Entrywise, latex: "\\sqrt{$0}", engine: None },
    FuncInfo { func: Func::AbsElem, name: "abs_elem", arity: 1, value: Returns::Entrywise, latex: "\\left\\lvert $0\\right\\rvert", engine: None },
    FuncInfo {
        func: Func::SignElem,
        name: "sign_elem",
        arity: 1,
        value: Returns::Entrywise,
        latex: "\\operatorname{sign}\\left($0\\right)",
        engine: None,
    },
    FuncInfo { func: Func::Grad, name: "grad", arity: 2, value: Returns::Entrywise, latex: "\\nabla_{$1}\\left($0\\right)", engine: None },
];

impl Func {
    pub fn info(self) -> &'static FuncInfo {
        FUNCTIONS.iter().find(|f| f.func == self).expect("every function is in the table")
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The element-wise version of a scalar function, for a vector argument.
    pub fn entrywise(self) -> Option<Func> {
        match self {
            Func::Sqrt => Some(Func::SqrtElem),
            Func::Abs => Some(Func::AbsElem),
            Func::Sign => Some(Func::SignElem),
            _ => None,
        }
    }

    /// The scalar function an element-wise one applies to each entry.
    pub fn of_entries(self) -> Option<Func> {
        [Func::Sqrt, Func::Abs, Func::Sign].into_iter().find(|f| f.entrywise() == Some(self))
    }

    /// How a user writes it: the element-wise functions as their scalar names.
    pub fn written(self) -> &'static str {
        match self {
            Func::SqrtElem => "sqrt",
            Func::AbsElem => "abs",
            Func::SignElem => "sign",
            Func::EMul => ".*",
            Func::EDiv => "./",
            f => f.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        FUNCTIONS.iter().find(|f| f.name == name).map(|f| f.func)
    }
}

/// Built-in names: the all-ones vector and the identity matrix, sized by where they are used.
pub const ONES: &str = "ones";
pub const IDENTITY: &str = "I";
pub const CONSTANTS: &[&str] = &[ONES, IDENTITY];

/// The lemmas of the built-in library (`check/library.md` states each with its evidence);
/// `statements` names the lemmas of the library that state it.
#[derive(Debug)]
pub struct LemmaInfo {
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

pub const LEMMAS: &[LemmaInfo] = &[
    LemmaInfo { name: "sum", statements: &["sum_split_last", "sum_shift_and_scale"] },
    LemmaInfo { name: "geometric", statements: &["geometric_series"] },
    LemmaInfo { name: "linearity", statements: &["linearity_of_expectation", "linearity_over_sums"] },
    LemmaInfo { name: "gaussian_mgf", statements: &["gaussian_mgf_formula"] },
    LemmaInfo { name: "softmax", statements: &["softmax_rows"] },
    LemmaInfo { name: "diag_inverse", statements: &["diag_inv_vector", "diag_inv_diag"] },
    LemmaInfo { name: "transpose", statements: &["transpose_of_product"] },
    LemmaInfo { name: "submultiplicative", statements: &["opnorm_of_product"] },
    LemmaInfo { name: "opnorm_eig", statements: &["opnorm_by_eigenvalue"] },
    LemmaInfo { name: "opnorm_diag", statements: &["opnorm_of_diagonal"] },
    LemmaInfo { name: "rank_product", statements: &["rank_of_product", "rank_of_matrix"] },
];

pub fn is_lemma(name: &str) -> bool {
    LEMMAS.iter().any(|l| l.name == name)
}

/// A concrete function a float model (`with sigma = tanh`) or a witness may give a declared
/// function.
#[derive(Debug)]
pub struct Concrete {
    pub name: &'static str,
    /// The concrete function that is its derivative, if it is one of these.
    pub derivative: Option<&'static str>,
    /// The least upper bound of its absolute value over the reals, `(numerator, denominator)`,
    /// when it is bounded: what a bound `abs(f(z)) <= c for z` is checked against at a witness.
    pub sup_abs: Option<(i64, i64)>,
    /// Whether some real argument reaches that supremum (`tanh` only tends to 1).
    pub sup_attained: bool,
    /// The LaTeX form; `$0` stands for the argument.
    pub latex: &'static str,
}

pub const CONCRETE: &[Concrete] = &[
    Concrete { name: "tanh", sup_attained: false, derivative: Some("dtanh"), sup_abs: Some((1, 1)), latex: "\\tanh($0)" },
    Concrete { name: "dtanh", sup_attained: true, derivative: None, sup_abs: Some((1, 1)), latex: "(1 - \\tanh^2($0))" },
    Concrete { name: "sigmoid", sup_attained: false, derivative: Some("dsigmoid"), sup_abs: Some((1, 1)), latex: "\\operatorname{sigmoid}($0)" },
    Concrete { name: "dsigmoid", sup_attained: true, derivative: None, sup_abs: Some((1, 4)), latex: "\\operatorname{sigmoid}'($0)" },
    Concrete { name: "relu", sup_attained: false, derivative: None, sup_abs: None, latex: "\\max(0, $0)" },
    Concrete { name: "exp", sup_attained: false, derivative: Some("exp"), sup_abs: None, latex: "\\exp($0)" },
];

pub fn concrete(name: &str) -> Option<&'static Concrete> {
    CONCRETE.iter().find(|c| c.name == name)
}

/// `sum(i, lo, hi, body)` and `prod(…)`.
/// Greek letters: typed directly, each is the same name as its spelling, and the spelling is
/// shown as the letter in LaTeX (but omicron, which LaTeX writes as a Latin o).
pub const GREEK: &[(char, &str)] = &[
    ('α', "alpha"),
    ('β', "beta"),
    ('γ', "gamma"),
    ('δ', "delta"),
    ('ε', "epsilon"),
    ('ϵ', "varepsilon"),
    ('ζ', "zeta"),
    ('η', "eta"),
    ('θ', "theta"),
    ('ϑ', "vartheta"),
    ('ι', "iota"),
    ('κ', "kappa"),
    ('λ', "lambda"),
    ('μ', "mu"),
    ('ν', "nu"),
    ('ξ', "xi"),
    ('ο', "omicron"),
    ('π', "pi"),
    ('ϖ', "varpi"),
    ('ρ', "rho"),
    ('σ', "sigma"),
    ('ς', "varsigma"),
    ('τ', "tau"),
    ('υ', "upsilon"),
    ('φ', "phi"),
    ('ϕ', "varphi"),
    ('χ', "chi"),
    ('ψ', "psi"),
    ('ω', "omega"),
    ('Γ', "Gamma"),
    ('Δ', "Delta"),
    ('Θ', "Theta"),
    ('Λ', "Lambda"),
    ('Ξ', "Xi"),
    ('Π', "Pi"),
    ('Σ', "Sigma"),
    ('Υ', "Upsilon"),
    ('Φ', "Phi"),
    ('Ψ', "Psi"),
    ('Ω', "Omega"),
];

pub const BIG_OPS: &[&str] = &["sum", "prod"];

pub const KEYWORDS: &[&str] = &[
    "E",
    "let",
    "assume",
    "def",
    "given",
    "lemma",
    "claim",
    "proof",
    "qed",
    "check",
    "for",
    "by",
    "hypothesis",
    "algebra",
    "exists",
    "witness",
    "algorithm",
];

/// Whether a name is taken by the language: it cannot be declared or name a rule.
pub fn reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || Func::from_name(name).is_some() || CONSTANTS.contains(&name) || is_lemma(name) || BIG_OPS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_has_one_entry_and_a_latex_form_for_each_argument() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert_eq!(f.func.info().name, f.name);
            assert!(FUNCTIONS[i + 1..].iter().all(|g| g.name != f.name && g.func != f.func), "{} twice", f.name);
            for k in 0..f.arity {
                assert!(f.latex.contains(&format!("${k}")), "{}: no ${k} in its LaTeX", f.name);
            }
            assert!(reserved(f.name));
        }
    }

    /// Each built-in lemma is stated in the library file, under the names the table gives.
    #[test]
    fn every_lemma_is_stated_in_the_library() {
        let library = include_str!("../prove/library.md");
        for lemma in LEMMAS {
            assert!(!lemma.statements.is_empty(), "{} has no statement", lemma.name);
            for statement in lemma.statements {
                assert!(library.contains(&format!("lemma {statement}:")), "`{}`: no `lemma {statement}` in library.md", lemma.name);
            }
            assert!(library.contains(&format!("**`{}`**", lemma.name)), "`{}` has no section in library.md", lemma.name);
        }
    }
}
