//! What a file must satisfy beyond its syntax, checked once after parsing, as input errors:
//! kinds that fit (no scalar added to a matrix, no `exp` of a vector), and definitions that
//! define. A `def` is accepted without proof, so it must not be able to say anything false:
//! it may not refer to itself except at an earlier index of a sequence, definitions may not
//! refer to each other in a cycle, and a name, sequence element or function value is defined
//! once (a sequence may have base cases at indices its general definition leaves out).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::affine::Affine;

use super::ast::{BinOp, Check, CostBound, Decl, Existence, Expr, ExprKind, Kind, Proof, Rel, Rule, RuleKind, Statement, WitnessExpr};
use super::builtins::Func;
use super::shapes::{self, Declared};
use super::{Document, Item, Kinds, text};
use crate::diagnostic::InputError;

/// Every input error of this kind in the file.
pub fn errors(doc: &Document) -> Vec<InputError> {
    let mut out = Vec::new();
    let kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
    // What the file defines: a gradient holding these fixed would ignore how they depend on
    // its variable.
    let defined: HashSet<String> = doc
        .rules()
        .filter(|r| matches!(r.kind, RuleKind::Def | RuleKind::Given) && r.relation.rel == Rel::Eq)
        .filter_map(|r| r.relation.lhs.head().cloned())
        .collect();
    let declared: Declared = doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.shape.clone())).collect();
    // Gradients' bodies, and values of two sizes combined (`x + y`, `A*B`, `dot(x, y)`).
    let content_errors = |e: &Expr, kinds: &Kinds, out: &mut Vec<InputError>| {
        gradient_errors(e, &defined, out);
        shapes::shape(e, kinds, &declared, &mut |part, message| {
            out.push(InputError::new(part.span, format!("this {message}")).help("the declared shapes must fit"));
        });
    };
    for item in &doc.items {
        let Item::Block(block) = item else { continue };
        for statement in &block.statements {
            match statement {
                Statement::Let(_) | Statement::Algorithm(_) => {}
                Statement::Assume(facts, _) => {
                    for f in facts {
                        check_kinds(&f.lhs, &kinds, &mut out);
                        check_kinds(&f.rhs, &kinds, &mut out);
                    }
                }
                Statement::Exists(claim) => existence_errors(claim, &kinds, &mut out),
                Statement::Simulation(claim) => {
                    let mut kinds = kinds.clone();
                    if let Some((var, ..)) = &claim.setup.range {
                        kinds.insert(var.clone(), Kind::Integer);
                    }
                    for side in [&claim.relation.lhs, &claim.relation.rhs] {
                        check_kinds(side, &kinds, &mut out);
                        content_errors(side, &kinds, &mut out);
                    }
                }
                Statement::Complexity(claim) => {
                    // Sizes may appear as numbers (`sum(i, 1, h, …)`, `1/d`).
                    let mut kinds = kinds.clone();
                    for d in doc.scope.decls.values().flat_map(|d| d.shape.iter()).filter(|s| s.parse::<u64>().is_err()) {
                        if kinds.get(d).is_none() {
                            kinds.insert(d.clone(), Kind::Integer);
                        }
                    }
                    check_kinds(&claim.expr, &kinds, &mut out);
                    if let CostBound::Than(_, other) = &claim.bound {
                        check_kinds(other, &kinds, &mut out);
                    }
                }
                Statement::Rule(rule) => {
                    let mut kinds = kinds.clone();
                    for b in &rule.binders {
                        kinds.insert(b.var.clone(), b.kind.clone());
                    }
                    for e in rule_expressions(rule) {
                        check_kinds(e, &kinds, &mut out);
                        content_errors(e, &kinds, &mut out);
                    }
                    for (a, b) in rule_equations(rule) {
                        equation_kinds(a, b, &kinds, &doc.scope.decls, &declared, &mut out);
                    }
                }
            }
        }
    }
    check_definitions(doc, &mut out);
    // A part met in several places (a claim's side and its chain's first line) is blamed once.
    let mut seen = HashSet::new();
    out.retain(|e| seen.insert(format!("{:?} {}", e.span, e.message)));
    out
}

