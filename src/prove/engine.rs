//! The computer-algebra engine: Symbolica, on one thread, behind plain data.
//!
//! Symbolica's unlicensed runtime aborts the process when a second thread, or a second
//! process of the same user, uses it at the same time. So:
//! - every Symbolica call runs on one engine thread that the process starts once and keeps;
//!   callers send a [`Term`] (our type) and get strings and booleans back;
//! - before that thread starts, the process takes an advisory lock on a file in the system
//!   temp dir, and waits (saying so on stderr) while another derivcheck process holds it.
//!
//! Architecture invariant: this is the only file that imports `symbolica`, and no Symbolica
//! type appears in its public items.

use std::collections::HashMap;
use std::fs::File;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use num_rational::BigRational;
use symbolica::atom::{Atom, AtomCore};
use symbolica::parse;

/// An expression for the engine: commutative sums and products, powers, numbers, symbols and
/// function applications. Function arguments keep their order, which is how ordered (matrix)
/// products are represented by the caller.
///
/// Every name of a `Sym` or `Fn` reaches the engine as an opaque symbol of its own (`zs3`),
/// never as written: the engine gives names it knows (`gamma`, `tan`, `zeta`, …) meanings of
/// its own. Only `Known` names one of the engine's functions, and only the built-ins table
/// (`language::builtins`, `engine` column) chooses which.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    Num(BigRational),
    Sym(String),
    Fn(String, Vec<Term>),
    /// One of the engine's own functions, with the engine's meaning (`exp`, `log`, `sqrt`).
    Known(&'static str, Vec<Term>),
    Add(Vec<Term>),
    Mul(Vec<Term>),
    Pow(Box<Term>, Box<Term>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("the algebra engine failed on this expression: {0}")]
    Failed(String),
    #[error("the algebra engine is not running: {0}")]
    Unavailable(String),
}

enum Request {
    /// Canonical forms, as printed text (names as the caller gave them).
    Canonical(Vec<Term>),
    /// Whether `a - b` normalizes to zero; and the normalized difference.
    Difference(Term, Term),
}

thread_local! {
    /// The namespace of this thread's requests (see [`in_namespace`]).
    static NAMESPACE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs `work` with its names in namespace `key`: each namespace has identifiers of its own,
/// numbered in the order of its own requests. The engine orders the terms of a normal form by
/// its identifiers, so work that runs beside other work (claims checked on every core) gets
/// the same printed forms whatever the others asked before it, as long as its own requests
/// come in a fixed order and its key is its own.
pub fn in_namespace<T>(key: u64, work: impl FnOnce() -> T) -> T {
    let outer = NAMESPACE.replace(key);
    let out = work();
    NAMESPACE.set(outer);
    out
}

enum Reply {
    Canonical(Vec<Normal>),
    Difference(bool, Normal),
}

/// A normal form as printed text, or the engine's undefined values: its normal form holds
/// an indeterminate (`0/0`, `0^0`), an infinity, the imaginary unit (`sqrt(-1)`) or the
/// inverse of the zero matrix, which compare equal to themselves and must never make two
/// sides "equal".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normal {
    Defined(String),
    Undefined(String),
}

impl Normal {
    /// The engine prints its indeterminate `¿`, infinities `⧞`, `∞` and `i` as `𝑖`; those are
    /// looked for in its own text (`raw`), where every user name is an opaque symbol, so a
    /// name spelled with `𝑖` is not one. `text` is the same form with the names read back.
    fn of(raw: &str, text: String) -> Normal {
        if raw.contains(['¿', '⧞', '∞', '𝑖']) || text.contains("#inv(0)") { Normal::Undefined(text) } else { Normal::Defined(text) }
    }

    pub fn text(&self) -> &str {
        match self {
            Normal::Defined(t) | Normal::Undefined(t) => t,
        }
    }
}

type Job = (u64, Request, Sender<Result<Reply, EngineError>>);

/// A handle to the process's one engine thread. Cheap to share between threads.
pub struct Engine {
    jobs: Mutex<Sender<Job>>,
    /// Held for the life of the process: the advisory cross-process lock.
    _lock: Option<File>,
}

static ENGINE: OnceLock<Result<Engine, EngineError>> = OnceLock::new();

