//! One existence claim: its witness joins the models as the values of the names it lists
//! (nothing else is drawn), and the claim's conditions, with every `given` and `assume` about
//! those names that the claim does not set aside, are evaluated there.

use std::collections::{BTreeSet, HashMap};

use num_rational::BigRational;

use super::claim::closed_over_definitions;
use super::results::ClaimResult;
use super::{Knowledge, givens};
use crate::diagnostic::SourceFiles;
use crate::evidence::witness::{self, Condition, Decision, LIMIT_STEPS, Labeled, Literal};
use crate::language::affine::canonical_indices;
use crate::language::ast::{Existence, Expr, ExprKind, Kind, Rel, WitnessExpr};
use crate::language::{Kinds, builtins, text};
use crate::model::{Definition, Model, int};
use crate::prove::{Context, Direction, Rewrite};
use crate::verdict::{Finding, FindingKind, Status};

pub(super) fn check(claim: &Existence, known: &Knowledge, kinds: &Kinds, files: &SourceFiles, seed: u64) -> ClaimResult {
    let line = files.line(claim.span);
    // No random points: the witness is one.
    let mut result = ClaimResult::without_proof(&claim.name, line, seed);
    let problem = |message: String| Finding { span: claim.span, line, kind: FindingKind::Problem, message };
    let Some(w) = &claim.witness else {
        result.problems.push(problem(format!("`{}` has no witness", claim.name)));
        result.status = Status::Unproved;
        return result;
    };
    let witness_line = files.line(w.span);
    let mut spec = known.model.clone();
    spec.kinds = kinds.clone();
    // What the witness must satisfy is checked below, not drawn into.
    spec.closed = true;
    spec.assumptions.clear();
    spec.bounded.clear();
    spec.means.clear();
    spec.unusable = None;
    spec.sizes.extend(w.with.sizes.iter().cloned());
    spec.float_functions.extend(w.with.functions.iter().cloned());
    let mut literals = Vec::new();
    let mut definitions = Vec::new();
    let mut inferred: HashMap<String, usize> = HashMap::new();
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut trouble: Vec<String> = Vec::new();
    for v in &w.values {
        let head = v.lhs.head().cloned().unwrap_or_default();
        match &v.value {
            WitnessExpr::Expr(e) => {
                shown.push((text::expr(&v.lhs), text::expr(e)));
                let vars = v.vars.clone();
                definitions.push(Definition { name: "the witness".into(), lhs: v.lhs.clone(), rhs: e.clone(), vars, conditions: vec![] });
            }
            WitnessExpr::Literal(rows) => {
                let entries: Vec<String> = rows.iter().map(|r| format!("[{}]", r.iter().map(text::expr).collect::<Vec<_>>().join(", "))).collect();
                shown.push((text::expr(&v.lhs), format!("[{}]", entries.join(", "))));
                // A literal's shape sets the sizes of the dimensions it is declared with.
                let dims = spec.shapes.get(&head).cloned().unwrap_or_default();
                for (dim, size) in dims.iter().zip([rows.len(), rows[0].len()]) {
                    let stated = w.with.sizes.iter().find(|(d, _)| d == dim).map(|(_, s)| *s).or_else(|| dim.parse().ok());
                    let earlier = inferred.insert(dim.clone(), size);
                    if let Some(s) = stated.or(earlier).filter(|s| *s != size) {
                        trouble.push(format!("`{head}` has {size} along `{dim}`, which is {s} elsewhere in the witness"));
                    }
                }
                literals.push(Literal { name: head, args: v.vars.is_empty().then(|| index_args(&v.lhs)), rows: rows.clone() });
            }
        }
    }
    spec.sizes.extend(inferred);
    for (f, c) in &w.with.functions {
        shown.push((f.clone(), c.clone()));
    }
    // A witness gives values to free names: one the file defines would be a second definition.
    trouble.extend(defined_elsewhere(claim, &spec));
    spec.definitions.splice(0..0, definitions);
    let conditions = conditions(claim, known, kinds, &spec, &mut trouble);
    let (mut exact, mut float, decisions) = witness::layers(&spec, &literals, &conditions, &shown);
    let aside: Vec<String> = claim.without.iter().map(|(g, _)| format!("`{g}`")).collect();
    if !aside.is_empty() {
        exact.detail.push_str(&format!("; set aside: {}", aside.join(", ")));
    }
    exact.line = Some(witness_line);
    float.line = Some(witness_line);
    result.evidence.extend([exact, float]);
    for t in trouble {
        result.problems.push(problem(t));
    }
    for (c, d) in conditions.iter().zip(&decisions) {
        match d {
            Decision::Fails => result.problems.push(problem(format!("the witness at line {witness_line} does not satisfy {}: {}", c.label, c.text))),
            Decision::Undecided => result.problems.push(problem(format!("{}: {} cannot be decided at the witness", c.label, c.text))),
            Decision::Exact | Decision::FloatOnly => {}
        }
    }
    result.status = if !result.problems.is_empty() {
        Status::NotShown
    } else if decisions.contains(&Decision::FloatOnly) {
        // A condition only the floats can evaluate (a limit, `tanh`) is evidence, not proof.
        Status::Supported
    } else {
        Status::Verified
    };
    result
}