/// Kinds in an existence claim's conditions, and values of its witness that fit the kinds of
/// the names they are given to (a literal is of numbers, and a matrix only for a matrix).
fn existence_errors(claim: &Existence, kinds: &Kinds, out: &mut Vec<InputError>) {
    for (c, limit) in claim.conditions.iter().zip(&claim.limits) {
        let mut kinds = kinds.clone();
        if let Some(var) = limit {
            kinds.insert(var.clone(), Kind::Integer);
        }
        check_kinds(&c.lhs, &kinds, out);
        check_kinds(&c.rhs, &kinds, out);
    }
    let Some(witness) = &claim.witness else { return };
    for v in &witness.values {
        let mut kinds = kinds.clone();
        for (var, kind) in &v.vars {
            kinds.insert(var.clone(), kind.clone());
        }
        if let ExprKind::Call(..) = v.lhs.kind {
            // A function's value takes the kind of its arguments (`dL(t, w) = w`).
            if let WitnessExpr::Expr(e) = &v.value {
                check_kinds(e, &kinds, out);
            }
            continue;
        }
        let wanted = match kinds.of(&v.lhs) {
            Kind::Sequence(of) => *of,
            k => k,
        };
        let given = match &v.value {
            WitnessExpr::Expr(e) => {
                check_kinds(e, &kinds, out);
                kinds.of(e)
            }
            WitnessExpr::Literal(rows) => {
                for e in rows.iter().flatten() {
                    if kinds.of(e) != Kind::Scalar {
                        out.push(InputError::new(e.span, "an entry of a literal is a number"));
                    }
                }
                if rows[0].len() == 1 && wanted == Kind::Vector { Kind::Vector } else { Kind::Matrix }
            }
        };
        // Shapes are compared when the witness is evaluated; kinds here.
        let scalar = |k: &Kind| matches!(k, Kind::Scalar | Kind::Integer);
        let fits = scalar(&wanted) == scalar(&given);
        if !fits {
            out.push(InputError::new(v.span, format!("`{}` is {}, and this value is {}", text::expr(&v.lhs), wanted.describe(), given.describe())));
        }
    }
}

/// The equations a rule states: its relation, its companions, each `=` step of its proof.
fn rule_equations(rule: &Rule) -> Vec<(&Expr, &Expr)> {
    let mut out = Vec::new();
    if rule.relation.rel == Rel::Eq {
        out.push((&rule.relation.lhs, &rule.relation.rhs));
    }
    if let Some(Proof::Induction { companions, .. }) = &rule.proof {
        out.extend(companions.iter().map(|c| (&c.relation.lhs, &c.relation.rhs)));
    }
    for chain in rule.chains() {
        let mut before = &chain.first;
        for step in &chain.steps {
            if step.rel == Rel::Eq {
                out.push((before, &step.rhs));
            }
            before = &step.rhs;
        }
    }
    out
}