/// The engine, started on first use.
pub fn engine() -> Result<&'static Engine, EngineError> {
    ENGINE.get_or_init(Engine::start).as_ref().map_err(|e| e.clone())
}

impl Engine {
    fn start() -> Result<Engine, EngineError> {
        let lock = take_process_lock();
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("derivcheck-engine".into())
            .spawn(move || {
                let mut names = Names::default();
                for (namespace, request, reply) in rx {
                    names.namespace = namespace;
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| names.run(request)))
                        .unwrap_or_else(|p| Err(EngineError::Failed(panic_text(p))));
                    let _ = reply.send(result);
                }
            })
            .map_err(|e| EngineError::Unavailable(e.to_string()))?;
        Ok(Engine { jobs: Mutex::new(tx), _lock: lock })
    }

    fn call(&self, request: Request) -> Result<Reply, EngineError> {
        let (tx, rx) = channel();
        self.jobs
            .lock()
            .map_err(|_| EngineError::Unavailable("engine handle poisoned".into()))?
            .send((NAMESPACE.get(), request, tx))
            .map_err(|_| EngineError::Unavailable("engine thread ended".into()))?;
        rx.recv().map_err(|_| EngineError::Unavailable("engine thread ended".into()))?
    }

    /// Canonical forms of several terms; equal strings mean equal expressions.
    pub fn canonical(&self, terms: Vec<Term>) -> Result<Vec<Normal>, EngineError> {
        match self.call(Request::Canonical(terms))? {
            Reply::Canonical(v) => Ok(v),
            Reply::Difference(..) => unreachable!("reply matches request"),
        }
    }

    /// Whether `a - b` is zero after normalization, and the normalized `a - b` as text.
    pub fn difference(&self, a: Term, b: Term) -> Result<(bool, Normal), EngineError> {
        match self.call(Request::Difference(a, b))? {
            Reply::Difference(zero, text) => Ok((zero, text)),
            Reply::Canonical(_) => unreachable!("reply matches request"),
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Takes the advisory lock; waits with a message while another process holds it. Without a
/// usable temp dir the engine still starts (one process alone is always fine).
fn take_process_lock() -> Option<File> {
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let path = std::env::temp_dir().join(format!("derivcheck-symbolica-{user}.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).ok()?;
    if file.try_lock().is_err() {
        eprintln!(
            "derivcheck: waiting for another derivcheck process to finish (Symbolica's unlicensed runtime allows one at a time; lock: {})",
            path.display()
        );
        file.lock().ok()?;
    }
    Some(file)
}

/// Maps caller names to opaque engine identifiers (`zs0`, `zs1`, … in namespace 0; `zs1fn0`,
/// … in namespace 0x1f), and back.
#[derive(Default)]
struct Names {
    /// The namespace of the request being served.
    namespace: u64,
    to_engine: HashMap<(u64, String), String>,
    from_engine: HashMap<String, String>,
    /// Identifiers given so far, per namespace.
    given: HashMap<u64, usize>,
}

/// The engine functions a `Known` term may name: nothing else reaches the engine by name.
const KNOWN: &[&str] = &["exp", "log", "sqrt"];

impl Names {
    fn run(&mut self, request: Request) -> Result<Reply, EngineError> {
        match request {
            Request::Canonical(terms) => {
                let mut out = Vec::with_capacity(terms.len());
                for t in &terms {
                    let raw = self.normal(t)?.to_string();
                    out.push(Normal::of(&raw, self.back(&raw)));
                }
                Ok(Reply::Canonical(out))
            }
            Request::Difference(a, b) => {
                // An undefined side makes the difference undefined, even where it cancels
                // (`i - i` is 0).
                for side in [&a, &b] {
                    let text = self.normal(side)?.to_string();
                    let normal = Normal::of(&text, self.back(&text));
                    if let Normal::Undefined(_) = normal {
                        return Ok(Reply::Difference(false, normal));
                    }
                }
                let diff = Term::Add(vec![a, Term::Mul(vec![Term::Num(BigRational::from_integer((-1).into())), b])]);
                let atom = self.normal(&diff)?;
                let raw = atom.to_string();
                let normal = Normal::of(&raw, self.back(&raw));
                Ok(Reply::Difference(atom.is_zero() && matches!(normal, Normal::Defined(_)), normal))
            }
        }
    }

    /// Function arguments are normalized first, so `f(2*(x+1))` and `f(2*x+2)` agree.
    fn normal(&mut self, term: &Term) -> Result<Atom, EngineError> {
        let text = self.text(term)?;
        let atom = parse!(&text);
        Ok(atom.expand().together().expand_num())
    }

    fn text(&mut self, term: &Term) -> Result<String, EngineError> {
        Ok(match term {
            Term::Num(n) => format!("({})", n),
            Term::Sym(s) => self.name(s),
            Term::Fn(f, args) => format!("{}({})", self.name(f), self.args(args)?),
            Term::Known(f, args) => {
                if !KNOWN.contains(f) {
                    return Err(EngineError::Failed(format!("`{f}` is not one of the engine functions derivcheck uses")));
                }
                format!("{f}({})", self.args(args)?)
            }
            Term::Add(xs) if xs.is_empty() => "0".into(),
            Term::Mul(xs) if xs.is_empty() => "1".into(),
            Term::Add(xs) => self.join(xs, "+")?,
            Term::Mul(xs) => self.join(xs, "*")?,
            Term::Pow(b, e) => format!("({})^({})", self.text(b)?, self.text(e)?),
        })
    }

    fn args(&mut self, args: &[Term]) -> Result<String, EngineError> {
        let mut parts = Vec::with_capacity(args.len());
        for a in args {
            parts.push(format!("({})", self.normal(a)?));
        }
        Ok(parts.join(","))
    }

    fn join(&mut self, xs: &[Term], op: &str) -> Result<String, EngineError> {
        let mut parts = Vec::with_capacity(xs.len());
        for x in xs {
            parts.push(format!("({})", self.text(x)?));
        }
        Ok(parts.join(op))
    }

    /// The opaque engine identifier of a caller's name.
    fn name(&mut self, name: &str) -> String {
        let key = (self.namespace, name.to_string());
        if let Some(n) = self.to_engine.get(&key) {
            return n.clone();
        }
        let given = self.given.entry(self.namespace).or_insert(0);
        let engine_name = if self.namespace == 0 { format!("zs{given}") } else { format!("zs{:x}n{given}", self.namespace) };
        *given += 1;
        self.to_engine.insert(key, engine_name.clone());
        self.from_engine.insert(engine_name.clone(), name.to_string());
        engine_name
    }

    /// Printed engine text with the opaque identifiers turned back into the caller's names.
    fn back(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                if !word.is_empty() {
                    out.push_str(self.from_engine.get(&word).map_or(word.as_str(), |s| s.as_str()));
                    word.clear();
                }
                out.push(c);
            }
        }
        out.pop();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Term {
        Term::Sym(s.into())
    }

    fn int(n: i64) -> Term {
        Term::Num(BigRational::from_integer(n.into()))
    }

    #[test]
    fn normal_forms_agree_on_equal_polynomials_and_fractions() {
        let e = engine().unwrap();
        // (1-b)*x/(1-b) = x
        let a = Term::Mul(vec![
            Term::Add(vec![int(1), Term::Mul(vec![int(-1), sym("b")])]),
            sym("x"),
            Term::Pow(Box::new(Term::Add(vec![int(1), Term::Mul(vec![int(-1), sym("b")])])), Box::new(int(-1))),
        ]);
        assert!(e.difference(a, sym("x")).unwrap().0);
        let (zero, text) = e.difference(Term::Mul(vec![int(2), sym("x")]), sym("x")).unwrap();
        assert!(!zero);
        assert_eq!(text, Normal::Defined("x".into()));
    }

    #[test]
    fn function_arguments_are_normalized_and_order_is_kept() {
        let e = engine().unwrap();
        let f1 = Term::Fn("f".into(), vec![Term::Mul(vec![int(2), Term::Add(vec![sym("x"), int(1)])])]);
        let f2 = Term::Fn("f".into(), vec![Term::Add(vec![Term::Mul(vec![int(2), sym("x")]), int(2)])]);
        assert!(e.difference(f1, f2).unwrap().0);
        let ab = Term::Fn("mm".into(), vec![sym("A"), sym("B")]);
        let ba = Term::Fn("mm".into(), vec![sym("B"), sym("A")]);
        assert!(!e.difference(ab, ba).unwrap().0);
    }

    #[test]
    fn reserved_and_odd_names_round_trip() {
        let e = engine().unwrap();
        let forms = e.canonical(vec![Term::Add(vec![sym("e"), sym("x_1"), sym("zz0")])]).unwrap();
        let text = forms[0].text();
        assert!(text.contains('e') && text.contains("x_1") && text.contains("zz0"), "{text}");
    }

    /// Names the engine knows (`gamma(0)` is infinite, `tan(0)` is 0, `zeta(0)` is -1/2) mean
    /// nothing to it when they come from the caller.
    #[test]
    fn caller_names_are_opaque_to_the_engine() {
        let e = engine().unwrap();
        for name in [
            "gamma", "zeta", "tan", "tanh", "erf", "sinh", "cosh", "sec", "asin", "polylog", "sin", "cos", "abs", "exp", "log", "sqrt", "pi", "e",
            "i",
        ] {
            let applied = Term::Fn(name.into(), vec![int(0)]);
            let forms = e.canonical(vec![applied.clone(), Term::Sym(name.into())]).unwrap();
            assert_eq!(forms[0], Normal::Defined(format!("{name}(0)")), "{name}(0)");
            assert_eq!(forms[1], Normal::Defined(name.to_string()), "{name}");
            let (zero, _) = e.difference(Term::Add(vec![applied.clone(), sym("x")]), sym("x")).unwrap();
            assert!(!zero, "{name}(0) + x = x");
        }
    }

    #[test]
    fn undefined_values_are_never_a_normal_form() {
        let e = engine().unwrap();
        let inv = |t: Term| Term::Pow(Box::new(t), Box::new(int(-1)));
        let half = Term::Num(BigRational::new(1.into(), 2.into()));
        for t in [
            Term::Mul(vec![int(0), inv(int(0))]),
            inv(int(0)),
            Term::Pow(Box::new(int(0)), Box::new(int(0))),
            Term::Known("log", vec![int(0)]),
            Term::Pow(Box::new(int(-1)), Box::new(half)),
            Term::Mul(vec![int(0), Term::Known("log", vec![int(0)])]),
        ] {
            let form = e.canonical(vec![t.clone()]).unwrap().remove(0);
            assert!(matches!(form, Normal::Undefined(_)), "{t:?} gave {form:?}");
            let (zero, _) = e.difference(t.clone(), t).unwrap();
            assert!(!zero, "an undefined value does not equal itself");
        }
    }

    #[test]
    fn a_namespaces_forms_do_not_depend_on_other_namespaces_requests() {
        let e = engine().unwrap();
        let product = || Term::Mul(vec![sym("a"), sym("b"), Term::Fn("f".into(), vec![sym("b")])]);
        let first = in_namespace(0xa1, || e.canonical(vec![product()]).unwrap());
        // Another namespace meets the names in the other order.
        in_namespace(0xa2, || {
            e.canonical(vec![Term::Fn("f".into(), vec![sym("b")])]).unwrap();
            e.canonical(vec![sym("b"), sym("a"), product()]).unwrap()
        });
        let again = in_namespace(0xa3, || e.canonical(vec![product()]).unwrap());
        assert_eq!(first, again);
        assert!(first[0].text().contains('a') && first[0].text().contains("f(b)"), "{:?}", first);
    }

    #[test]
    fn many_threads_share_the_engine_without_aborting() {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                std::thread::spawn(move || {
                    for j in 0..25 {
                        let x = Term::Add(vec![sym("x"), int(k * 100 + j)]);
                        let sq = Term::Pow(Box::new(x.clone()), Box::new(int(2)));
                        let expanded = Term::Add(vec![
                            Term::Pow(Box::new(sym("x")), Box::new(int(2))),
                            Term::Mul(vec![int(2 * (k * 100 + j)), sym("x")]),
                            int((k * 100 + j) * (k * 100 + j)),
                        ]);
                        assert!(engine().unwrap().difference(sq, expanded).unwrap().0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