/// The claim's conditions, then every premise about the names the witness gives (through
/// what the file defines from them) that the claim does not set aside.
fn conditions(claim: &Existence, known: &Knowledge, kinds: &Kinds, spec: &crate::model::ModelSpec, trouble: &mut Vec<String>) -> Vec<Labeled> {
    let mut out = Vec::new();
    for (k, (c, limit)) in claim.conditions.iter().zip(&claim.limits).enumerate() {
        let condition = match limit {
            Some(var) => Condition::Limit { relation: c.clone(), var: var.clone() },
            None => Condition::Relation(c.clone()),
        };
        let text = match limit {
            Some(var) => format!("`{} as {var} -> inf`", text::relation(c)),
            None => format!("`{}`", text::relation(c)),
        };
        out.push(Labeled { label: format!("condition {}", k + 1), text, condition });
    }
    let witnessed: BTreeSet<String> = claim.names.iter().filter_map(|n| n.head().cloned()).collect();
    // Integers stay whole: the witnessed ones, and those the file defines from them.
    let mut reached = witnessed.clone();
    for c in &claim.conditions {
        givens::mentioned(&c.lhs, &mut reached);
        givens::mentioned(&c.rhs, &mut reached);
    }
    for name in closed_over_definitions(reached, spec) {
        let sequence = match kinds.get(&name) {
            Some(Kind::Integer) => false,
            Some(Kind::Sequence(of)) if **of == Kind::Integer => true,
            _ => continue,
        };
        out.push(Labeled {
            label: "integrality".into(),
            text: format!("`{name}` takes whole values"),
            condition: Condition::Integer(name, sequence),
        });
    }
    for (name, _) in &claim.without {
        if !known.premises.iter().any(|p| p.name == *name) {
            trouble.push(format!("`{name}` defines a value, which a witness cannot set aside"));
        }
    }
    for p in &known.premises {
        if claim.without.iter().any(|(g, _)| *g == p.name) {
            continue;
        }
        let mut names = BTreeSet::new();
        givens::mentioned(&p.relation.lhs, &mut names);
        givens::mentioned(&p.relation.rhs, &mut names);
        if closed_over_definitions(names, spec).is_disjoint(&witnessed) {
            continue;
        }
        let label = if p.name == "assume" { "assumption".to_string() } else { format!("given `{}`", p.name) };
        let text = format!("`{}`", text::relation(&p.relation));
        let condition = match &p.rule {
            None => Condition::Relation(p.relation.clone()),
            Some(rule) => match givens::function_bound(rule, kinds) {
                Some((f, bound)) => {
                    let strict = matches!(rule.relation.rel, crate::language::ast::Rel::Lt | crate::language::ast::Rel::Gt);
                    let concrete = spec.float_functions.get(&f).and_then(|c| builtins::concrete(c));
                    match concrete.and_then(|c| c.sup_abs.map(|s| (c.sup_attained, s))) {
                        Some((attained, (num, den))) => {
                            Condition::FunctionBound { sup: BigRational::new(num.into(), den.into()), attained, bound, strict }
                        }
                        None => Condition::Undecidable(format!("`{f}` is not a concrete bounded function at the witness")),
                    }
                }
                None => Condition::Undecidable(format!(
                    "`{}` is a statement for every value of its variables, which one witness cannot check; set it aside with `without {}` if the claim does not need it",
                    p.name, p.name
                )),
            },
        };
        out.push(Labeled { label, text, condition });
    }
    // Vectors and matrices have their declared shapes (`I` for an n × m matrix does not).
    for item in &claim.names {
        let Some(head) = item.head() else { continue };
        let element = match kinds.get(head) {
            Some(Kind::Sequence(of)) => (**of).clone(),
            Some(k) => k.clone(),
            None => continue,
        };
        let dims = spec.shapes.get(head).cloned().unwrap_or_default();
        let size = |d: Option<&String>| d.and_then(|d| d.parse().ok().or_else(|| spec.sizes.get(d).copied()));
        let shape = match element {
            Kind::Vector => size(dims.first()).map(|r| (r, 1)),
            Kind::Matrix => size(dims.first()).zip(size(dims.get(1))),
            _ => continue,
        };
        // A whole sequence is checked at its first element.
        let value = match (&item.kind, kinds.get(head)) {
            (ExprKind::Name(_), Some(Kind::Sequence(_))) => {
                Expr { kind: ExprKind::Index(head.clone(), vec![Expr::int(0, item.span)]), span: item.span }
            }
            _ => item.clone(),
        };
        if let Some((rows, cols)) = shape {
            let text = format!("`{}` is {rows}×{cols}", text::expr(&value));
            out.push(Labeled { label: "shape".into(), text, condition: Condition::Shape { value, rows, cols } });
        }
    }
    // The witness must be a model of the file: every definition that depends on it has a
    // value, and definitions of the same thing agree.
    let mut depends = witnessed.clone();
    loop {
        let before = depends.len();
        for d in &known.model.definitions {
            let mut uses = BTreeSet::new();
            givens::mentioned(&d.rhs, &mut uses);
            if let Some(head) = d.lhs.head()
                && (depends.contains(head) || !uses.is_disjoint(&depends))
            {
                depends.insert(head.clone());
            }
        }
        if depends.len() == before {
            break;
        }
    }
    for d in &known.model.definitions {
        let relevant = d.lhs.head().is_some_and(|h| depends.contains(h));
        let var = match (&d.lhs.kind, d.vars.as_slice()) {
            (ExprKind::Call(..), _) | (_, [_, _, ..]) => continue,
            (_, [(v, _)]) => Some(v.clone()),
            (_, []) => None,
        };
        if relevant {
            let text = format!("`{} = {}`", text::expr(&d.lhs), text::expr(&d.rhs));
            out.push(Labeled { label: format!("definition `{}`", d.name), text, condition: Condition::Defined { lhs: d.lhs.clone(), var } });
        }
    }
    out
}