/// A scalar equals no vector or matrix (but 0, the zero one): read as a rewrite, `a .* ones = a`
/// would put a scalar where a vector was (`A*(a .* ones)` becoming `a*A`).
/// Nor does a vector or matrix equal one of another declared shape: `p = q` for p of length n
/// and q of length m (both zero, say) would let a rewrite change a length.
fn equation_kinds(
    a: &Expr,
    b: &Expr,
    kinds: &Kinds,
    decls: &std::collections::HashMap<String, Decl>,
    shapes_of: &Declared,
    out: &mut Vec<InputError>,
) {
    let scalar = |x: &Expr| kinds.of(x) == Kind::Scalar;
    let zero = |x: &Expr| x.rational().is_some_and(|q| q == num_rational::BigRational::from_integer(0.into()));
    if scalar(a) != scalar(b) && !zero(a) && !zero(b) {
        out.push(
            InputError::new(a.span.to(b.span), "one side is a scalar and the other a vector or matrix")
                .help("for a vector of equal entries, write `c*ones`"),
        );
        return;
    }
    if scalar(a) || scalar(b) {
        return;
    }
    // The shapes the declarations give the sides; a side with a mismatch inside is blamed for
    // that, not again for the equation.
    let inferred = |x: &Expr| {
        let mut fits = true;
        let shape = shapes::shape(x, kinds, shapes_of, &mut |_, _| fits = false);
        (shape, fits)
    };
    let ((sa, fits_a), (sb, fits_b)) = (inferred(a), inferred(b));
    if !fits_a || !fits_b {
        return;
    }
    // Where no shape is known (`x + 1`), the lengths of the vectors a side is made of: a vector
    // (by kind) is made of vectors of its own length only.
    let lengths = |x: &Expr| {
        let mut out = BTreeSet::new();
        vector_lengths(x, kinds, decls, &mut out);
        out
    };
    let (la, lb) = (lengths(a), lengths(b));
    let differ = match (&sa, &sb) {
        (Some(x), Some(y)) => shapes::shapes_differ(x, y),
        _ => kinds.of(a) == Kind::Vector && kinds.of(b) == Kind::Vector && !la.is_empty() && !lb.is_empty() && la.is_disjoint(&lb),
    };
    if differ {
        out.push(
            InputError::new(a.span.to(b.span), "the two sides have different declared shapes").help("an equation holds between values of one size"),
        );
    }
}

/// The declared lengths of the vectors (names and sequence elements) `e` is made of.
fn vector_lengths(e: &Expr, kinds: &Kinds, decls: &std::collections::HashMap<String, Decl>, out: &mut BTreeSet<String>) {
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Index(n, _) if kinds.of(e) == Kind::Vector => {
            out.extend(decls.get(n).and_then(|d| d.shape.first().cloned()));
        }
        _ => e.children().into_iter().for_each(|c| vector_lengths(c, kinds, decls, out)),
    }
}

/// Every expression a rule holds: its relation, conditions, proof and checks.
fn rule_expressions(rule: &Rule) -> Vec<&Expr> {
    let mut out = vec![&rule.relation.lhs, &rule.relation.rhs];
    for c in &rule.conditions {
        out.extend([&c.lhs, &c.rhs]);
    }
    for chain in rule.chains() {
        out.push(&chain.first);
        out.extend(chain.steps.iter().map(|s| &s.rhs));
    }
    if let Some(Proof::Induction { companions, .. }) = &rule.proof {
        out.extend(companions.iter().flat_map(|c| [&c.relation.lhs, &c.relation.rhs]));
    }
    for check in &rule.checks {
        if let Check::Trajectory { relation, .. } | Check::MonteCarlo { relation, .. } = check {
            out.extend([&relation.lhs, &relation.rhs]);
        }
        if let Check::Derivative { jacobian, of, .. } = check {
            out.extend([jacobian, of]);
        }
    }
    out
}

/// A gradient's body that mentions something that may depend on its variable.
fn gradient_errors(e: &Expr, defined: &HashSet<String>, out: &mut Vec<InputError>) {
    if let ExprKind::Builtin(Func::Grad, args) = &e.kind
        && let Some((part, message)) = super::gradient::body_problem(&args[0], &args[1], defined)
    {
        out.push(InputError::new(part.span, message).help("`grad(E, x)` holds every name of `E` but `x` fixed, so they must be free values"));
    }
    e.children().into_iter().for_each(|c| gradient_errors(c, defined, out));
}

/// The kind errors of one expression (what `derivcheck audit` asks of a mutant).
pub fn kind_errors(e: &Expr, kinds: &Kinds) -> Vec<InputError> {
    let mut out = Vec::new();
    check_kinds(e, kinds, &mut out);
    out
}

fn check_kinds(e: &Expr, kinds: &Kinds, out: &mut Vec<InputError>) {
    let scalar = |x: &Expr| kinds.of(x) == Kind::Scalar;
    // Element-wise operations take vectors and scalars (a scalar is that multiple of `ones`),
    // never matrices: `I .* A` is not `A`, as a scalar reading of `I` would have it.
    let entrywise_operand = |x: &Expr| matches!(kinds.of(x), Kind::Scalar | Kind::Vector);
    let error = match &e.kind {
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) if scalar(a) != scalar(b) && !(entrywise_operand(a) && entrywise_operand(b)) => {
            Some(("a scalar and a matrix cannot be added".to_string(), "for `A + c I`, write `A + c*I`".to_string()))
        }
        ExprKind::Bin(BinOp::Div, _, b) if !scalar(b) => Some((
            "division by a vector or matrix is not defined".into(),
            "for a matrix, write the inverse, `A^-1`; for vectors entry by entry, `x ./ y`".into(),
        )),
        ExprKind::Builtin(f @ (Func::EMul | Func::EDiv | Func::SqrtElem | Func::AbsElem | Func::SignElem), args)
            if !args.iter().all(entrywise_operand) || args.iter().all(scalar) =>
        {
            Some((
                format!("`{}` works entry by entry on vectors (and scalars beside them), not on matrices", f.written()),
                "name the vector first (`let y: vector n`, `def …: y = A*x`)".into(),
            ))
        }
        ExprKind::Bin(BinOp::Pow, _, b) if !scalar(b) => Some(("an exponent must be a scalar".into(), "write the power of a scalar".into())),
        ExprKind::BigOp { lo, hi, .. } if [lo, hi].iter().any(|b| b.rational().is_some_and(|q| !q.is_integer())) => Some((
            "the bounds of a sum or product must be whole numbers: its index runs over the integers between them".into(),
            "write the whole numbers the index runs between".into(),
        )),
        ExprKind::Builtin(f @ (Func::Exp | Func::Log | Func::Sqrt), args) if !scalar(&args[0]) => {
            Some((format!("`{}` takes a scalar", f.name()), "`exp_elem` applies exp entry by entry".into()))
        }
        ExprKind::Builtin(Func::Abs, args) if !scalar(&args[0]) => {
            Some(("`abs` takes a scalar".into(), "for a vector, `norm(x)` or `maxabs(x)` (its largest entry in absolute value)".into()))
        }
        ExprKind::Builtin(f @ (Func::Dot | Func::Norm | Func::Diag | Func::MaxAbs), args) if args.iter().any(scalar) => {
            Some((format!("`{}` takes vectors", f.name()), "for a number, use `abs` of it or its square".into()))
        }
        ExprKind::Builtin(Func::Grad, args)
            if !super::gradient::is_scalar_form(&args[0], kinds) || kinds.of(&args[1]) != Kind::Vector || !super::gradient::is_variable(&args[1]) =>
        {
            Some((
                "`grad(E, x)` takes a scalar expression `E` and a vector `x`: a name or a sequence's element".into(),
                "`grad(gamma*norm(theta)^2, theta)`".into(),
            ))
        }
        ExprKind::Builtin(f @ (Func::Opnorm | Func::LambdaMax | Func::Rank), args) if scalar(&args[0]) => {
            Some((format!("`{}` takes a matrix", f.name()), "for a number, use `abs` of it".into()))
        }
        _ => None,
    };
    if let Some((message, help)) = error {
        out.push(InputError::new(e.span, message).help(help));
        return;
    }
    // Children with their bound variables' kinds.
    let children = e.children();
    for (i, c) in children.iter().enumerate() {
        match e.binds() {
            Some(var) if i == children.len() - 1 => {
                let mut inner = kinds.clone();
                inner.insert(var, if matches!(e.kind, ExprKind::Expect { .. }) { Kind::Vector } else { Kind::Integer });
                check_kinds(c, &inner, out);
            }
            _ => check_kinds(c, kinds, out),
        }
    }
}