/// The listed names the file already defines somewhere the witness would give them a value.
fn defined_elsewhere(claim: &Existence, spec: &crate::model::ModelSpec) -> Vec<String> {
    let mut model: Model<BigRational> = Model::new(spec, 0);
    model.reset();
    let mut out = Vec::new();
    for item in &claim.names {
        let Some(head) = item.head() else { continue };
        let at: Vec<Vec<i64>> = match (&item.kind, spec.kinds.get(head)) {
            (ExprKind::Index(..), _) => vec![index_args(item)],
            (_, Some(Kind::Sequence(_))) => (0..=LIMIT_STEPS).map(|t| vec![t]).collect(),
            (_, Some(Kind::Function)) => {
                if spec.definitions.iter().any(|d| matches!(&d.lhs.kind, ExprKind::Call(f, _) if f == head)) {
                    out.push(format!("`{head}` is defined by the file, so a witness cannot give it"));
                }
                continue;
            }
            _ => vec![vec![]],
        };
        for args in at {
            let values: Vec<_> = args.iter().map(|a| int::<BigRational>(*a)).collect();
            if let Ok(Some(by)) = model.defined_by(head, &values) {
                let shown = if args.is_empty() { head.clone() } else { format!("{head}[{}]", args[0]) };
                out.push(format!("`{shown}` is defined by `{by}`, so a witness cannot give it a value"));
                break;
            }
        }
    }
    out
}

/// The whole-number indices of `v[3]` (none for a name).
fn index_args(e: &Expr) -> Vec<i64> {
    match &e.kind {
        ExprKind::Index(_, args) => args.iter().filter_map(|a| a.rational().and_then(|r| r.to_integer().try_into().ok())).collect(),
        _ => vec![],
    }
}

/// A claim or lemma of the file, verified above, that states a `!=` condition's two sides
/// equal (`u[t] = w[t] for t >= 0` against `u[1] != w[1]`): then no witness can exist, and the
/// claim is refuted, naming it.
pub(super) fn contradicted(claim: &Existence, known: &Knowledge, kinds: &Kinds, verified: &dyn Fn(&str) -> bool) -> Option<String> {
    // A claim that sets givens aside lives outside the setting the verified claims hold in.
    if !claim.without.is_empty() {
        return None;
    }
    let ctx = Context { kinds: kinds.clone(), ..Context::default() };
    for c in claim.conditions.iter().filter(|c| c.rel == Rel::Ne) {
        for rule in known.rules.iter().filter(|r| verified(r.name())) {
            for (from, to) in [(&c.lhs, &c.rhs), (&c.rhs, &c.lhs)] {
                for direction in [Direction::Forward, Direction::Backward] {
                    let instance = rule.at_root(&canonical_indices(from), direction, &ctx, &mut Vec::new());
                    if instance.is_some_and(|i| i == canonical_indices(to)) {
                        return Some(format!(
                            "`{}` (verified above) shows `{} = {}`, so no witness can make them differ",
                            rule.name(),
                            text::expr(from),
                            text::expr(to)
                        ));
                    }
                }
            }
        }
    }
    None
}