/// What a definition's left side defines: a name, a sequence or a function.
fn head(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) => Some(n),
        _ => None,
    }
}

/// The occurrences of `name` in `e` (sequence elements, applications, or the bare name).
fn occurrences<'e>(e: &'e Expr, name: &str, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) if n == name => out.push(e),
        _ => {}
    }
    if e.binds() != Some(name) {
        e.children().into_iter().for_each(|c| occurrences(c, name, out));
    }
}

/// Whether `v[j]` on the right of `v[i] = …` is at a strictly earlier index: `j = i - k` with a
/// whole constant `k >= 1`.
fn earlier(defined: &Expr, used: &Expr) -> bool {
    let (ExprKind::Index(_, a), ExprKind::Index(_, b)) = (&defined.kind, &used.kind) else { return false };
    let (Some(i), Some(j)) = (Affine::of(&a[0]), Affine::of(&b[0])) else { return false };
    let difference = i.plus(&j.scale(&(-1).into()));
    difference.terms.is_empty() && difference.constant >= 1.into()
}

fn check_definitions(doc: &Document, out: &mut Vec<InputError>) {
    let defs: Vec<&Rule> = doc.rules().filter(|r| r.kind == RuleKind::Def).collect();
    // One definition per thing, but for a sequence's base cases at constant indices.
    let mut by_head: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for d in &defs {
        if let Some(h) = head(&d.relation.lhs) {
            by_head.entry(h).or_default().push(d);
        }
    }
    for (h, rules) in &by_head {
        let general: Vec<&&Rule> = rules.iter().filter(|r| !constant_index(&r.relation.lhs)).collect();
        let constant: Vec<&&Rule> = rules.iter().filter(|r| constant_index(&r.relation.lhs)).collect();
        if general.len() > 1 {
            out.push(
                InputError::new(general[1].span, format!("`{}` defines `{h}` again (so does `{}`)", general[1].name, general[0].name))
                    .help("define it once; give the other one as a `given` if it is a hypothesis"),
            );
        }
        let mut seen: Vec<(String, &str)> = Vec::new();
        for c in &constant {
            let index = match &c.relation.lhs.kind {
                ExprKind::Index(_, args) => super::text::expr(&args[0]),
                _ => String::new(),
            };
            if let Some((_, other)) = seen.iter().find(|(i, _)| *i == index) {
                out.push(InputError::new(c.span, format!("`{}` defines `{h}[{index}]` again (so does `{other}`)", c.name)));
            }
            seen.push((index.clone(), &c.name));
            // A base case must lie outside the general definition's range.
            for g in &general {
                if let (ExprKind::Index(_, pattern), ExprKind::Index(_, at)) = (&g.relation.lhs.kind, &c.relation.lhs.kind)
                    && covers(g, &pattern[0], &at[0])
                {
                    out.push(
                        InputError::new(c.span, format!("`{}` defines `{h}[{index}]`, which `{}` defines too", c.name, g.name))
                            .help("a base case goes where the general definition's `for` conditions do not hold"),
                    );
                }
            }
        }
    }
    // No definition refers to what it defines, but at an earlier index; no cycles between them.
    let defined: BTreeSet<&str> = by_head.keys().copied().collect();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &defs {
        let Some(h) = head(&d.relation.lhs) else { continue };
        for other in &defined {
            let mut found = Vec::new();
            occurrences(&d.relation.rhs, other, &mut found);
            let immediate: Vec<&&Expr> = found.iter().filter(|u| *other != h || !earlier(&d.relation.lhs, u)).collect();
            if immediate.is_empty() {
                continue;
            }
            if *other == h {
                out.push(
                    InputError::new(immediate[0].span, format!("`{}` defines `{h}` by itself", d.name))
                        .label("not at an earlier index")
                        .help("a sequence may refer to itself at an earlier index, `v[t-1]`; nothing else may refer to itself"),
                );
            } else if !matches!(d.relation.lhs.kind, ExprKind::Index(..)) || !found.iter().all(|u| earlier(&d.relation.lhs, u)) {
                edges.entry(h).or_default().insert(other);
            }
        }
    }
    if let Some(cycle) = cycle(&edges) {
        let first = defs.iter().find(|d| head(&d.relation.lhs) == Some(cycle[0])).map_or(Default::default(), |d| d.span);
        out.push(
            InputError::new(first, format!("these definitions refer to each other in a cycle: {}", cycle.join(" → ")))
                .help("define one of them from the others only"),
        );
    }
}

fn constant_index(lhs: &Expr) -> bool {
    matches!(&lhs.kind, ExprKind::Index(_, args) if Affine::of(&args[0]).is_some_and(|a| a.terms.is_empty()))
}

/// Whether the general definition `g` (of `v[pattern]`) applies at the constant index `at`:
/// its conditions, with the pattern's variable solved, all hold there.
fn covers(g: &Rule, pattern: &Expr, at: &Expr) -> bool {
    let (Some(p), Some(a)) = (Affine::of(pattern), Affine::of(at)) else { return true };
    let [(var, k)] = p.terms.iter().collect::<Vec<_>>()[..] else { return true };
    let shifted = a.constant - &p.constant;
    if !(&shifted % k).eq(&0.into()) {
        return false;
    }
    let value = Expr::num(num_rational::BigRational::from_integer(shifted / k), at.span);
    let map = std::collections::HashMap::from([(var.clone(), value)]);
    g.conditions.iter().all(|c| {
        let (l, r) = (Affine::of(&c.lhs.substitute(&map)), Affine::of(&c.rhs.substitute(&map)));
        match (l, r) {
            (Some(l), Some(r)) if l.terms.is_empty() && r.terms.is_empty() => c.rel.holds(l.constant.cmp(&r.constant)),
            // A condition on another variable may hold: assume it does.
            _ => true,
        }
    })
}

/// A cycle in a graph, if there is one.
fn cycle<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = path.iter().position(|p| *p == n) {
            let mut c = path[at..].to_vec();
            c.push(n);
            return Some(c);
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    fn errors(code: &str) -> Vec<String> {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{code}\n```\n"));
        match crate::language::parse(&crate::source::split(id, &files).unwrap()) {
            Ok(_) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.message).collect(),
        }
    }

    #[test]
    fn kinds_must_fit() {
        assert!(errors("let W: matrix n x n\nlet x: vector n\nclaim c: (W + 2)*x = W*x + 2*x")[0].contains("cannot be added"));
        assert!(errors("let x: vector n\nclaim c: exp(x) = x")[0].contains("takes a scalar"));
        assert!(errors("let W: matrix n x n\nclaim c: (W + 2*I)*W = W*W + 2*W").is_empty());
    }

    #[test]
    fn definitions_define() {
        assert!(errors("let z: scalar\ndef d: z = z + 1")[0].contains("by itself"));
        assert!(errors("let v: sequence\ndef a: v[t] = v[t] + 1 for t >= 0")[0].contains("by itself"));
        assert!(errors("let v: sequence\ndef a: v[t] = 1 for t >= 0\ndef b: v[t] = 2 for t >= 0")[0].contains("again"));
        assert!(errors("let v: sequence\ndef a: v[t] = v[t-1] for t >= 0\ndef b: v[0] = 2")[0].contains("too"));
        assert!(errors("let x, y: scalar\ndef a: x = y + 1\ndef b: y = x")[0].contains("cycle"));
        assert!(errors("let v, w: sequence\ndef a: v[t] = w[t] for t >= 0\ndef b: w[t] = v[t] + 1 for t >= 0")[0].contains("cycle"));
        // A recursion down to a base case, and sequences defined from each other at earlier indices.
        assert!(
            errors("let v, w: sequence\ndef a: v[t] = 2*v[t-1] + w[t-1] for t >= 1\ndef b: v[0] = 1\ndef c: w[t] = v[t-1] for t >= 1").is_empty()
        );
    }
}
